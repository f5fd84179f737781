// @ts-check
/**
 * Small building blocks shared by the screens. Text always goes in as text nodes (never
 * innerHTML), so whatever a server sends back (host names, error messages, diffs) cannot inject
 * markup.
 * @typedef {import('./types/api').AppError} AppError
 * @typedef {import('./types/api').Status} Status
 * @typedef {import('./types/api').ProgressEvent} ProgressEvent
 */

/**
 * h("p", {class: "lead"}, "text", child) — attributes: strings set as attributes, `on*`
 * functions become listeners, `null`/`false` values are skipped.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string | null | undefined | false)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
}

/** Replaces `el`'s children, skipping the `false`/`null` of conditional parts (which
 * `replaceChildren` would print as text). @param {Element} el @param {...(Node | string | null | undefined | false)} children */
export function fill(el, ...children) {
  el.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => /** @type {Node | string} */ (c)));
}

/** What each status looks like: a mark (never colour alone) and a word. */
export const STATUS = /** @type {Record<Status, {mark: string, word: string}>} */ ({
  ok: { mark: "✓", word: "OK" },
  warn: { mark: "!", word: "To improve" },
  fail: { mark: "✗", word: "Problem" },
  skip: { mark: "–", word: "Not applicable" },
  unknown: { mark: "?", word: "Could not tell" },
});

/** @param {Status} status */
export function statusMark(status) {
  const s = STATUS[status] ?? STATUS.unknown;
  return h("span", { class: `mark mark--${status}`, "data-status": status, title: s.word },
    h("span", { "aria-hidden": "true" }, s.mark),
    h("span", { class: "visually-hidden" }, s.word));
}

/** An error in plain words, with what to do about it. @param {string} title @param {AppError} error */
export function errorNotice(title, error) {
  return h("div", { class: "notice notice--error", role: "alert", "data-error-code": error.code },
    h("p", { class: "notice__title" }, title, " ", error.message),
    error.hint && h("p", { class: "notice__hint" }, error.hint));
}

/**
 * A progress line: a spinner always with words next to it, updated from progress events.
 * `aria-live` reads each new step out.
 */
export function progressLine(/** @type {string} */ initial) {
  const text = h("span", { class: "progress__text" }, initial);
  const el = h("div", { class: "progress", role: "status", "aria-live": "polite", "data-testid": "progress" },
    h("span", { class: "spinner", "aria-hidden": "true" }), text);
  return {
    el,
    /** @param {ProgressEvent} event */
    onEvent(event) {
      if (event.event === "step") text.textContent = event.data.message;
    },
    /** @param {string} message */
    set(message) { text.textContent = message; },
  };
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape cancels). Resolves with the value
 * of the button pressed, or `null` on Escape.
 * @param {{title: string, body: (Node | string | null | false)[], buttons: {label: string, value: string, kind?: string}[], testid?: string, role?: string}} spec
 * @returns {{dialog: HTMLDialogElement, result: Promise<string | null>}}
 */
export function modal(spec) {
  const titleId = `dialog-${Math.random().toString(36).slice(2)}`;
  const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "dialog", "aria-labelledby": titleId, "data-testid": spec.testid, role: spec.role }));
  /** @type {(v: string | null) => void} */
  let resolve = () => {};
  const result = new Promise((r) => { resolve = r; });
  const buttons = spec.buttons.map((b) => h("button", {
    type: "button", class: `button ${b.kind ?? ""}`, "data-value": b.value,
    onclick: () => { dialog.close(); resolve(b.value); },
  }, b.label));
  dialog.append(
    h("h2", { id: titleId, class: "dialog__title" }, spec.title),
    h("div", { class: "dialog__body" }, ...spec.body),
    h("div", { class: "dialog__actions" }, ...buttons));
  dialog.addEventListener("cancel", () => resolve(null));
  dialog.addEventListener("close", () => { dialog.remove(); resolve(null); });
  document.body.append(dialog);
  dialog.showModal();
  // The safe choice (the first button) gets the focus.
  buttons[0]?.focus();
  return { dialog, result };
}

/** A unified diff with added and removed lines marked (by sign and colour). @param {string} diff */
export function diffView(diff) {
  const lines = diff.replace(/\n$/, "").split("\n").map((line) => {
    const kind = line.startsWith("+++") || line.startsWith("---") ? "file"
      : line.startsWith("@@") ? "hunk"
      : line.startsWith("+") ? "add"
      : line.startsWith("-") ? "del" : "ctx";
    return h("span", { class: `diff__line diff__line--${kind}` }, line || " ");
  });
  return h("div", null,
    h("p", { class: "diff__legend" }, "Lines starting with ", h("span", { class: "diff__line--del diff__sign" }, "−"), " are removed, lines with ", h("span", { class: "diff__line--add diff__sign" }, "+"), " are added; the others are shown for context."),
    h("pre", { class: "diff", tabindex: "0", "aria-label": "Changes to the file: lines starting with + are added, - are removed" }, ...lines));
}

/** A small explained term: the word, and its one-line meaning on hover and for screen readers. */
export function term(/** @type {string} */ word, /** @type {string} */ meaning) {
  return h("abbr", { class: "term", title: meaning }, word);
}

/** "session.lifetime" → its finding's title, when known. */
export function titleOf(/** @type {{id: string, title: string}[]} */ checks, /** @type {string} */ id) {
  // `session.continuity` is a verification, not a check of the list (engine: CONTINUITY_TITLE)
  return checks.find((c) => c.id === id)?.title ?? (id === "session.continuity" ? "Sessions survive the restart" : id);
}

/** A finished step in a list: its words without the "…" of a step in progress. @param {{message: string}} step */
export function stepWords(step) {
  return step.message.replace(/…$/, "");
}

/**
 * Text for people in which another check is named by its title in quotes (“HTTP redirects to
 * HTTPS”, the engine's `CheckId::mention`): each such mention becomes a link that opens that
 * checklist item and brings it into view; a `command` in backquotes is shown as code. Returns
 * nodes for `h()`.
 * @param {string} text @param {{id: string, title: string}[]} checks
 */
export function prose(text, checks) {
  return text.split(/(“[^”]+”|`[^`]+`)/).map((part) => {
    // a command or config line to type, written `like this` by the engine
    if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) return h("code", { class: "inline-code" }, part.slice(1, -1));
    const check = checks.find((c) => `“${c.title}”` === part);
    if (!check) return part;
    return h("a", {
      href: `#check-${check.id}`, class: "link", "data-mention": check.id,
      onclick: (/** @type {Event} */ e) => { e.preventDefault(); showCheck(check.id); },
    }, part);
  });
}

/** Opens the checklist item of `id` and moves the focus to it (a mention's link target). @param {string} id */
export function showCheck(id) {
  const item = document.querySelector(`[data-check-id="${CSS.escape(id)}"]`);
  const details = item?.querySelector("details");
  if (!item || !details) return;
  details.open = true;
  const summary = /** @type {HTMLElement | null} */ (details.querySelector("summary"));
  summary?.scrollIntoView({ block: "start" });
  summary?.focus();
}
