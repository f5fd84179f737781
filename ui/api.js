// @ts-check
/**
 * The ONE place the UI talks to the backend. Screens import `api` from here and nothing else:
 * no screen calls `invoke` itself. Two implementations share the `Api` shape (ui/types/api.d.ts,
 * over the declarations generated from Rust in ui/types/bindings.d.ts):
 *
 * - `tauri`: the real backend, through `window.__TAURI__.core` (app.withGlobalTauri).
 * - `mock`: ui/api-mock.js, canned data for UI-only tests and for opening ui/index.html in a
 *   browser. Chosen with `?mock` or `?mock=<scenario>` in the page URL, or automatically when
 *   the page runs outside Tauri.
 *
 * Every rejection is an `AppError` `{code, message, hint, details?}`, whichever implementation answered.
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
    return { code: String(e.code), message: String(e.message), hint: String(e.hint ?? ""), details: e.details ?? undefined };
  }
  return { code: "internal", message: String(error), hint: "Please try again." };
}

/** @returns {Api} */
function createTauriApi() {
  const tauri = /** @type {any} */ (window).__TAURI__;
  const { invoke, Channel } = tauri.core;
  /** @param {string} cmd @param {Record<string, unknown>} [args] */
  const call = (cmd, args) => invoke(cmd, args).catch((/** @type {unknown} */ e) => { throw toAppError(e); });
  /** @param {(event: ProgressEvent) => void} onProgress */
  const channel = (onProgress) => {
    const c = new Channel();
    c.onmessage = onProgress;
    return c;
  };
  return {
    kind: "tauri",
    appInfo: () => call("app_info"),
    listServers: () => call("list_servers"),
    saveServer: (server) => call("save_server", { server }),
    removeServer: (serverId) => call("remove_server", { serverId }),
    sshConfigHosts: () => call("ssh_config_hosts"),
    importSshHosts: (aliases) => call("import_ssh_hosts", { aliases }),
    chooseKeyFile: () => call("choose_key_file"),
    connect: (serverId, secrets, onProgress) => call("connect", { serverId, secrets, onProgress: channel(onProgress) }),
    trustHostKey: (serverId, fingerprint) => call("trust_host_key", { serverId, fingerprint }),
    rememberedSecrets: (serverId) => call("remembered_secrets", { serverId }),
    forgetSecrets: (serverId) => call("forget_secrets", { serverId }),
    chooseInstance: (serverId, instance) => call("choose_instance", { serverId, instance }),
    chooseDatabases: (serverId, databases) => call("choose_databases", { serverId, databases }),
    diagnose: (serverId, probe, onProgress) => call("diagnose", { serverId, probe, onProgress: channel(onProgress) }),
    planFix: (serverId, fix) => call("plan_fix", { serverId, fix }),
    applyFix: (serverId, planId, onProgress) => call("apply_fix", { serverId, planId, onProgress: channel(onProgress) }),
    cancelApply: () => call("cancel_apply"),
    closeWhenIdle: () => call("close_when_idle"),
    history: (serverId) => call("history", { serverId }),
    historyNow: (serverId) => call("history_now", { serverId }),
    rollback: (serverId, changesetId, onProgress) => call("rollback", { serverId, changesetId, onProgress: channel(onProgress) }),
    listSessions: (serverId) => call("list_sessions", { serverId }),
    previewLogout: (serverId, who) => call("preview_logout", { serverId, who }),
    logOut: (serverId, who, confirmation) => call("log_out", { serverId, who, confirmation }),
    exportReport: (serverId, format) => call("export_report", { serverId, format }),
    openReport: (path) => call("open_report", { path }),
    openLink: (url) => call("open_link", { url }),
    fleetOverview: () => call("fleet_overview"),
    diagnoseAll: (onProgress) => call("diagnose_all", { onProgress: channel(onProgress) }),
    onCloseRequested: (handler) => { tauri.event.listen("close-requested", () => handler()); },
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
