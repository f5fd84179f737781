// @ts-check
/**
 * Sessions: who is logged in to this server's Odoo right now (per database and person: sessions,
 * idle time, devices), the age chart against the lifetime, the "sessions are surviving" line after
 * a lifetime fix, the files Odoo cannot use, and "Log out…" for one person or everyone: a
 * preview, then the login typed to confirm (it cannot be undone). The engine reads and judges;
 * this screen only shows. No session id ever reaches it.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').SessionsReport} SessionsReport
 * @typedef {import('../types/api').Who} Who
 * @typedef {import('../types/api').UserSessions} UserSessions
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 * @typedef {{ label: string, count: number, against_lifetime: string }} Bucket
 * @typedef {{ width: number, height: number, plot: number[], description: string,
 *   bars: { x: number, y: number, w: number, h: number, cx: number, count: number, short: string, class: string }[],
 *   lines: { x: number, label: string, anchor: string, label_y: number }[],
 *   ticks: { y: number, label: string }[] }} Chart
 */
import { errorNotice, h, modal, progressLine } from "../dom.js";
import { count } from "../words.js";

/** "12 s", "9 min", "3 h", "2 days" (the engine's words for ages). @param {number} s */
export function age(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return count(Math.floor(s / 86400), "day");
}

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const body = h("div", { class: "sessions__body" });
  const screen = h("section", { class: "screen screen--sessions", "aria-labelledby": "sessions-title" },
    h("h1", { id: "sessions-title" }, `Who is logged in to ${server.name}`),
    h("p", { class: "lead" }, "Read from Odoo's own session files on the server, by Odoo's user. Sessions are counted and described; their ids never leave the server."),
    body);
  load(ctx, body);
  return screen;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {HTMLElement} [notice] */
async function load(ctx, body, notice) {
  const p = progressLine("Reading the sessions on the server…");
  body.replaceChildren(...(notice ? [notice] : []), p.el);
  try {
    const r = await ctx.api.listSessions(/** @type {any} */ (ctx.state.server).id);
    body.replaceChildren(...(notice ? [notice] : []), ...view(ctx, body, r));
  } catch (e) {
    body.replaceChildren(errorNotice("The sessions could not be read.", /** @type {AppError} */ (e)), backButton(ctx));
  }
}

/** @param {ScreenContext} ctx */
function backButton(ctx) {
  return h("div", { class: "actions" },
    h("button", { class: "button button--quiet", type: "button", onclick: () => ctx.go(ctx.state.diagnosis ? "diagnosis" : "servers") }, "Back"));
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {SessionsReport} r */
function view(ctx, body, r) {
  const out = [];
  out.push(h("p", { "data-testid": "sessions-summary" },
    `${count(r.live, "session")} with someone logged in; ${count(r.files, "file")} in ${r.sessions_dir} (read as ${r.read_as}). `,
    h("span", { class: "muted" }, r.instance)));
  if (r.surviving) out.push(h("p", { class: "notice", "data-testid": "sessions-surviving" }, r.surviving.line));
  for (const db of r.databases) {
    const rows = db.users.map((u) => userRow(ctx, body, db.db, r.databases.length > 1, u));
    out.push(h("div", { class: "card", "data-testid": "sessions-db", "data-db": db.db },
      h("h2", null, `Database ${db.db}`),
      h("p", { class: "muted" }, `Lifetime in force: ${db.lifetime} (${db.lifetime_set_by}).`),
      rows.length
        ? h("table", { class: "table", "data-testid": "sessions-table" },
            h("thead", null, h("tr", null, ...["Person", "Sessions", "Idle", "Oldest unwritten", "Devices", ""].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", null, ...rows))
        : h("p", { "data-testid": "sessions-nobody" }, "Nobody is logged in."),
      db.anonymous > 0 && h("p", { class: "muted" }, `And ${count(db.anonymous, "session")} nobody is logged in to (visitors, login pages).`),
      rows.length > 0 && h("div", { class: "actions" },
        h("button", { class: "button button--quiet", type: "button", "data-testid": "logout-everyone",
          onclick: () => logOut(ctx, body, { kind: "everyone", db: r.databases.length > 1 ? db.db : null }) }, "Log out everyone…"))));
  }
  out.push(chartView(r));
  if (r.bad.length) {
    out.push(h("div", { class: "card", "data-testid": "sessions-bad" },
      h("h2", null, `${count(r.bad.length, "file")} Odoo cannot use`),
      h("p", { class: "muted" }, `Named by a short hash and inode (find ${r.sessions_dir} -inum N), never by their names, which are session ids.`),
      h("ul", null, ...r.bad.map((b) => h("li", null, `${b.key}${b.inode != null ? ` (inode ${b.inode}${b.owner ? `, owner ${b.owner}, mode ${b.mode}` : ""})` : ""}: ${b.reason}`)))));
  }
  for (const n of r.notes) out.push(h("p", { class: "muted" }, n));
  out.push(backButton(ctx));
  return out;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {string} db @param {boolean} several @param {UserSessions} u */
function userRow(ctx, body, db, several, u) {
  const devices = u.devices.map((d) => [d.browser ?? "", d.platform ? `on ${d.platform}` : "", d.ip ? `from ${d.ip}` : ""].filter(Boolean).join(" ") || "unknown");
  return h("tr", { "data-testid": "sessions-user", "data-login": u.login },
    h("th", { scope: "row" }, u.login),
    h("td", { "data-testid": "sessions-count" }, String(u.sessions)),
    h("td", null, age(u.idle_secs)),
    h("td", null, age(u.oldest_written_secs)),
    h("td", null, devices.length ? devices.join("; ") : h("span", { class: "muted" }, "not recorded by this version")),
    h("td", null, h("button", { class: "button button--quiet", type: "button", "data-testid": "logout",
      onclick: () => logOut(ctx, body, { kind: "login", login: u.login, db: several ? db : null }) }, "Log out…")));
}

/** The report's chart: bars per age range, a line at each lifetime. @param {SessionsReport} r */
function chartView(r) {
  const c = /** @type {Chart | null} */ (r.chart);
  const buckets = /** @type {{ buckets: Bucket[] }} */ (r.ages).buckets;
  const table = h("table", { class: "table", "data-testid": "sessions-ages" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Unwritten for"), h("th", { scope: "col" }, "Session files"))),
    h("tbody", null, ...buckets.map((b) => h("tr", { "data-against": b.against_lifetime },
      h("td", null, b.label, b.against_lifetime === "past" ? " (past the lifetime)" : ""), h("td", null, String(b.count))))));
  if (!c) return h("div", { class: "card" }, h("h2", null, "Age of the sessions"), table);
  const NS = "http://www.w3.org/2000/svg";
  /** @param {string} tag @param {Record<string, string | number>} attrs @param {string} [text] */
  const s = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text != null) el.textContent = text;
    return el;
  };
  const svg = s("svg", { viewBox: `0 0 ${c.width} ${c.height}`, role: "img", "aria-label": c.description, class: "chart", "data-testid": "sessions-chart" });
  svg.append(s("title", {}, c.description));
  const [x0, y0, w, hgt] = c.plot;
  for (const t of c.ticks) {
    svg.append(s("line", { x1: x0, x2: x0 + w, y1: t.y, y2: t.y, stroke: "currentColor", "stroke-opacity": 0.15 }));
    svg.append(s("text", { x: x0 - 6, y: t.y + 4, "text-anchor": "end", "font-size": 11, fill: "currentColor" }, t.label));
  }
  for (const b of c.bars) {
    svg.append(s("rect", { x: b.x, y: b.y, width: b.w, height: b.h, class: `chart__bar chart__bar--${b.class}`, fill: b.class === "past" ? "#b45309" : "#2563eb" }));
    svg.append(s("text", { x: b.cx, y: y0 + hgt + 16, "text-anchor": "middle", "font-size": 11, fill: "currentColor" }, b.short));
    if (b.count) svg.append(s("text", { x: b.cx, y: b.y - 4, "text-anchor": "middle", "font-size": 11, fill: "currentColor" }, String(b.count)));
  }
  for (const l of c.lines) {
    svg.append(s("line", { x1: l.x, x2: l.x, y1: y0, y2: y0 + hgt, stroke: "#dc2626", "stroke-dasharray": "4 3" }));
    svg.append(s("text", { x: l.x + (l.anchor === "end" ? -4 : 4), y: l.label_y, "text-anchor": l.anchor, "font-size": 11, fill: "currentColor" }, l.label));
  }
  return h("div", { class: "card" }, h("h2", null, "Age of the sessions (since Odoo last wrote them)"), svg,
    h("details", null, h("summary", null, "As a table"), table));
}

/**
 * Preview, typed confirmation, log-out, outcome; then the list again.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {Who} who
 */
async function logOut(ctx, body, who) {
  const id = /** @type {any} */ (ctx.state.server).id;
  let preview;
  try {
    preview = await ctx.api.previewLogout(id, who);
  } catch (e) {
    load(ctx, body, errorNotice("Nothing to log out.", /** @type {AppError} */ (e)));
    return;
  }
  const input = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: "input", autocomplete: "off", spellcheck: "false", "data-testid": "logout-confirm-input", "aria-label": `Type ${preview.confirm_with} to confirm` }));
  const { dialog, result } = modal({
    title: who.kind === "everyone" ? "Log out everyone?" : `Log out ${preview.confirm_with}?`,
    testid: "logout-dialog",
    body: [
      h("p", { "data-testid": "logout-preview" }, preview.text),
      h("p", null, h("strong", null, "This cannot be undone.")),
      h("label", null, `Type ${preview.confirm_with} to confirm: `, input),
    ],
    buttons: [
      { label: "Cancel", value: "cancel" },
      { label: "Log out", value: "go", kind: "button--danger" },
    ],
  });
  const go = /** @type {HTMLButtonElement} */ (dialog.querySelector('button[data-value="go"]'));
  go.disabled = true;
  go.dataset.testid = "logout-go";
  input.addEventListener("input", () => { go.disabled = input.value.trim() !== preview.confirm_with; });
  if ((await result) !== "go") return;
  const typed = input.value.trim();
  const p = progressLine(`Logging out ${preview.confirm_with}…`);
  body.replaceChildren(p.el);
  try {
    const o = await ctx.api.logOut(id, who, typed);
    const notice = h("div", { class: `notice ${o.ok ? "" : "notice--error"}`, role: "status", "data-testid": "logout-outcome", "data-ok": String(o.ok) },
      h("p", null, o.text),
      o.record && h("p", { class: "muted" }, `Recorded in the history as ${o.record}: an action, with nothing to roll back.`));
    load(ctx, body, notice);
  } catch (e) {
    load(ctx, body, errorNotice("The log-out failed.", /** @type {AppError} */ (e)));
  }
}
