// @ts-check
/**
 * Diagnosis: reads the server (progress in words), then shows a one-line verdict and the
 * checklist with ✓ ! ✗ marks. Each item opens to what users see, why, the evidence, the version
 * note, links and the fixes on offer. An optional Odoo test login makes the live probe watch a
 * real session.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').DiagnosisView} DiagnosisView
 * @typedef {import('../types/api').Finding} Finding
 * @typedef {import('../types/api').InstanceChoice} InstanceChoice
 * @typedef {import('../types/api').ProbeInput} ProbeInput
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { exportReport } from "../report.js";
import { errorNotice, fill, h, progressLine, prose, statusMark } from "../dom.js";
import { count, form } from "../words.js";

/** Each status counted in words on the summary line (the engine's report says the same). */
const COUNTED = /** @type {const} */ ([
  ["fail", "problem", "problems"],
  ["warn", "thing to improve", "things to improve"],
  ["ok", "check passed", "checks passed"],
  ["skip", "check not applicable", "checks not applicable"],
  ["unknown", "check could not be made", "checks could not be made"],
]);

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const body = h("div", { class: "diagnosis__body" });
  const screen = h("section", { class: "screen screen--diagnosis", "aria-labelledby": "diagnosis-title" },
    h("h1", { id: "diagnosis-title" }, `Diagnosis of ${server.name}`),
    body);
  if (ctx.params?.diagnosis) show(ctx, body, ctx.params.diagnosis);
  else run(ctx, body, null);
  return screen;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ProbeInput | null} probe */
async function run(ctx, body, probe) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const progress = progressLine("Reading the server's setup…");
  body.replaceChildren(h("p", { class: "lead" }, "The app only reads: Odoo's processes and config file, nginx (the web server in front of Odoo), the session files and a few database settings. Nothing is changed."), progress.el);
  ctx.state.busy = true;
  ctx.refreshNav();
  try {
    const d = await ctx.api.diagnose(server.id, probe, progress.onEvent);
    ctx.state.diagnosis = d;
    show(ctx, body, d);
  } catch (e) {
    const error = /** @type {AppError} */ (e);
    const details = /** @type {any} */ (error.details);
    if ((error.code === "several_instances" || error.code === "instance_not_found") && details?.kind === "severalInstances") chooseInstance(ctx, body, error, details.instances);
    else {
      const retry = h("button", { class: "button", type: "button" }, "Diagnose again");
      retry.addEventListener("click", () => run(ctx, body, probe));
      body.replaceChildren(errorNotice("The diagnosis could not finish.", error), h("div", { class: "actions" }, retry));
      retry.focus();
    }
  } finally {
    ctx.state.busy = false;
    ctx.refreshNav();
  }
}

/** By HTTP port, as the backend sends them (kept here too: the order is part of what people read). @param {InstanceChoice[]} list */
const byPort = (list) => [...list].sort((a, b) => a.httpPort - b.httpPort || a.value.localeCompare(b.value));

/** The state of an instance in words, with a mark that is never colour alone. @param {InstanceChoice} i */
function stateBadge(i) {
  const status = i.state === "running" ? "ok" : i.state === "crashLoop" ? "fail" : "warn";
  return h("span", { class: `instance__state instance__state--${i.state}`, "data-state": i.state }, statusMark(/** @type {any} */ (status)), ` ${i.stateText}`);
}

/** "Port 8069 · Odoo 17.0 · supervisor program odoo" @param {InstanceChoice} i */
const instanceLine = (i) => `Port ${i.httpPort} · ${i.version ? `Odoo ${i.version}` : "version unknown"} · ${i.service}`;

/** Switches the diagnosis to another instance of the host, then diagnoses it. @param {ScreenContext} ctx @param {HTMLElement} body @param {string} value */
async function switchTo(ctx, body, value) {
  await ctx.api.chooseInstance(/** @type {any} */ (ctx.state.server).id, value);
  ctx.state.diagnosis = null;
  await run(ctx, body, null);
}

/**
 * Several Odoo servers on the host: each with its port, version, service manager and state (a
 * down or crash-looping one is a choice too: it is often the one that needs help). Nothing is
 * focused in advance, so Enter never picks one blindly.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {AppError} error @param {InstanceChoice[]} instances
 */
function chooseInstance(ctx, body, error, instances) {
  const status = h("div", { "aria-live": "polite" });
  const buttons = byPort(instances).map((i) => {
    const b = h("button", { class: "button button--quiet instance", type: "button", "data-value": i.value, "data-port": String(i.httpPort), "data-testid": "instance-choice" },
      h("span", { class: "instance__line" }, instanceLine(i)),
      h("span", { class: "instance__config mono" }, i.config ?? "no config file (options on the command line)"),
      stateBadge(i),
      i.lastError && h("span", { class: "instance__error mono" }, i.lastError));
    b.addEventListener("click", async () => {
      for (const other of buttons) other.setAttribute("disabled", "");
      try {
        await switchTo(ctx, body, i.value);
      } catch (e) {
        for (const other of buttons) other.removeAttribute("disabled");
        status.replaceChildren(errorNotice("", /** @type {AppError} */ (e)));
      }
    });
    return b;
  });
  const title = h("h2", { tabindex: "-1", "data-testid": "choose-instance-title" }, error.message);
  body.replaceChildren(h("div", { class: "card", "data-testid": "choose-instance" },
    title,
    h("p", null, error.hint, " The app remembers your choice for this server."),
    h("div", { class: "instance-list", role: "group", "aria-label": "Odoo servers on this host" }, ...buttons),
    status));
  // The heading, not a choice, takes the focus: reading starts there and Enter picks nothing.
  title.focus();
}

/**
 * Which databases this Odoo serves: only those are read and ever written. When its config cannot
 * decide (no filter over several databases, a host-based filter behind a catch-all server), the
 * person chooses; nothing is guessed.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {DiagnosisView} d
 */
function databaseScope(ctx, body, d) {
  const scope = d.odoo.databases;
  if (!scope) return null;
  const serverId = /** @type {any} */ (ctx.state.server).id;
  const status = h("div", { "aria-live": "polite" });
  /** @param {string[]} names @param {HTMLElement} button */
  const choose = async (names, button) => {
    button.setAttribute("disabled", "");
    try {
      await ctx.api.chooseDatabases(serverId, names);
      ctx.state.diagnosis = null;
      await run(ctx, body, null);
    } catch (e) {
      button.removeAttribute("disabled");
      status.replaceChildren(errorNotice("", /** @type {AppError} */ (e)));
    }
  };
  if (scope.undecided) {
    const boxes = scope.undecided.map((name) => /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", value: name, "data-testid": "database-option" })));
    const go = h("button", { class: "button", type: "button", "data-testid": "choose-databases-go", disabled: true }, "Diagnose with these");
    for (const b of boxes) b.addEventListener("change", () => go.toggleAttribute("disabled", !boxes.some((x) => x.checked)));
    go.addEventListener("click", () => choose(boxes.filter((x) => x.checked).map((x) => x.value), go));
    return h("div", { class: "notice notice--warn", role: "status", "data-testid": "choose-databases" },
      h("p", { class: "notice__title" }, "Which database do people use?"),
      h("p", null, `This Odoo can serve ${count(scope.undecided.length, "database")} and its configuration does not say which one people reach (${scope.rule}). The app reads and changes only the ones you choose; the checks that need the database wait for your choice.`),
      h("fieldset", { class: "choices" }, h("legend", { class: "visually-hidden" }, "Databases"),
        ...boxes.map((b) => h("label", { class: "choice" }, b, " ", h("span", { class: "mono" }, b.value)))),
      h("div", { class: "actions" }, go),
      status);
  }
  const again = scope.chosen && h("button", { class: "button button--quiet", type: "button", "data-testid": "choose-databases-again" }, "Choose other databases");
  if (again) again.addEventListener("click", () => choose([], again));
  return h("div", { class: "database-scope", "data-testid": "database-scope" },
    h("p", { class: "muted" },
      `${form(scope.served.length, "Database")} of this Odoo: `,
      h("span", { class: "mono" }, scope.served.length > 0 ? scope.served.join(", ") : "none"),
      ` (${scope.rule}). Only ${form(scope.served.length, "it is", "these are")} read and ever changed.`),
    again,
    status);
}

/** With several instances on the host: which one this diagnosis is about, and a switch. @param {ScreenContext} ctx @param {HTMLElement} body @param {DiagnosisView} d */
function instanceSwitch(ctx, body, d) {
  if (d.odoo.instances.length < 2) return null;
  const select = /** @type {HTMLSelectElement} */ (h("select", { id: "instance-select", "data-testid": "instance-select" },
    ...byPort(d.odoo.instances).map((i) => h("option", { value: i.value, selected: i.value === d.odoo.instance },
      `${instanceLine(i)} — ${i.stateText}`))));
  const go = h("button", { class: "button button--quiet", type: "button", "data-testid": "switch-instance", disabled: true }, "Diagnose this one");
  select.addEventListener("change", () => go.toggleAttribute("disabled", select.value === d.odoo.instance));
  const status = h("div", { "aria-live": "polite" });
  go.addEventListener("click", async () => {
    go.setAttribute("disabled", "");
    try {
      await switchTo(ctx, body, select.value);
    } catch (e) {
      go.removeAttribute("disabled");
      status.replaceChildren(errorNotice("", /** @type {AppError} */ (e)));
    }
  });
  return h("div", { class: "instance-switch", "data-testid": "instance-switch" },
    h("label", { for: "instance-select" }, `${count(d.odoo.instances.length, "Odoo server")} on ${d.host}; this diagnosis is about:`),
    h("div", { class: "instance-switch__row" }, select, go),
    status);
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {DiagnosisView} d */
function show(ctx, body, d) {
  const counts = /** @type {Record<string, number>} */ ({});
  for (const c of d.checks) counts[c.status] = (counts[c.status] ?? 0) + 1;
  const fixButton = d.fixOrder.length > 0 && h("button", { class: "button", type: "button", "data-testid": "start-fix" },
    `Fix step by step (${count(d.fixOrder.length, "item")})`);
  if (fixButton) fixButton.addEventListener("click", () => ctx.go("fix"));
  const report = h("button", { class: "button button--quiet", type: "button", "data-testid": "export-report" }, "Export a report");
  report.addEventListener("click", () => exportReport(ctx.api, /** @type {any} */ (ctx.state.server).id));
  const again = h("button", { class: "button button--quiet", type: "button", "data-testid": "diagnose-again" }, "Diagnose again");
  again.addEventListener("click", () => run(ctx, body, null));

  fill(body,
    h("div", { class: `verdict verdict--${d.verdict.status}`, "data-testid": "verdict", "data-status": d.verdict.status },
      statusMark(d.verdict.status),
      h("p", { class: "verdict__line" }, d.verdict.line)),
    h("p", { class: "muted", "data-testid": "odoo-summary" },
      `Odoo ${d.odoo.version ?? "(version unknown)"}, ${d.odoo.service}${d.odoo.config ? `, config ${d.odoo.config}` : ""}.`,
      d.odoo.probed ? " Checked with a real test login." : ""),
    instanceSwitch(ctx, body, d),
    databaseScope(ctx, body, d),
    h("p", { class: "counts", "data-testid": "counts" }, ...COUNTED.filter(([s]) => counts[s]).map(([s, one, many]) =>
      h("span", { class: "count", "data-status": s }, statusMark(s), ` ${count(counts[s], one, many)}`))),
    h("div", { class: "actions" }, fixButton, report, again),
    d.fixOrder.length === 0 && h("div", { class: "notice notice--ok", role: "status", "data-testid": "nothing-to-fix" },
      h("p", { class: "notice__title" }, d.verdict.status !== "ok" ? "Nothing the app can fix by itself." : counts.unknown ? "Nothing to fix among the checks that could be made." : "Nothing to fix: every check passed."),
      d.verdict.status !== "ok" && h("p", { class: "notice__hint" }, "Open the items marked ! or ✗ below: each says what to do by hand.")),
    h("h2", { class: "section-title" }, "The checklist"),
    h("ul", { class: "checklist", "aria-label": "Checks" }, ...d.checks.map((f) => checkItem(f, d.fixOrder.includes(f.id), (url) => { ctx.api.openLink(url).catch(() => {}); }, d.checks))),
    probeForm(ctx, body));
}

/**
 * One checklist item; problems start open. The engine decides who fixes a problem: "Can be fixed
 * here" only for what the app will really change (it is then a step of the wizard); otherwise
 * "Needs you", with why and the steps a person takes.
 * Another check named in its text (by its title in quotes) links to that item.
 * @param {Finding} f @param {boolean} fixable @param {(url: string) => void} openLink
 * @param {{id: string, title: string}[]} [checks] the whole checklist, for those links
 */
export function checkItem(f, fixable, openLink, checks = []) {
  const remedy = f.remedy;
  const needsYou = remedy.kind === "needs_you" ? remedy : null;
  // What a person must do is never out of sight: those items start open too.
  const open = f.status === "fail" || (needsYou !== null && f.status === "warn");
  /** @param {string} title @param {Node | string | null | false} content */
  const part = (title, content) => content ? h("div", { class: "check__part" }, h("h4", null, title), typeof content === "string" ? h("p", null, ...prose(content, checks)) : content) : null;
  return h("li", { class: "check", "data-check-id": f.id, "data-status": f.status, "data-testid": "check" },
    h("details", { open },
      h("summary", { class: "check__summary" },
        statusMark(f.status),
        h("span", { class: "check__title" }, f.title),
        fixable && remedy.kind === "here" && h("span", { class: "badge", "data-testid": "fix-here" }, "Can be fixed here"),
        needsYou && h("span", { class: "badge badge--you", "data-testid": "needs-you" }, "Needs you"),
        h("span", { class: "check__line" }, ...prose(f.summary, checks))),
      h("div", { class: "check__body" },
        needsYou && h("div", { class: "check__part check__you", "data-testid": "needs-you-steps" },
          h("h4", null, "What you do"),
          h("p", null, ...prose(needsYou.why, checks)),
          h("ol", { class: "you-steps" }, ...needsYou.steps.map((s) => h("li", null, ...prose(s, checks))))),
        part("What users see", f.users_see),
        part("Why", f.why),
        part("Evidence", f.evidence.length > 0 && h("ul", { class: "evidence" }, ...f.evidence.map((e) =>
          h("li", null, h("span", { class: "evidence__source" }, e.source), h("pre", { class: "evidence__excerpt", tabindex: "0" }, e.excerpt))))),
        part("Version note", f.version_note),
        // what the app would change is on offer only when the app will change it
        part("Fixes on offer", !needsYou && f.fixes.length > 0 && h("ul", null, ...f.fixes.map((x) =>
          h("li", null, ...prose(x.title, checks), x.choices.length > 0 && h("span", { class: "muted" }, ` — choices: ${x.choices.map((c) => c.label).join("; ")}`))))),
        part("Learn more", f.references.length > 0 && h("ul", { class: "links" }, ...f.references.map((r) =>
          h("li", null, h("a", { href: r.url, class: "link", onclick: (/** @type {Event} */ e) => { e.preventDefault(); openLink(r.url); } }, r.label),
            h("span", { class: "muted" }, " — opens in your browser"))))),
        !f.users_see && !f.why && !f.evidence.length && h("p", { class: "muted" }, "Nothing more to say about this one."))));
}

/** The optional live probe: a real Odoo login shows how the session cookie really behaves. @param {ScreenContext} ctx @param {HTMLElement} body */
function probeForm(ctx, body) {
  const field = (/** @type {string} */ id, /** @type {string} */ label, /** @type {Record<string, any>} */ attrs) =>
    h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, autocomplete: "off", ...attrs }));
  const form = h("form", { class: "form" },
    h("p", { class: "field__help" }, "The app logs in once with this account, reads the session cookie Odoo sends, and logs out. Use a test user; the password is not stored."),
    h("div", { class: "form__grid" },
      field("probe-login", "Odoo login", { placeholder: "test.user@example.com" }),
      field("probe-password", "Password", { type: "password" }),
      field("probe-url", "Address users type (optional)", { placeholder: "https://odoo.example.com" })),
    h("div", { class: "actions" }, h("button", { class: "button button--quiet", type: "submit" }, "Diagnose again with this login")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (form.querySelector(`#${id}`)).value;
    if (!value("probe-login").trim()) return;
    run(ctx, body, { login: value("probe-login"), password: value("probe-password"), publicUrl: value("probe-url").trim() || undefined });
  });
  return h("details", { class: "advanced probe" }, h("summary", null, "Test with a real Odoo login (optional)"), form);
}
