// @ts-check
/**
 * The app's frame: picks the screen to show, keeps the step list in the sidebar in sync, moves
 * focus to each new screen's heading (so keyboard and screen-reader users land in the right
 * place), and holds what the wizard learned so far (`ctx.state`).
 *
 * A screen is a module exporting `render(ctx) => HTMLElement` (see ui/screens/); navigation goes
 * through `ctx.go(name, params)`.
 */
import { api } from "./api.js";
import { h, modal } from "./dom.js";
import { exportReport } from "./report.js";
import * as servers from "./screens/servers.js";
import * as connect from "./screens/connect.js";
import * as diagnosis from "./screens/diagnosis.js";
import * as fix from "./screens/fix.js";
import * as apply from "./screens/apply.js";
import * as history from "./screens/history.js";
import * as fleet from "./screens/fleet.js";
import * as sessions from "./screens/sessions.js";

/**
 * @typedef {{
 *   server: import('./types/api').ServerEntry | null,
 *   connected: import('./types/api').Connected | null,
 *   diagnosis: import('./types/api').DiagnosisView | null,
 *   busy: boolean,
 * }} WizardState
 * @typedef {{ api: import('./types/api').Api, go: (name: string, params?: any) => void, params: any, state: WizardState, refreshNav: () => void }} ScreenContext
 */

/** @type {Record<string, { step: string, render: (ctx: ScreenContext) => HTMLElement }>} */
const screens = {
  servers: { step: "servers", render: servers.render },
  connect: { step: "connect", render: connect.render },
  diagnosis: { step: "diagnose", render: diagnosis.render },
  fix: { step: "fix", render: fix.render },
  apply: { step: "verify", render: apply.render },
  history: { step: "history", render: history.render },
  fleet: { step: "fleet", render: fleet.render },
  sessions: { step: "sessions", render: sessions.render },
};

/** @type {WizardState} */
const state = { server: null, connected: null, diagnosis: null, busy: false };

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** @param {string} name @param {any} [params] */
function go(name, params) {
  const screen = screens[name];
  const ctx = { api, go, params, state, refreshNav };
  const el = screen.render(ctx);
  el.dataset.screen = name;
  main.replaceChildren(el);
  main.scrollTop = 0;
  window.scrollTo(0, 0);
  markStep(screen.step);
  refreshNav();
  const heading = el.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

/** @param {string} current */
function markStep(current) {
  // History and Fleet are beside the wizard's steps, not one of them.
  let done = current !== "history" && current !== "fleet" && current !== "sessions";
  for (const li of document.querySelectorAll("#steps li")) {
    const isCurrent = li.getAttribute("data-step") === current;
    if (isCurrent) done = false;
    li.removeAttribute("aria-current");
    if (isCurrent) li.setAttribute("aria-current", "step");
    li.toggleAttribute("data-done", done && !isCurrent);
  }
  document.getElementById("nav-history")?.toggleAttribute("aria-current", current === "history");
  document.getElementById("nav-fleet")?.toggleAttribute("aria-current", current === "fleet");
  document.getElementById("nav-sessions")?.toggleAttribute("aria-current", current === "sessions");
}

/** The "this server" tools: usable once connected, never while a change is being applied. */
function refreshNav() {
  const tools = /** @type {HTMLElement} */ (document.getElementById("server-tools"));
  const on = Boolean(state.connected) && !state.busy;
  tools.hidden = !state.connected;
  const name = document.getElementById("server-tools-name");
  if (name) name.textContent = state.server?.name ?? "";
  for (const b of tools.querySelectorAll("button")) b.toggleAttribute("disabled", !on);
  document.getElementById("nav-fleet")?.toggleAttribute("disabled", state.busy);
  const report = document.getElementById("nav-report");
  if (report && !state.diagnosis) report.setAttribute("disabled", "");
}

function wireNav() {
  document.getElementById("nav-history")?.addEventListener("click", () => go("history"));
  document.getElementById("nav-sessions")?.addEventListener("click", () => go("sessions"));
  document.getElementById("nav-report")?.addEventListener("click", () => {
    if (state.server && state.diagnosis) exportReport(api, state.server.id);
  });
  document.getElementById("nav-fleet")?.addEventListener("click", () => {
    if (!state.busy) go("fleet");
  });
  document.getElementById("nav-servers")?.addEventListener("click", () => {
    if (!state.busy) go("servers");
  });
}

/** Closing the window while a change is applied: ask, and never stop half-way. */
function wireClose() {
  api.onCloseRequested(async () => {
    const { result } = modal({
      title: "A change is being applied",
      testid: "close-dialog",
      body: [
        h("p", null, "Closing now could leave the server half-changed, so the app never just stops."),
        h("p", null, "If you choose to close, the app first finishes safely: before Odoo restarts it cancels and puts everything back; after that it waits until the change is verified (or rolled back), then closes by itself."),
      ],
      buttons: [
        { label: "Keep the window open", value: "stay" },
        { label: "Stop safely, then close", value: "close", kind: "button--quiet" },
      ],
    });
    if ((await result) === "close") await api.closeWhenIdle();
  });
}

async function start() {
  document.documentElement.dataset.api = api.kind;
  api.appInfo().then(
    (info) => {
      const version = document.getElementById("app-version");
      if (version) version.textContent = `Version ${info.version}${api.kind === "mock" ? " (mock)" : ""}`;
    },
    () => {},
  );
  wireNav();
  wireClose();
  go("servers");
}

start().catch((error) => {
  main.replaceChildren(h("p", { class: "notice notice--error", role: "alert" }, `The app could not start: ${error?.message ?? error}`));
});
