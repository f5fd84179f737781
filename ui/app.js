// @ts-check
/**
 * The app's frame: picks the screen to show, keeps the step list in the sidebar in sync and moves
 * focus to each new screen's heading (so keyboard and screen-reader users land in the right place).
 *
 * A screen is a module exporting `render(ctx) => HTMLElement` (see ui/screens/). The wizard adds
 * screens (connect, diagnose, fix, verify, history, report) and registers them in `screens` below;
 * navigation between them goes through `ctx.go(name, params)`.
 */
import { api } from "./api.js";
import { h } from "./dom.js";
import * as servers from "./screens/servers.js";

/** @typedef {{ api: import('./types/api').Api, go: (name: string, params?: any) => void, params: any }} ScreenContext */

/** @type {Record<string, { step: string, render: (ctx: ScreenContext) => HTMLElement }>} */
const screens = {
  servers: { step: "servers", render: servers.render },
};

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** @param {string} name @param {any} [params] */
function go(name, params) {
  const screen = screens[name];
  const el = screen.render({ api, go, params });
  el.dataset.screen = name;
  main.replaceChildren(el);
  markStep(screen.step);
  const heading = el.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

/** @param {string} current */
function markStep(current) {
  let done = true;
  for (const li of document.querySelectorAll("#steps li")) {
    const isCurrent = li.getAttribute("data-step") === current;
    if (isCurrent) done = false;
    li.toggleAttribute("aria-current", isCurrent);
    if (isCurrent) li.setAttribute("aria-current", "step");
    li.toggleAttribute("data-done", done && !isCurrent);
  }
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
  go("servers");
}

start().catch((error) => {
  main.replaceChildren(h("p", { class: "notice notice--error", role: "alert" }, `The app could not start: ${error?.message ?? error}`));
});
