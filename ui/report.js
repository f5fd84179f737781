// @ts-check
/**
 * Export the per-server report: pick a format, the backend renders it (the engine's report, the
 * same file the CLI writes) and asks where to save it with the system's save dialog; then offer
 * to open it.
 * @typedef {import('./types/api').Api} Api
 * @typedef {import('./types/api').AppError} AppError
 */
import { errorNotice, h, modal } from "./dom.js";

/** @param {Api} api @param {string} serverId */
export async function exportReport(api, serverId) {
  const choice = (/** @type {string} */ value, /** @type {string} */ label, /** @type {string} */ hint, checked = false) =>
    h("label", { class: "choice" },
      h("input", { type: "radio", name: "report-format", value, checked }),
      h("span", null, h("strong", null, label), h("span", { class: "choice__hint" }, hint)));
  const { dialog, result } = modal({
    title: "Export a report",
    testid: "report-dialog",
    body: [
      h("p", null, "The report lists every check, the evidence, what was changed and how to undo it. It contains no password."),
      h("fieldset", { class: "choices" },
        h("legend", null, "Format"),
        choice("html", "Web page (HTML)", "Opens in any browser and prints to PDF.", true),
        choice("markdown", "Markdown", "For a ticket or a wiki."),
        choice("json", "JSON", "For scripts.")),
    ],
    buttons: [
      { label: "Save…", value: "save" },
      { label: "Cancel", value: "cancel", kind: "button--quiet" },
    ],
  });
  if ((await result) !== "save") return;
  // The closed dialog still holds the radios' state.
  const checked = /** @type {HTMLInputElement | null} */ (dialog.querySelector("input[name=report-format]:checked"));
  await saveAndOffer(api, serverId, /** @type {import('./types/api').ReportFormat} */ (checked?.value ?? "html"));
}

/** @param {Api} api @param {string} serverId @param {import('./types/api').ReportFormat} wanted */
async function saveAndOffer(api, serverId, wanted) {
  const status = h("p", { class: "progress", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Preparing the report; then choose where to save it…");
  const toast = h("div", { class: "toast", "data-testid": "report-status" }, status);
  document.body.append(toast);
  try {
    const saved = await api.exportReport(serverId, wanted);
    if (!saved) {
      toast.remove();
      return;
    }
    const open = h("button", { type: "button", class: "button", "data-testid": "open-report" }, "Open it");
    const close = h("button", { type: "button", class: "button button--quiet" }, "Close");
    const done = h("div", { class: "notice notice--ok", role: "status" },
      h("p", { class: "notice__title" }, "The report was saved."),
      h("p", { class: "mono", "data-testid": "report-path" }, saved.path),
      h("div", { class: "actions" }, open, close));
    toast.replaceChildren(done);
    open.addEventListener("click", async () => {
      try {
        await api.openReport(saved.path);
        toast.remove();
      } catch (e) {
        done.append(errorNotice("", /** @type {AppError} */ (e)));
      }
    });
    close.addEventListener("click", () => toast.remove());
    open.focus();
  } catch (e) {
    const close = h("button", { type: "button", class: "button button--quiet" }, "Close");
    close.addEventListener("click", () => toast.remove());
    toast.replaceChildren(errorNotice("The report could not be saved.", /** @type {AppError} */ (e)), close);
    close.focus();
  }
}
