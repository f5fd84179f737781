// @ts-check
/**
 * Apply and verify: live progress (backing up, writing, validating, reloading nginx, restarting
 * Odoo with its output, waiting for it, verifying), Cancel until the restart begins, then the
 * result per change: persisted ✓, or everything rolled back with the reason.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ApplyView} ApplyView
 * @typedef {import('../types/api').ProgressEvent} ProgressEvent
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { exportReport } from "../report.js";
import { errorNotice, h, stepWords, statusMark, titleOf } from "../dom.js";

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const { planId, changeset } = ctx.params;
  const steps = h("ol", { class: "live-steps", "aria-label": "Progress", "data-testid": "live-steps" });
  const output = h("pre", { class: "output", "data-testid": "output", tabindex: "0", "aria-label": "What the restart printed" });
  const outputBox = h("details", { class: "output-box", hidden: true, open: true }, h("summary", null, "What the services printed"), output);
  const live = h("p", { class: "progress", role: "status", "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { class: "progress__text" }, "Starting…"));
  const cancel = h("button", { class: "button button--quiet", type: "button", "data-testid": "cancel" }, "Cancel");
  const cancelNote = h("p", { class: "muted", "data-testid": "cancel-note" }, "You can cancel until Odoo restarts; everything is then put back.");
  const result = h("div", { class: "apply__result" });
  // The server's own guard: it undoes the change by itself unless the app confirms in time.
  const guard = h("p", { class: "muted", "data-testid": "guard", hidden: true });
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let guardTimer;
  const screen = h("section", { class: "screen screen--apply", "aria-labelledby": "apply-title" },
    h("h1", { id: "apply-title" }, "Applying and verifying"),
    h("p", { class: "lead" }, `${changeset.checks.map((/** @type {string} */ id) => titleOf(ctx.state.diagnosis?.checks ?? [], id)).join(", ")}.`),
    live, steps, guard, outputBox,
    h("div", { class: "actions" }, cancel), cancelNote,
    result);

  let cancellable = true;
  const setCancellable = (/** @type {boolean} */ can) => {
    cancellable = can;
    cancel.toggleAttribute("disabled", !can);
    if (!can) cancelNote.textContent = "Cancel is no longer possible: the services are restarting. The app now finishes and verifies — or puts everything back by itself.";
  };
  cancel.addEventListener("click", async () => {
    cancel.setAttribute("disabled", "");
    cancel.textContent = "Cancelling…";
    const stopped = await ctx.api.cancelApply();
    cancelNote.textContent = stopped ? "Cancelling: the app stops before the restart and puts everything back." : "Too late to cancel: the app finishes and verifies.";
  });

  /** @param {ProgressEvent} event */
  const onEvent = (event) => {
    if (event.event === "step") {
      for (const li of steps.querySelectorAll("li[data-current]")) {
        li.removeAttribute("data-current");
        li.setAttribute("data-done", "");
      }
      steps.append(h("li", { "data-current": "", "data-step": event.data.step },
        stepWords(event.data), event.data.detail && h("span", { class: "step__detail" }, ` — ${event.data.detail}`)));
      /** @type {HTMLElement} */ (live.querySelector(".progress__text")).textContent = event.data.message;
      if (cancellable && !event.data.cancellable) setCancellable(false);
    } else if (event.event === "guard") {
      const until = Date.now() + event.data.seconds * 1000;
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        guard.textContent = `The server undoes this change by itself in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} unless the app confirms it after verifying. Losing the connection now is safe.`;
      };
      tick();
      guard.hidden = false;
      guardTimer = setInterval(tick, 1000);
    } else if (event.event === "output") {
      outputBox.hidden = false;
      output.append(`${event.data.line}\n`);
    } else if (event.event === "finished") {
      for (const li of steps.querySelectorAll("li[data-current]")) {
        li.removeAttribute("data-current");
        li.setAttribute("data-done", "");
      }
    }
  };

  ctx.state.busy = true;
  ctx.refreshNav();
  ctx.api.applyFix(/** @type {any} */ (ctx.state.server).id, planId, onEvent).then(
    (view) => {
      // The guard's work is over: the app confirmed (the server keeps the change) or it was put back.
      clearInterval(guardTimer);
      if (view.result.status === "applied" && !guard.hidden) guard.textContent = "Confirmed after verifying: the server keeps the change, and its guard has stopped.";
      else guard.remove();
      showResult(ctx, result, view);
    },
    (/** @type {AppError} */ e) => {
      // The connection may be gone: the server's countdown goes on, and so does this one.
      result.replaceChildren(errorNotice("The change was not applied.", e), h("div", { class: "actions" }, historyButton(ctx), backToChecklist(ctx)));
    },
  ).finally(() => {
    ctx.state.busy = false;
    ctx.refreshNav();
    live.remove();
    cancel.parentElement?.remove();
    cancelNote.remove();
    showOutcome(result);
  });
  return screen;
}

/**
 * The outcome comes after the steps and the services' output, below the fold of a small window:
 * bring it into view and put the focus on its heading (a screen reader reads it next).
 * @param {HTMLElement} result
 */
function showOutcome(result) {
  const target = /** @type {HTMLElement | null} */ (result.querySelector("h2") ?? result.querySelector("button"));
  if (!target) return;
  if (target.tagName === "H2") target.setAttribute("tabindex", "-1");
  (result.firstElementChild ?? target).scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
}

/** @param {ScreenContext} ctx @param {HTMLElement} el @param {ApplyView} view */
function showResult(ctx, el, view) {
  const r = view.result;
  const checks = ctx.state.diagnosis?.checks ?? [];
  if (view.after) ctx.state.diagnosis = view.after;
  const verification = r.verification.length > 0 && h("ul", { class: "verification", "data-testid": "verification" },
    ...r.verification.map((v) => h("li", { "data-persisted": String(v.persisted) },
      statusMark(v.persisted ? "ok" : "fail"), " ",
      h("strong", null, titleOf(checks, v.check)), ": ", v.detail)));
  const report = h("button", { class: "button button--quiet", type: "button" }, "Export a report");
  report.addEventListener("click", () => exportReport(ctx.api, /** @type {any} */ (ctx.state.server).id));
  if (r.status === "applied") {
    el.replaceChildren(h("div", { class: "result result--ok", "data-testid": "apply-result", "data-status": r.status },
      h("h2", null, statusMark("ok"), " Fixed and verified"),
      h("p", null, `Every change was written, the services came back, and a fresh check confirms the fix. Change set ${r.changeset} is recorded on the server; you can undo it from History.`),
      verification,
      h("div", { class: "actions" }, backToChecklist(ctx, view.after), historyButton(ctx), report)));
  } else if (r.status === "rolled_back") {
    el.replaceChildren(h("div", { class: "result result--warn", "data-testid": "apply-result", "data-status": r.status, role: "alert" },
      h("h2", null, statusMark("warn"), " Nothing changed: everything was put back"),
      h("p", null, h("strong", null, "Why: "), r.error ?? "the change did not pass its checks."),
      h("p", { class: "muted" }, "The server is exactly as before. The attempt is kept in History."),
      verification,
      h("div", { class: "actions" }, backToChecklist(ctx), historyButton(ctx))));
  } else {
    el.replaceChildren(h("div", { class: "result result--bad", "data-testid": "apply-result", "data-status": r.status, role: "alert" },
      h("h2", null, statusMark("fail"), " The change failed, and putting it back failed too"),
      h("p", null, r.error ?? ""),
      h("p", null, "Open History and roll the change set back again; if that fails, the report lists the backed-up files to restore by hand."),
      h("div", { class: "actions" }, historyButton(ctx), report)));
  }
}

/** @param {ScreenContext} ctx @param {import('../types/api').DiagnosisView | null} [after] */
function backToChecklist(ctx, after) {
  const b = h("button", { class: "button", type: "button", "data-testid": "see-checklist" }, "See the checklist now");
  b.addEventListener("click", () => ctx.go("diagnosis", after ? { diagnosis: after } : undefined));
  return b;
}

/** @param {ScreenContext} ctx */
function historyButton(ctx) {
  const b = h("button", { class: "button button--quiet", type: "button", "data-testid": "open-history" }, "History");
  b.addEventListener("click", () => ctx.go("history"));
  return b;
}
