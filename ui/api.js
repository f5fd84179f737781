// @ts-check
/**
 * The ONE place the UI talks to the backend. Screens import `api` from here and nothing else:
 * no screen calls `invoke` itself. Two implementations share the `Api` shape (ui/types/api.d.ts):
 *
 * - `tauri`: the real backend, through `window.__TAURI__.core` (app.withGlobalTauri).
 * - `mock`: ui/api-mock.js, canned data for UI-only tests and for opening ui/index.html in a
 *   browser. Chosen with `?mock` or `?mock=<scenario>` in the page URL, or automatically when
 *   the page runs outside Tauri.
 *
 * Every rejection is an `AppError` `{code, message, hint}`, whichever implementation answered.
 *
 * @typedef {import('./types/api').Api} Api
 * @typedef {import('./types/api').AppError} AppError
 * @typedef {import('./types/api').ProgressEvent} ProgressEvent
 */
import { createMockApi } from "./api-mock.js";

/** @param {unknown} error @returns {AppError} */
export function toAppError(error) {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const e = /** @type {any} */ (error);
    return { code: String(e.code), message: String(e.message), hint: String(e.hint ?? "") };
  }
  return { code: "internal", message: String(error), hint: "Please try again." };
}

/** @returns {Api} */
function createTauriApi() {
  const { invoke, Channel } = /** @type {any} */ (window).__TAURI__.core;
  /** @param {string} cmd @param {Record<string, unknown>} [args] */
  const call = (cmd, args) => invoke(cmd, args).catch((e) => { throw toAppError(e); });
  return {
    kind: "tauri",
    appInfo: () => call("app_info"),
    // Saved servers (issue 5) will come from their own command; today only the demo lab exists.
    listServers: async () => {
      const demo = await call("demo_server");
      return demo ? [demo] : [];
    },
    connect: (serverId, onProgress) => {
      const onProgressChannel = new Channel();
      onProgressChannel.onmessage = onProgress;
      return call("connect", { serverId, onProgress: onProgressChannel });
    },
  };
}

/** @returns {Api} */
function selectApi() {
  const params = new URLSearchParams(window.location.search);
  const inTauri = Boolean(/** @type {any} */ (window).__TAURI__?.core);
  if (params.has("mock") || !inTauri) return createMockApi(params.get("mock") || "demo");
  return createTauriApi();
}

export const api = selectApi();
