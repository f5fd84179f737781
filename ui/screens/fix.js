// @ts-check
/**
 * Fix, step by step: the failing items the app can fix, in the quick-fix checklist's order
 * (lifetime, canonical URL, sticky/shared sessions, proxy_mode, worker memory, HTTPS redirect,
 * external cleanup, proxy headers and cookies). Each shows the explanation, the current value,
 * the choices and the exact change (a preview from the engine); Include this fix / Skip / Back.
 * Including only adds the item to the plan: nothing reaches the server until the combined preview
 * of everything chosen (with the services that will restart) is confirmed on the last step.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ChangeSet} ChangeSet
 * @typedef {import('../types/api').Finding} Finding
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { diffView, errorNotice, h, progressLine, statusMark, titleOf } from "../dom.js";
import { count, form } from "../words.js";

/** @typedef {{ apply: boolean, value: string | null }} Decision */

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const d = /** @type {import('../types/api').DiagnosisView} */ (ctx.state.diagnosis);
  /** @type {Map<string, Decision>} */
  const decisions = ctx.params?.decisions ?? new Map();
  const body = h("div", { class: "fix__body" });
  const screen = h("section", { class: "screen screen--fix", "aria-labelledby": "fix-title" },
    h("h1", { id: "fix-title" }, "Fix step by step"),
    body);
  const items = d.fixOrder;
  /** @param {number} i */
  const showStep = (i) => {
    if (i < 0) return ctx.go("diagnosis", { diagnosis: d });
    if (i >= items.length) return showSummary(ctx, body, items, decisions, () => showStep(items.length - 1));
    stepView(ctx, body, i, items, decisions, showStep);
  };
  showStep(ctx.params?.step ?? 0);
  return screen;
}

/** The value picked for a finding's fix (or its default). @param {Finding} f @param {Decision | undefined} decision */
function initialValue(f, decision) {
  const offer = f.fixes[0];
  if (!offer || offer.choices.length === 0) return null;
  return decision?.value ?? offer.default ?? offer.choices[0].value;
}

/**
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {number} i @param {string[]} items
 * @param {Map<string, Decision>} decisions @param {(i: number) => void} go
 */
function stepView(ctx, body, i, items, decisions, go) {
  const d = /** @type {import('../types/api').DiagnosisView} */ (ctx.state.diagnosis);
  const f = /** @type {Finding} */ (d.checks.find((c) => c.id === items[i]));
  let value = initialValue(f, decisions.get(f.id));
  const preview = h("div", { class: "preview", "aria-live": "polite", "data-testid": "item-preview" });
  // "Apply" here read as "change the server now"; it only adds the item to the plan.
  const applyButton = h("button", { class: "button", type: "button", "data-testid": "apply-this", "aria-describedby": "include-note" }, "Include this fix");
  const skip = h("button", { class: "button button--quiet", type: "button", "data-testid": "skip" }, "Skip");
  const back = h("button", { class: "button button--quiet", type: "button", "data-testid": "back" }, i === 0 ? "Back to the checklist" : "Back");
  applyButton.addEventListener("click", () => { decisions.set(f.id, { apply: true, value }); go(i + 1); });
  skip.addEventListener("click", () => { decisions.set(f.id, { apply: false, value }); go(i + 1); });
  back.addEventListener("click", () => go(i - 1));

  const loadPreview = async () => {
    const p = progressLine("Preparing the exact change…");
    preview.replaceChildren(p.el);
    applyButton.setAttribute("disabled", "");
    try {
      const plan = await ctx.api.planFix(/** @type {any} */ (ctx.state.server).id, { checks: [f.id], values: value ? { [f.id]: value } : {} });
      preview.replaceChildren(changesetView(plan.changeset, d.checks));
      applyButton.toggleAttribute("disabled", plan.changeset.files.length === 0 && plan.changeset.params.length === 0);
    } catch (e) {
      preview.replaceChildren(errorNotice("The change could not be prepared.", /** @type {AppError} */ (e)));
    }
  };

  const offer = f.fixes[0];
  const choices = offer && offer.choices.length > 0 && h("fieldset", { class: "choices", "data-testid": "choices" },
    h("legend", null, offer.title),
    ...offer.choices.map((c) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "fix-choice", value: c.value, checked: c.value === value }),
      h("span", null, h("strong", null, c.label),
        c.warning && h("span", { class: "choice__warning" }, h("span", { "aria-hidden": "true" }, "! "), c.warning)))));
  if (choices) choices.addEventListener("change", (event) => {
    value = /** @type {HTMLInputElement} */ (event.target).value;
    loadPreview();
  });

  body.replaceChildren(
    h("p", { class: "stepper", "data-testid": "stepper" }, `Item ${i + 1} of ${items.length}`),
    h("article", { class: "card fix-item", "data-check-id": f.id, "data-testid": "fix-item" },
      h("h2", { class: "fix-item__title" }, statusMark(f.status), " ", f.title),
      f.users_see && h("p", null, h("strong", null, "What users see: "), f.users_see),
      f.why && h("p", null, h("strong", null, "Why: "), f.why),
      h("div", { class: "current" },
        h("h3", null, "Now"),
        h("p", { "data-testid": "current" }, f.summary),
        ...f.evidence.map((e) => h("p", { class: "evidence__line" }, h("span", { class: "evidence__source" }, `${e.source}: `), h("code", null, e.excerpt)))),
      !offer && h("p", { class: "muted" }, "One way to fix it; no choice to make."),
      offer && !choices && h("p", null, h("strong", null, "The fix: "), offer.title),
      choices,
      h("h3", null, "What will change"),
      preview),
    h("div", { class: "actions" }, applyButton, skip, back),
    h("p", { class: "muted", id: "include-note", "data-testid": "include-note" }, "Nothing changes on the server until you confirm at the end, after a preview of every change together."));
  loadPreview();
}

/**
 * The whole change set for the chosen items, planned together (one file edited once), with
 * what restarts and what users notice.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {string[]} items @param {Map<string, Decision>} decisions @param {() => void} back
 */
async function showSummary(ctx, body, items, decisions, back) {
  const d = /** @type {import('../types/api').DiagnosisView} */ (ctx.state.diagnosis);
  const chosen = items.filter((id) => decisions.get(id)?.apply);
  const backButton = h("button", { class: "button button--quiet", type: "button", "data-testid": "back" }, "Back");
  backButton.addEventListener("click", back);
  if (chosen.length === 0) {
    body.replaceChildren(
      h("div", { class: "card empty", "data-testid": "nothing-chosen" }, h("h2", null, "Nothing chosen"), h("p", null, "You skipped every item, so nothing will change. Go back to pick one, or return to the checklist.")),
      h("div", { class: "actions" }, backButton));
    return;
  }
  const progress = progressLine("Preparing the combined change…");
  body.replaceChildren(progress.el);
  /** @type {Record<string, string>} */
  const values = {};
  for (const id of chosen) {
    const v = decisions.get(id)?.value;
    if (v) values[id] = v;
  }
  try {
    const plan = await ctx.api.planFix(/** @type {any} */ (ctx.state.server).id, { checks: chosen, values });
    const go = h("button", { class: "button", type: "button", "data-testid": "apply-all" }, `Apply ${chosen.length === 1 ? "this change" : `these ${count(chosen.length, "change")}`}`);
    go.addEventListener("click", () => ctx.go("apply", { planId: plan.planId, changeset: plan.changeset }));
    body.replaceChildren(
      h("h2", { "data-testid": "summary-title" }, "Before applying: everything that will change"),
      h("p", { class: "lead" }, "Check it once more. The app backs up every file and setting first, validates the new configuration before using it, and puts everything back by itself if anything goes wrong."),
      h("p", null, h("strong", null, `The ${form(chosen.length, "fix", "fixes")}: `), chosen.map((id) => titleOf(d.checks, id)).join("; "), "."),
      h("div", { "data-testid": "combined-preview" }, changesetView(plan.changeset, d.checks)),
      h("div", { class: "actions" }, go, backButton));
    go.focus();
  } catch (e) {
    body.replaceChildren(errorNotice("The change could not be prepared.", /** @type {AppError} */ (e)), h("div", { class: "actions" }, backButton));
  }
}

/** A change set in words: files with their diff, settings old → new, services, interruption. @param {ChangeSet} cs @param {Finding[]} checks */
export function changesetView(cs, checks) {
  const restarts = cs.services.map((s) => s.action === "restart_odoo"
    ? h("li", null, h("strong", null, "Odoo restarts"), ` (${s.service}): `, h("code", null, s.command.join(" ")))
    : h("li", null, h("strong", null, "nginx reloads"), " after ", h("code", null, s.test.join(" ")), " accepts the new configuration (no connection is dropped)."));
  const empty = cs.files.length === 0 && cs.params.length === 0;
  return h("div", { class: "changeset" },
    empty && h("p", { class: "notice", "data-testid": "no-change" }, "Nothing to change here: it is already right, or it needs a hand fix (see the note)."),
    cs.files.length > 0 && h("h4", null, `The ${form(cs.files.length, "file")}`),
    ...cs.files.map((f) => h("div", { class: "changeset__file" },
      h("p", null, h("span", { class: "mono" }, f.path), h("span", { class: "muted" }, ` — owner ${f.owner}:${f.group}, mode ${f.mode.toString(8)}, kept as they are`)),
      diffView(f.diff))),
    cs.params.length > 0 && h("h4", null, "Odoo settings (system parameters in the database)"),
    cs.params.length > 0 && h("table", { class: "params" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Database"), h("th", { scope: "col" }, "Setting"), h("th", { scope: "col" }, "Now"), h("th", { scope: "col" }, "After"))),
      h("tbody", null, ...cs.params.map((p) => h("tr", null,
        h("td", { class: "mono", "data-testid": "param-db" }, p.db),
        h("td", { class: "mono" }, p.key),
        h("td", { class: "mono" }, p.old ?? "(not set)"),
        h("td", { class: "mono" }, p.new ?? "(removed)"))))),
    restarts.length > 0 && h("div", { class: "services", "data-testid": "services" }, h("h4", null, "Services that restart or reload"), h("ul", null, ...restarts)),
    cs.interruption && h("p", { class: "interruption" }, h("strong", null, "What users notice: "), cs.interruption),
    cs.reasons.length > 0 && h("h4", null, "Why"),
    cs.reasons.length > 0 && h("ul", { class: "reasons" }, ...cs.reasons.map((r) => h("li", null, h("strong", null, `${titleOf(checks, r.check)}: `), r.text))),
    cs.notes.length > 0 && h("h4", null, "Notes"),
    cs.notes.length > 0 && h("ul", { class: "notes" }, ...cs.notes.map((r) => h("li", null, r.text))));
}
