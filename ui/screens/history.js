// @ts-check
/**
 * History: the change sets recorded on this server (newest first), each with what it changed,
 * how it was verified, and a one-click Rollback that shows its own preview first, then streams
 * its progress and shows the state it restored. The apply-time ticks say what was true then: each
 * applied change set is re-checked against the server when History opens (`historyNow`) and
 * marked "still in effect" or "no longer in effect" (per file and setting, with who changed it).
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ChangeRecord} ChangeRecord
 * @typedef {import('../types/api').Effect} Effect
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { changesetView } from "./fix.js";
import { errorNotice, fill, h, stepWords, modal, progressLine, statusMark, titleOf } from "../dom.js";

const STATUS_WORDS = {
  recorded: { text: "Recorded, not applied (interrupted)", mark: "warn" },
  applying: { text: "Half-applied (the connection was lost)", mark: "fail" },
  applied: { text: "Applied (verified at the time; re-checking now…)", mark: "unknown" },
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
    const items = records.map((r) => recordItem(ctx, body, r));
    body.replaceChildren(h("ul", { class: "records", "aria-label": "Change sets" }, ...items.map((i) => i.el)), backButtons(ctx));
    if (records.some((r) => r.status === "applied" && !r.action)) recheck(ctx, items);
  } catch (e) {
    body.replaceChildren(errorNotice("The history could not be read.", /** @type {AppError} */ (e)), backButtons(ctx));
  }
}

/**
 * Re-checks the applied change sets against the server and marks each item with its state now.
 * @param {ScreenContext} ctx @param {{ r: ChangeRecord, mark: (e: Effect | null, error?: string) => void }[]} items
 */
async function recheck(ctx, items) {
  try {
    const effects = await ctx.api.historyNow(/** @type {any} */ (ctx.state.server).id);
    for (const item of items) {
      if (item.r.status !== "applied" || item.r.action) continue;
      item.mark(effects.find((e) => e.changeset === item.r.id) ?? null);
    }
  } catch (e) {
    const why = /** @type {AppError} */ (e).message ?? String(e);
    for (const item of items) if (item.r.status === "applied") item.mark(null, why);
  }
}

const EFFECT_WORDS = {
  in_effect: { text: "Still in effect", mark: "ok" },
  no_longer_in_effect: { text: "No longer in effect", mark: "warn" },
  unknown: { text: "Applied; could not re-check everything", mark: "unknown" },
};

/**
 * An action (a log-out): what it did, and plainly that it has no rollback.
 * @param {ChangeRecord} r @param {import('../types/api').ActionRecord} a
 */
function actionItem(r, a) {
  const el = h("li", { class: "card record", "data-testid": "record", "data-id": r.id, "data-status": r.status, "data-action": a.kind },
    h("div", { class: "record__head" }, h("h2", { class: "record__title" }, statusMark("skip"), " ", a.summary)),
    h("p", { class: "muted" }, `${r.created_text} · by ${r.by} · `, h("span", { "data-testid": "record-status" }, "Done; cannot be undone (no rollback)"), " · ", h("span", { class: "mono" }, r.id)),
    r.log.length > 0 && h("ul", { class: "verification" }, ...r.log.map((l) => h("li", null, l))));
  return { el, r, mark: () => {} };
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ChangeRecord} r */
function recordItem(ctx, body, r) {
  const checks = ctx.state.diagnosis?.checks ?? [];
  const s = STATUS_WORDS[r.status] ?? { text: r.status, mark: "unknown" };
  if (r.action) return actionItem(r, r.action);
  const canRoll = ["applied", "applying", "recorded", "rollback_failed"].includes(r.status);
  const rollback = canRoll && h("button", { class: "button", type: "button", "data-testid": "rollback" }, "Roll back…");
  if (rollback) rollback.addEventListener("click", () => confirmRollback(ctx, body, r));
  const mark = h("span", null, statusMark(/** @type {any} */ (s.mark)));
  const status = h("span", { "data-testid": "record-status" }, s.text);
  const now = h("div", { class: "record__now", "data-testid": "record-now" });
  const undone = r.status === "undone" && r.undone ? ` on ${r.undone.at_text} by ${r.undone.by}` : "";
  const verification = r.verification.length > 0 && h("div", null,
    h("p", { class: "muted" }, r.status === "applied" ? "Verified when it was applied:" : "Verification:"),
    h("ul", { class: "verification" }, ...r.verification.map((v) => h("li", null, statusMark(v.persisted ? "ok" : "fail"), " ", v.detail))));
  const el = h("li", { class: "card record", "data-testid": "record", "data-id": r.id, "data-status": r.status },
    h("div", { class: "record__head" },
      h("h2", { class: "record__title" }, mark, " ", r.changeset.checks.map((id) => titleOf(checks, id)).join(", ")),
      rollback),
    h("p", { class: "muted" }, `${r.created_text} · by ${r.by} · `, status, undone, ` · change set `, h("span", { class: "mono" }, r.id)),
    now,
    r.error && h("p", null, h("strong", null, "Why: "), r.error),
    verification,
    h("details", { class: "advanced" }, h("summary", null, "What it changed"), changesetView(r.changeset, checks)));
  /** @param {Effect | null} e @param {string} [error] */
  const markNow = (e, error) => {
    if (!e) {
      status.textContent = "Applied (verified at the time; could not re-check now)";
      mark.replaceChildren(statusMark("unknown"));
      if (error) now.replaceChildren(h("p", { class: "muted" }, `The server could not be re-checked: ${error}`));
      return;
    }
    const w = EFFECT_WORDS[e.state] ?? EFFECT_WORDS.unknown;
    el.dataset.effect = e.state;
    status.textContent = w.text;
    mark.replaceChildren(statusMark(/** @type {any} */ (w.mark)));
    const items = [
      ...e.files.map((f) => ({ name: f.path, state: f.state, detail: f.detail })),
      ...e.params.map((p) => ({ name: `${p.key} (database ${p.db})`, state: p.state, detail: p.detail })),
    ];
    // fill, not replaceChildren: with nothing to list, `false` would be printed as text.
    fill(now,
      h("p", { "data-testid": "effect-summary" }, h("strong", null, "Checked just now: "), e.summary),
      items.length > 0 && h("ul", { class: "verification" }, ...items.map((i) =>
        h("li", { "data-testid": "effect-item", "data-state": i.state },
          statusMark(i.state === "in_effect" ? "ok" : i.state === "unknown" ? "unknown" : "warn"), " ",
          h("span", { class: "mono" }, i.name), ": ", i.state === "in_effect" ? "still in effect" : i.state === "gone" ? "no longer in effect (the file is gone)" : i.state === "changed" ? `no longer in effect — ${i.detail}` : i.detail))));
  };
  return { r, el, mark: markNow };
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
