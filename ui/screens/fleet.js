// @ts-check
/**
 * Fleet: every saved server at a glance — its last verdict, Odoo version, how old that result is
 * and the check to start with — "Diagnose all" with each row's progress, a filter by problem,
 * and "Open" into the wizard for one server. Built for 50 servers: the table has fixed columns
 * and scrolls inside the content column, rows are updated in place (never rebuilt), so nothing
 * jumps while results arrive.
 * @typedef {import('../types/api').FleetRow} FleetRow
 * @typedef {import('../types/api').LastResult} LastResult
 * @typedef {import('../types/api').ServerEntry} ServerEntry
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ProgressEvent} ProgressEvent
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 * @typedef {{ server: ServerEntry, last: LastResult | null, running: boolean, tr: HTMLElement, verdict: HTMLElement, version: HTMLElement, age: HTMLElement, worst: HTMLElement }} Row
 */
import { STATUS, errorNotice, fill, h, statusMark } from "../dom.js";
import { count } from "../words.js";

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const run = h("button", { class: "button", type: "button", "data-testid": "diagnose-all", disabled: true }, "Diagnose all");
  const filter = /** @type {HTMLSelectElement} */ (h("select", { id: "fleet-filter", "data-testid": "fleet-filter", disabled: true },
    h("option", { value: "" }, "every server")));
  const summary = h("p", { class: "fleet__summary", role: "status", "aria-live": "polite", "data-testid": "fleet-summary" });
  const body = h("div", { class: "fleet__body", "aria-busy": "true" },
    h("p", { class: "progress", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Looking for your servers…"));
  const screen = h("section", { class: "screen screen--fleet", "aria-labelledby": "fleet-title" },
    h("h1", { id: "fleet-title" }, "Fleet"),
    h("p", { class: "lead" }, "Every saved server with its last diagnosis. “Diagnose all” reads them a few at a time and changes nothing; a server that needs you (a host key to trust, a password) says so and the others go on."),
    h("div", { class: "fleet__bar" },
      run,
      h("div", { class: "fleet__filter" }, h("label", { for: "fleet-filter" }, "Only servers with"), filter),
      summary),
    body);

  ctx.api.fleetOverview().then(
    (rows) => show(ctx, { body, run, filter, summary }, rows),
    (/** @type {AppError} */ error) => {
      body.removeAttribute("aria-busy");
      body.replaceChildren(errorNotice("Your servers could not be loaded.", error));
    },
  );
  return screen;
}

/**
 * @param {ScreenContext} ctx
 * @param {{ body: HTMLElement, run: HTMLElement, filter: HTMLSelectElement, summary: HTMLElement }} parts
 * @param {FleetRow[]} list
 */
function show(ctx, parts, list) {
  const { body, run, filter, summary } = parts;
  body.removeAttribute("aria-busy");
  if (!list.length) {
    body.replaceChildren(h("div", { class: "card empty", "data-testid": "fleet-empty" },
      h("h2", null, "No servers yet"),
      h("p", null, "Add servers on the Servers screen; they all show here.")));
    return;
  }
  /** @type {Map<string, Row>} */
  const rows = new Map();
  const tbody = h("tbody");
  for (const item of list) {
    const row = makeRow(ctx, item);
    rows.set(item.server.id, row);
    tbody.append(row.tr);
  }
  body.replaceChildren(h("div", { class: "fleet__scroll", tabindex: "0", role: "region", "aria-label": "Servers and their last results" },
    h("table", { class: "fleet", "data-testid": "fleet-table" },
      h("colgroup", null, ...["name", "verdict", "version", "age", "worst", "open"].map((c) => h("col", { class: `fleet__col--${c}` }))),
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, "Server"), h("th", { scope: "col" }, "Last verdict"), h("th", { scope: "col" }, "Odoo"),
        h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "Start with"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Open")))),
      tbody)));

  const refilter = () => applyFilter(rows, filter, summary);
  filter.addEventListener("change", refilter);
  rebuildFilter(rows, filter);
  refilter();
  run.removeAttribute("disabled");

  // Ages ("3 h ago") move on while the screen is open; the timer ends with the screen.
  const timer = setInterval(() => {
    if (!body.isConnected) return clearInterval(timer);
    for (const row of rows.values()) if (row.last && !row.running) fill(row.age, age(row.last.at));
  }, 30_000);

  run.addEventListener("click", async () => {
    run.setAttribute("disabled", "");
    let done = 0;
    const total = rows.size;
    summary.textContent = `Diagnosing: 0 of ${total} done…`;
    for (const row of rows.values()) setRunning(row, false, true);
    /** @param {ProgressEvent} event */
    const onEvent = (event) => {
      if (event.event === "serverStarted") {
        const row = rows.get(event.data.serverId);
        if (row) setRunning(row, true);
      } else if (event.event === "serverFinished") {
        const row = rows.get(event.data.serverId);
        if (!row) return;
        row.last = event.data.result;
        row.running = false;
        paint(row);
        done += 1;
        summary.textContent = `Diagnosing: ${done} of ${total} done…`;
        rebuildFilter(rows, filter);
        applyFilter(rows, filter, null);
      }
    };
    try {
      const result = await ctx.api.diagnoseAll(onEvent);
      for (const item of result) {
        const row = rows.get(item.server.id);
        if (row && item.last) { row.last = item.last; row.running = false; paint(row); }
      }
      rebuildFilter(rows, filter);
      refilter();
      summary.textContent = tally(rows);
    } catch (e) {
      for (const row of rows.values()) if (row.running) { row.running = false; paint(row); }
      summary.replaceChildren(errorNotice("The servers could not all be diagnosed.", /** @type {AppError} */ (e)));
    } finally {
      run.removeAttribute("disabled");
    }
  });
}

/** @param {ScreenContext} ctx @param {FleetRow} item @returns {Row} */
function makeRow(ctx, item) {
  const { server } = item;
  const nameId = `fleet-${server.id}-name`;
  const open = h("button", { class: "button button--quiet", type: "button", "data-testid": "fleet-open", "aria-describedby": nameId }, "Open");
  open.addEventListener("click", () => {
    // The same as picking the server on the Servers screen: the wizard connects to it.
    ctx.state.server = server;
    ctx.state.connected = null;
    ctx.state.diagnosis = null;
    ctx.go("connect");
  });
  const verdict = h("td", { class: "fleet__verdict", "data-testid": "fleet-verdict" });
  const version = h("td", { class: "fleet__version", "data-testid": "fleet-version" });
  const age = h("td", { class: "fleet__age", "data-testid": "fleet-age" });
  const worst = h("td", { class: "fleet__worst", "data-testid": "fleet-worst" });
  const tr = h("tr", { "data-testid": "fleet-row", "data-server-id": server.id },
    h("th", { scope: "row", class: "fleet__name" },
      h("span", { id: nameId, class: "fleet__server" }, server.name),
      h("span", { class: "fleet__host mono" }, server.host)),
    verdict, version, age, worst,
    h("td", { class: "fleet__open" }, open));
  const row = { server, last: item.last, running: false, tr, verdict, version, age, worst };
  paint(row);
  return row;
}

/** @param {Row} row @param {boolean} running @param {boolean} [queued] */
function setRunning(row, running, queued = false) {
  row.running = running || queued;
  row.tr.setAttribute("data-state", running ? "running" : "queued");
  row.tr.setAttribute("aria-busy", "true");
  fill(row.verdict, h("span", { class: "fleet__progress" },
    running ? h("span", { class: "spinner", "aria-hidden": "true" }) : h("span", { class: "fleet__wait", "aria-hidden": "true" }, "…"),
    running ? "Diagnosing…" : "Waiting its turn"));
}

/** Writes a row's cells from its last result (the row itself stays, so nothing moves). @param {Row} row */
function paint(row) {
  const last = row.last;
  row.tr.removeAttribute("aria-busy");
  row.tr.setAttribute("data-state", last ? "done" : "none");
  row.tr.setAttribute("data-status", !last ? "none" : last.error ? (last.error.needsYou ? "needs-you" : "error") : (last.status ?? "unknown"));
  if (!last) {
    fill(row.verdict, h("span", { class: "muted" }, "Not diagnosed yet"));
    fill(row.version, "–");
    fill(row.age, "–");
    fill(row.worst, "–");
    return;
  }
  if (last.error) {
    fill(row.verdict, h("span", { class: "fleet__line" },
      last.error.needsYou ? h("span", { class: "badge badge--you" }, "Needs you") : statusMark("unknown"),
      h("span", { title: last.error.hint }, last.error.needsYou ? last.error.message.replace(/^Needs you: /, "") : `Not diagnosed: ${last.error.message}`)));
  } else {
    const status = last.status ?? "unknown";
    fill(row.verdict, h("span", { class: "fleet__line" }, statusMark(status),
      h("span", null, h("strong", null, STATUS[status].word), " ", h("span", { class: "fleet__words" }, last.line))));
  }
  fill(row.version, last.version ?? "–");
  fill(row.age, age(last.at));
  row.age.setAttribute("title", new Date(last.at * 1000).toLocaleString());
  fill(row.worst, last.worst ? h("span", { class: "fleet__clamp", title: last.worst.title }, last.worst.title) : "–");
}

/** The run's outcome in one line. @param {Map<string, Row>} rows */
function tally(rows) {
  const all = [...rows.values()].map((r) => r.last);
  const n = (/** @type {(l: LastResult) => boolean} */ test) => all.filter((l) => l && test(l)).length;
  const parts = [
    `${n((l) => l.status === "ok")} healthy`,
    `${n((l) => l.status === "fail")} with a problem`,
    `${n((l) => l.status === "warn")} to improve`,
    `${n((l) => Boolean(l.error?.needsYou))} need you`,
    `${n((l) => Boolean(l.error && !l.error.needsYou))} not diagnosed`,
  ];
  return `Diagnosed ${count(rows.size, "server")}: ${parts.join(", ")}.`;
}

/** "just now", "12 min ago", "3 h ago", "2 days ago". @param {number} at seconds since 1970 */
export function age(at) {
  const s = Math.max(0, Math.floor(Date.now() / 1000) - at);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${count(Math.floor(s / 86400), "day")} ago`;
}

/** The filter's choices from the results there are; the current choice is kept. @param {Map<string, Row>} rows @param {HTMLSelectElement} filter */
function rebuildFilter(rows, filter) {
  /** @type {Map<string, string>} */
  const checks = new Map();
  let failed = false;
  for (const row of rows.values()) {
    for (const p of row.last?.problems ?? []) checks.set(p.id, p.title);
    if (row.last?.error) failed = true;
  }
  const wanted = [["", "every server"], ["any", "any problem"],
    ...(failed ? [["error", "could not be diagnosed"]] : []),
    ...[...checks].sort((a, b) => a[1].localeCompare(b[1])).map(([id, title]) => [`check:${id}`, title])];
  const have = [...filter.options].map((o) => `${o.value}\u0000${o.textContent}`).join("\n");
  if (have === wanted.map(([v, t]) => `${v}\u0000${t}`).join("\n")) return;
  const current = filter.value;
  filter.replaceChildren(...wanted.map(([value, text]) => h("option", { value }, text)));
  filter.value = wanted.some(([v]) => v === current) ? current : "";
  filter.removeAttribute("disabled");
}

/** Hides the rows the filter leaves out (they stay in place: nothing else moves).
 * @param {Map<string, Row>} rows @param {HTMLSelectElement} filter @param {HTMLElement | null} summary */
function applyFilter(rows, filter, summary) {
  const choice = filter.value;
  let shown = 0;
  for (const row of rows.values()) {
    const last = row.last;
    const keep = choice === ""
      || (choice === "any" && Boolean(last && (last.error || last.problems.length)))
      || (choice === "error" && Boolean(last?.error))
      || (choice.startsWith("check:") && Boolean(last?.problems.some((p) => `check:${p.id}` === choice)));
    row.tr.hidden = !keep;
    if (keep) shown += 1;
  }
  if (summary) summary.textContent = choice === "" ? count(rows.size, "server") : `${shown} of ${count(rows.size, "server")} shown`;
}
