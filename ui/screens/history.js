// @ts-check
/**
 * History: the change sets recorded on this server (newest first), each with what it changed,
 * how it was verified, and a one-click Rollback that shows its own preview first, then streams
 * its progress and shows the state it restored.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ChangeRecord} ChangeRecord
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { changesetView } from "./fix.js";
import { errorNotice, h, stepWords, modal, progressLine, statusMark, titleOf } from "../dom.js";

const STATUS_WORDS = {
  recorded: { text: "Recorded, not applied (interrupted)", mark: "warn" },
  applying: { text: "Half-applied (the connection was lost)", mark: "fail" },
  applied: { text: "Applied and verified", mark: "ok" },
  rolled_back: { text: "Rolled back automatically", mark: "skip" },
  undone: { text: "Rolled back on request", mark: "skip" },
  rollback_failed: { text: "Rollback failed: needs a person", mark: "fail" },
};

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const body = h("div", { class: "history__body" });
  const screen = h("section", { class: "screen screen--history", "aria-labelledby": "history-title" },
    h("h1", { id: "history-title" }, `History of ${server.name}`),
    h("p", { class: "lead" }, "Every change the app made on this server, kept on the server itself with backups of the files and settings it touched. Roll one back to restore exactly what was there before."),
    body);
  load(ctx, body);
  return screen;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body */
async function load(ctx, body) {
  const p = progressLine("Reading the change records on the server…");
  body.replaceChildren(p.el);
  try {
    const records = await ctx.api.history(/** @type {any} */ (ctx.state.server).id);
    if (!records.length) {
      body.replaceChildren(h("div", { class: "card empty", "data-testid": "history-empty" },
        h("h2", null, "No changes yet"),
        h("p", null, "When the app applies a fix on this server, it is listed here with a button to undo it.")),
        backButtons(ctx));
      return;
    }
    body.replaceChildren(h("ul", { class: "records", "aria-label": "Change sets" }, ...records.map((r) => recordItem(ctx, body, r))), backButtons(ctx));
  } catch (e) {
    body.replaceChildren(errorNotice("The history could not be read.", /** @type {AppError} */ (e)), backButtons(ctx));
  }
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ChangeRecord} r */
function recordItem(ctx, body, r) {
  const checks = ctx.state.diagnosis?.checks ?? [];
  const s = STATUS_WORDS[r.status] ?? { text: r.status, mark: "unknown" };
  const canRoll = ["applied", "applying", "recorded", "rollback_failed"].includes(r.status);
  const rollback = canRoll && h("button", { class: "button", type: "button", "data-testid": "rollback" }, "Roll back…");
  if (rollback) rollback.addEventListener("click", () => confirmRollback(ctx, body, r));
  return h("li", { class: "card record", "data-testid": "record", "data-id": r.id, "data-status": r.status },
    h("div", { class: "record__head" },
      h("h2", { class: "record__title" }, statusMark(/** @type {any} */ (s.mark)), " ", r.changeset.checks.map((id) => titleOf(checks, id)).join(", ")),
      rollback),
    h("p", { class: "muted" }, `${r.created_text} · by ${r.by} · `, h("span", { "data-testid": "record-status" }, s.text), ` · change set `, h("span", { class: "mono" }, r.id)),
    r.error && h("p", null, h("strong", null, "Why: "), r.error),
    r.verification.length > 0 && h("ul", { class: "verification" }, ...r.verification.map((v) => h("li", null, statusMark(v.persisted ? "ok" : "fail"), " ", v.detail))),
    h("details", { class: "advanced" }, h("summary", null, "What it changed"), changesetView(r.changeset, checks)));
}

/** Rollback's own preview: what will be restored, and what restarts. @param {ScreenContext} ctx @param {HTMLElement} body @param {ChangeRecord} r */
async function confirmRollback(ctx, body, r) {
  const cs = r.changeset;
  const restarts = cs.services.some((s) => s.action === "restart_odoo");
  const { result } = modal({
    title: "Roll this change set back?",
    testid: "rollback-dialog",
    body: [
      h("p", null, "The app puts back exactly what was there before, from the backups on the server, then checks it:"),
      h("ul", null,
        ...cs.files.map((f) => h("li", null, "the file ", h("span", { class: "mono" }, f.path), " as it was")),
        ...cs.params.map((p) => h("li", null, "the setting ", h("span", { class: "mono" }, p.key), " in database ", h("span", { class: "mono" }, p.db), ` back to ${p.old ?? "(not set)"}`))),
      h("p", null, restarts ? "Odoo then restarts: for a few seconds pages do not load. Nobody is logged out." : "nginx then reloads: nobody notices."),
      h("p", { class: "muted" }, "If a file was edited by someone else since, the app stops and changes nothing."),
    ],
    buttons: [
      { label: "Keep the change", value: "keep", kind: "button--quiet" },
      { label: "Roll back", value: "rollback" },
    ],
  });
  if ((await result) !== "rollback") return;
  const steps = h("ol", { class: "live-steps", "data-testid": "live-steps" });
  const p = progressLine("Starting the rollback…");
  body.replaceChildren(h("h2", null, `Rolling back ${r.id}`), p.el, steps);
  ctx.state.busy = true;
  ctx.refreshNav();
  try {
    const view = await ctx.api.rollback(/** @type {any} */ (ctx.state.server).id, r.id, (event) => {
      p.onEvent(event);
      if (event.event === "step") steps.append(h("li", { "data-done": "" }, stepWords(event.data), event.data.detail && h("span", { class: "step__detail" }, ` — ${event.data.detail}`)));
    });
    ctx.state.diagnosis = view.after;
    const see = h("button", { class: "button", type: "button", "data-testid": "see-checklist" }, "See the checklist now");
    see.addEventListener("click", () => ctx.go("diagnosis", { diagnosis: view.after }));
    const again = h("button", { class: "button button--quiet", type: "button" }, "Back to History");
    again.addEventListener("click", () => load(ctx, body));
    body.replaceChildren(h("div", { class: "result result--ok", "data-testid": "rollback-result", "data-status": view.result.status },
      h("h2", null, statusMark("ok"), " Rolled back and checked"),
      h("p", null, `Change set ${view.result.changeset} is undone: the server is as it was before it.`),
      h("p", { "data-testid": "verdict-after" }, h("strong", null, "The checklist now: "), view.after.verdict.line),
      h("div", { class: "actions" }, see, again)));
    see.focus();
  } catch (e) {
    const again = h("button", { class: "button", type: "button" }, "Back to History");
    again.addEventListener("click", () => load(ctx, body));
    body.replaceChildren(errorNotice("The rollback stopped.", /** @type {AppError} */ (e)), h("div", { class: "actions" }, again));
  } finally {
    ctx.state.busy = false;
    ctx.refreshNav();
  }
}

/** @param {ScreenContext} ctx */
function backButtons(ctx) {
  const b = h("button", { class: "button button--quiet", type: "button" }, "Back to the checklist");
  b.addEventListener("click", () => ctx.state.diagnosis ? ctx.go("diagnosis", { diagnosis: ctx.state.diagnosis }) : ctx.go("diagnosis"));
  return h("div", { class: "actions" }, b);
}
