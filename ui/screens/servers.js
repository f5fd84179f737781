// @ts-check
/**
 * Servers: the first screen. Lists the servers the admin can work on (today: the demo lab when
 * the app runs in demo mode; the wizard adds saved servers, add/edit/remove and ~/.ssh/config
 * import) and connects to one.
 * @typedef {import('../types/api').ServerEntry} ServerEntry
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { h } from "../dom.js";

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const list = h("div", { class: "servers__body", "aria-busy": "true" },
    h("p", { class: "loading", role: "status" }, "Looking for your servers…"));
  const screen = h("section", { class: "screen screen--servers", "aria-labelledby": "servers-title" },
    h("h1", { id: "servers-title" }, "Servers"),
    h("p", { class: "lead" }, "Choose the Odoo server where people keep getting “Session Expired”. The app connects to it over SSH, looks for the cause and walks you through the fix. Nothing is changed without your OK."),
    list);

  ctx.api.listServers().then(
    (servers) => {
      list.removeAttribute("aria-busy");
      list.replaceChildren(servers.length ? serverList(ctx, servers) : emptyState());
    },
    (/** @type {AppError} */ error) => {
      list.removeAttribute("aria-busy");
      list.replaceChildren(errorNotice("Your servers could not be loaded.", error));
    },
  );
  return screen;
}

function emptyState() {
  return h("div", { class: "card empty", "data-testid": "servers-empty" },
    h("h2", null, "No servers yet"),
    h("p", null, "Servers you add will show up here, with how the app reaches them over SSH."));
}

/** @param {ScreenContext} ctx @param {ServerEntry[]} servers */
function serverList(ctx, servers) {
  return h("ul", { class: "server-list", "aria-label": "Servers" }, ...servers.map((s) => serverCard(ctx, s)));
}

/** @param {ScreenContext} ctx @param {ServerEntry} server */
function serverCard(ctx, server) {
  const titleId = `server-${server.id}-name`;
  const status = h("div", { class: "status", role: "status", "aria-live": "polite" });
  const button = h("button", { class: "button", type: "button", "aria-describedby": titleId }, "Connect");
  button.addEventListener("click", () => connect(ctx, server, button, status));

  const details = h("dl", { class: "server__details" },
    h("dt", null, "Signs in as"), h("dd", null, server.user),
    server.hostKeyFingerprint && h("dt", null, "Host key"),
    server.hostKeyFingerprint && h("dd", { class: "mono", "data-testid": "host-key" }, server.hostKeyFingerprint),
    server.scenario && h("dt", null, "Lab scenario"),
    server.scenario && h("dd", null, server.scenario));

  return h("li", { class: "card server", "data-server-id": server.id, "data-testid": "server" },
    h("h2", { class: "server__name", id: titleId }, server.name,
      server.kind === "demo" && h("span", { class: "badge", title: "A disposable test server started by the demo" }, "Demo")),
    h("span", { class: "server__address" }, `${server.user}@${server.host}:${server.port}`),
    h("div", { class: "server__actions" }, button),
    details,
    status);
}

/**
 * @param {ScreenContext} ctx @param {ServerEntry} server
 * @param {HTMLElement} button @param {HTMLElement} status
 */
async function connect(ctx, server, button, status) {
  button.setAttribute("disabled", "");
  status.className = "status status--progress";
  status.textContent = `Connecting to ${server.host}…`;
  try {
    const connected = await ctx.api.connect(server.id, (event) => {
      if (event.event === "step") status.textContent = event.data.message;
    });
    status.className = "status status--ok";
    status.textContent = `Connected to ${connected.hostName}. Its host key is ${connected.hostKeyFingerprint}.`;
  } catch (error) {
    status.className = "status";
    status.replaceChildren(errorNotice("Could not connect.", /** @type {AppError} */ (error)));
  } finally {
    button.removeAttribute("disabled");
  }
}

/** @param {string} title @param {AppError} error */
function errorNotice(title, error) {
  return h("div", { class: "notice notice--error", role: "alert", "data-error-code": error.code },
    h("p", { class: "notice__title" }, title, " ", error.message),
    error.hint && h("p", { class: "notice__hint" }, error.hint));
}
