// @ts-check
/**
 * Diagnosis: reads the server (progress in words), then shows a one-line verdict and the
 * checklist with ✓ ! ✗ marks. Each item opens to what users see, why, the evidence, the version
 * note, links and the fixes on offer. An optional Odoo test login makes the live probe watch a
 * real session.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').DiagnosisView} DiagnosisView
 * @typedef {import('../types/api').Finding} Finding
 * @typedef {import('../types/api').ProbeInput} ProbeInput
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { exportReport } from "../report.js";
import { STATUS, errorNotice, fill, h, progressLine, statusMark } from "../dom.js";

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
    if (error.code === "several_instances" && details?.kind === "severalInstances") chooseInstance(ctx, body, error, details.instances);
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

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {AppError} error @param {{label: string, value: string}[]} instances */
function chooseInstance(ctx, body, error, instances) {
  const buttons = instances.map((i) => {
    const b = h("button", { class: "button button--quiet instance", type: "button", "data-value": i.value }, i.label);
    b.addEventListener("click", async () => {
      try {
        await ctx.api.chooseInstance(/** @type {any} */ (ctx.state.server).id, i.value);
        run(ctx, body, null);
      } catch (e) {
        body.append(errorNotice("", /** @type {AppError} */ (e)));
      }
    });
    return b;
  });
  body.replaceChildren(h("div", { class: "card", "data-testid": "choose-instance" },
    h("h2", null, error.message),
    h("p", null, error.hint, " The app remembers your choice for this server."),
    h("div", { class: "instance-list" }, ...buttons)));
  buttons[0]?.focus();
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {DiagnosisView} d */
function show(ctx, body, d) {
  const counts = /** @type {Record<string, number>} */ ({});
  for (const c of d.checks) counts[c.status] = (counts[c.status] ?? 0) + 1;
  const fixButton = d.fixOrder.length > 0 && h("button", { class: "button", type: "button", "data-testid": "start-fix" },
    `Fix step by step (${d.fixOrder.length} ${d.fixOrder.length === 1 ? "item" : "items"})`);
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
      d.odoo.instances > 1 ? ` One of ${d.odoo.instances} Odoo servers on ${d.host}.` : "",
      d.odoo.probed ? " Checked with a real test login." : ""),
    h("p", { class: "counts" }, ...["fail", "warn", "ok", "skip", "unknown"].filter((s) => counts[s]).map((s) =>
      h("span", { class: "count" }, statusMark(/** @type {any} */ (s)), ` ${counts[s]} ${STATUS[/** @type {import('../types/api').Status} */ (s)].word.toLowerCase()}`))),
    h("div", { class: "actions" }, fixButton, report, again),
    d.fixOrder.length === 0 && h("div", { class: "notice notice--ok", role: "status", "data-testid": "nothing-to-fix" },
      h("p", { class: "notice__title" }, d.verdict.status === "ok" ? "Nothing to fix: every check passed." : "Nothing the app can fix by itself."),
      d.verdict.status !== "ok" && h("p", { class: "notice__hint" }, "Open the items marked ! or ✗ below: each says what to do by hand.")),
    h("h2", { class: "section-title" }, "The checklist"),
    h("ul", { class: "checklist", "aria-label": "Checks" }, ...d.checks.map((f) => checkItem(f, d.fixOrder.includes(f.id), (url) => { ctx.api.openLink(url).catch(() => {}); }))),
    probeForm(ctx, body));
}

/** One checklist item; problems start open. @param {Finding} f @param {boolean} fixable @param {(url: string) => void} openLink */
export function checkItem(f, fixable, openLink) {
  const open = f.status === "fail";
  /** @param {string} title @param {Node | string | null | false} content */
  const part = (title, content) => content ? h("div", { class: "check__part" }, h("h4", null, title), typeof content === "string" ? h("p", null, content) : content) : null;
  return h("li", { class: "check", "data-check-id": f.id, "data-status": f.status, "data-testid": "check" },
    h("details", { open },
      h("summary", { class: "check__summary" },
        statusMark(f.status),
        h("span", { class: "check__title" }, f.title),
        fixable && h("span", { class: "badge" }, "Can be fixed here"),
        h("span", { class: "check__line" }, f.summary)),
      h("div", { class: "check__body" },
        part("What users see", f.users_see),
        part("Why", f.why),
        part("Evidence", f.evidence.length > 0 && h("ul", { class: "evidence" }, ...f.evidence.map((e) =>
          h("li", null, h("span", { class: "evidence__source" }, e.source), h("pre", { class: "evidence__excerpt", tabindex: "0" }, e.excerpt))))),
        part("Version note", f.version_note),
        part("Fixes on offer", f.fixes.length > 0 && h("ul", null, ...f.fixes.map((x) =>
          h("li", null, x.title, x.choices.length > 0 && h("span", { class: "muted" }, ` — choices: ${x.choices.map((c) => c.label).join("; ")}`))))),
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
