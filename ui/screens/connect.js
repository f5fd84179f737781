// @ts-check
/**
 * Connect: SSH to the chosen server with progress in words. An unknown host key opens a dialog
 * to compare and trust it; a changed key is a warning screen, never a silent accept; a password
 * or passphrase the server asks for is asked here, kept in the system keyring only when the person
 * ticks Remember (never in servers.toml), and forgotten with Forget; other errors say what to do.
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../types/api').ConnectSecrets} ConnectSecrets
 * @typedef {import('../types/api').Connected} Connected
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { errorNotice, fill, h, modal, progressLine } from "../dom.js";

/** @param {ScreenContext} ctx */
export function render(ctx) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const body = h("div", { class: "connect__body" });
  const screen = h("section", { class: "screen screen--connect", "aria-labelledby": "connect-title" },
    h("h1", { id: "connect-title" }, `Connect to ${server.name}`),
    h("p", { class: "lead" }, `${server.user}@${server.host}:${server.port}. The app first checks the server's host key — its SSH identity — so you know you reach the right machine.`),
    body);
  if (server.auth === "password") {
    // A password remembered in the keyring logs in without the form.
    ctx.api.rememberedSecrets(server.id).catch(() => /** @type {import("../types/api").SecretKind[]} */ ([])).then((kept) => kept.includes("password")
      ? attempt(ctx, body, {})
      : askSecret(ctx, body, "password", `SSH password for ${server.user}@${server.host}`, {}));
  } else attempt(ctx, body, {});
  return screen;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ConnectSecrets} secrets */
async function attempt(ctx, body, secrets) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const progress = progressLine(`Connecting to ${server.host}…`);
  body.replaceChildren(progress.el);
  try {
    const connected = await ctx.api.connect(server.id, secrets, progress.onEvent);
    ctx.state.connected = connected;
    showConnected(ctx, body, connected);
  } catch (e) {
    const error = /** @type {AppError} */ (e);
    const d = /** @type {any} */ (error.details);
    if (error.code === "unknown_host_key" && d?.kind === "unknownHostKey") return unknownKey(ctx, body, secrets, error, d);
    if (error.code === "host_key_changed" && d?.kind === "hostKeyChanged") return changedKey(ctx, body, error, d);
    if (error.code === "secret_needed" && d?.kind === "secretNeeded") return askSecret(ctx, body, d.secret, d.prompt, secrets);
    if (error.code === "auth_failed" && server.auth === "password") {
      return askSecret(ctx, body, "password", `SSH password for ${server.user}@${server.host}`, secrets, error);
    }
    if (error.code === "sudo_password_rejected") return askSecret(ctx, body, "sudoPassword", `sudo password for ${server.user}`, secrets, error);
    if (error.code === "key_passphrase_wrong") return askSecret(ctx, body, "keyPassphrase", `passphrase for ${server.keyFile ?? "the key"}`, secrets, error);
    showError(ctx, body, secrets, error);
  }
}

/**
 * The first connection to a server: show the fingerprint and how to check it on the server.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {ConnectSecrets} secrets @param {AppError} error
 * @param {{host: string, port: number, keyType: string, fingerprint: string, compareCommand: string}} d
 */
async function unknownKey(ctx, body, secrets, error, d) {
  body.replaceChildren(h("p", { class: "muted", role: "status" }, "Waiting for you to check the server's host key…"));
  const { result } = modal({
    title: "Is this the right server?",
    testid: "host-key-dialog",
    body: [
      h("p", null, error.message, " A host key is the server's SSH identity; checking it once protects every later connection from an impostor."),
      h("p", null, "The server presented this ", d.keyType, " key fingerprint:"),
      h("p", { class: "fingerprint mono", "data-testid": "fingerprint" }, d.fingerprint),
      h("p", null, "To compare, run this on the server (for example in your hosting provider's web console), and check that it prints the same SHA256 text. It asks the server's own SSH service for the key it really uses, whatever file that key is in:"),
      h("pre", { class: "command", "data-testid": "compare-command", tabindex: "0" }, d.compareCommand),
      h("p", { class: "muted" }, "If they match, trust the key: the app remembers it and checks it at every connection. If they differ, do not connect."),
    ],
    buttons: [
      { label: "Cancel", value: "cancel", kind: "button--quiet" },
      { label: "Trust and connect", value: "trust" },
    ],
  });
  if ((await result) !== "trust") {
    body.replaceChildren(
      h("div", { class: "notice", role: "status" }, h("p", { class: "notice__title" }, "Not connected."), h("p", { class: "notice__hint" }, "The host key was not trusted. Nothing was sent to the server.")),
      h("div", { class: "actions" }, retryButton(ctx, body, secrets), backButton(ctx)));
    return;
  }
  try {
    await ctx.api.trustHostKey(/** @type {any} */ (ctx.state.server).id, d.fingerprint);
    attempt(ctx, body, secrets);
  } catch (e) {
    showError(ctx, body, secrets, /** @type {AppError} */ (e));
  }
}

/**
 * A changed host key: a warning screen with both fingerprints. There is no button to accept it.
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {AppError} error
 * @param {{host: string, port: number, keyType: string, expectedFingerprint: string, actualFingerprint: string, knownHostsFile: string, line: number, compareCommand: string}} d
 */
function changedKey(ctx, body, error, d) {
  body.replaceChildren(h("div", { class: "warning-screen", role: "alert", "data-testid": "host-key-changed" },
    h("h2", null, "Warning: the server's identity has changed"),
    h("p", null, error.message, " ", error.hint),
    h("dl", { class: "fingerprints" },
      h("dt", null, "Known until now"), h("dd", { class: "mono", "data-testid": "expected-fingerprint" }, d.expectedFingerprint),
      h("dt", null, "Presented now"), h("dd", { class: "mono", "data-testid": "actual-fingerprint" }, d.actualFingerprint)),
    h("p", null, "The app did not log in and sent nothing. Ask whoever runs the server whether it was reinstalled or its keys replaced. To compare, run on the server:"),
    h("pre", { class: "command", tabindex: "0" }, d.compareCommand),
    h("p", { class: "muted" }, `Only if you are sure the new key is right: remove line ${d.line} of ${d.knownHostsFile}, then connect again.`),
    h("div", { class: "actions" }, backButton(ctx))));
  /** @type {HTMLElement | null} */ (body.querySelector("h2"))?.setAttribute("tabindex", "-1");
  /** @type {HTMLElement | null} */ (body.querySelector("h2"))?.focus();
}

const SECRET_LABEL = { password: "SSH password", keyPassphrase: "Key passphrase", sudoPassword: "sudo password" };

/**
 * Asks for one secret, then connects again with it (kept in memory for this connection only).
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {"password" | "keyPassphrase" | "sudoPassword"} kind
 * @param {string} prompt @param {ConnectSecrets} secrets @param {AppError} [error]
 */
function askSecret(ctx, body, kind, prompt, secrets, error) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const input = h("input", { id: "secret", type: "password", autocomplete: "off", "aria-describedby": "secret-help", "data-testid": "secret" });
  const remember = h("input", { id: "remember", type: "checkbox", "data-testid": "remember" });
  const forgetSlot = h("div", { class: "actions" });
  const form = h("form", { class: "card form", "data-testid": "secret-form", "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, `The ${prompt}`),
    error && errorNotice("That did not work.", error),
    h("div", { class: "field" },
      h("label", { for: "secret" }, SECRET_LABEL[kind]),
      input,
      h("p", { class: "field__help", id: "secret-help" },
        kind === "sudoPassword"
          ? "sudo lets this login act as root; it asks for the login's own password. Used for this connection only unless you tick Remember."
          : "Used for this connection only unless you tick Remember.")),
    server.kind === "saved" && h("div", { class: "field field--check" },
      remember,
      h("label", { for: "remember" }, `Remember this ${kind === "keyPassphrase" ? "passphrase" : "password"} in the system keyring`),
      h("p", { class: "field__help", "data-testid": "agent-first" },
        "ssh-agent stays the first choice: with your key loaded in the agent (login method \"agent\"), nothing needs remembering. A remembered secret lives in the system keyring, never in servers.toml.")),
    forgetSlot,
    h("div", { class: "actions" },
      h("button", { class: "button", type: "submit" }, "Connect"),
      error && editButton(ctx),
      backButton(ctx)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(ctx, body, { ...secrets, [kind]: /** @type {HTMLInputElement} */ (input).value, remember: /** @type {HTMLInputElement} */ (remember).checked });
  });
  body.replaceChildren(form);
  input.focus();
  // A remembered secret that was refused (or is no longer wanted) can be forgotten here.
  if (server.kind === "saved") {
    ctx.api.rememberedSecrets(server.id).catch(() => /** @type {import("../types/api").SecretKind[]} */ ([])).then((kept) => {
      if (kept.length) forgetSlot.replaceChildren(forgetButton(ctx, forgetSlot));
    });
  }
}

/** The connected screen's line about a remembered secret, with Forget. @param {ScreenContext} ctx */
function rememberedSlot(ctx) {
  const slot = h("div", { class: "actions", "data-testid": "remembered" },
    h("p", { class: "muted" }, "A secret for this server is remembered in the system keyring."));
  slot.append(forgetButton(ctx, slot));
  return slot;
}

/** "Forget the remembered password": removes the server's secrets from the keyring. @param {ScreenContext} ctx @param {HTMLElement} slot */
function forgetButton(ctx, slot) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  const b = h("button", { class: "button button--quiet", type: "button", "data-testid": "forget-secrets" }, "Forget the remembered password");
  b.addEventListener("click", async () => {
    try {
      await ctx.api.forgetSecrets(server.id);
      slot.replaceChildren(h("p", { class: "muted", role: "status", "data-testid": "forgotten" }, "Forgotten: the system keyring no longer holds a secret for this server."));
    } catch (e) {
      slot.replaceChildren(errorNotice("Could not forget it.", /** @type {AppError} */ (e)));
    }
  });
  return b;
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ConnectSecrets} secrets @param {AppError} error */
function showError(ctx, body, secrets, error) {
  fill(body, errorNotice("Could not connect.", error), h("div", { class: "actions" }, retryButton(ctx, body, secrets), editButton(ctx), backButton(ctx)));
  /** @type {HTMLElement | null} */ (body.querySelector("button"))?.focus();
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {Connected} c */
function showConnected(ctx, body, c) {
  const next = h("button", { class: "button", type: "button", "data-testid": "diagnose" }, "Diagnose this server");
  next.addEventListener("click", () => ctx.go("diagnosis"));
  const history = h("button", { class: "button button--quiet", type: "button" }, "Open History");
  history.addEventListener("click", () => ctx.go("history"));
  fill(body,
    h("div", { class: "notice notice--ok", role: "status", "data-testid": "connected" },
      h("p", { class: "notice__title" }, `Connected to ${c.hostName} as ${c.user}.`),
      h("p", { class: "notice__hint" }, "Host key ", h("span", { class: "mono", "data-testid": "connected-fingerprint" }, c.hostKeyFingerprint), " — checked.")),
    c.keyringNote && h("div", { class: "notice notice--warn", role: "status", "data-testid": "keyring-note" },
      h("p", { class: "notice__title" }, "Connected, but the password could not be remembered."),
      h("p", { class: "notice__hint" }, c.keyringNote)),
    c.remembered.length > 0 && rememberedSlot(ctx),
    c.power === "none" && h("div", { class: "notice notice--warn", role: "alert", "data-testid": "no-root" },
      h("p", { class: "notice__title" }, `The login ${c.user} cannot act as root on this server.`),
      h("p", { class: "notice__hint" }, "The app can look at some things but cannot read Odoo's protected files or fix anything. Use root, or a user allowed to use sudo.")),
    c.unfinished.length > 0 && h("div", { class: "notice notice--warn", role: "alert", "data-testid": "unfinished" },
      h("p", { class: "notice__title" }, `A change on this server is not settled (${c.unsettled.map((u) => u.id).join(", ")}).`),
      ...c.unsettled.map((u) => h("div", { "data-testid": "unsettled", "data-id": u.id },
        h("p", { class: "notice__hint" }, `${u.id}: ${u.state}.`),
        u.changed.length > 0 && h("ul", { class: "unsettled__changed" }, ...u.changed.map((x) => h("li", null, x))))),
      h("p", { class: "notice__hint" }, "Settle it before anything else: roll it back from History."),
      h("div", { class: "actions" }, history)),
    h("div", { class: "actions" }, next, backButton(ctx)));
  ctx.refreshNav();
  (c.unfinished.length ? history : next).focus();
}

/** @param {ScreenContext} ctx @param {HTMLElement} body @param {ConnectSecrets} secrets */
function retryButton(ctx, body, secrets) {
  const b = h("button", { class: "button", type: "button" }, "Try again");
  b.addEventListener("click", () => attempt(ctx, body, secrets));
  return b;
}

/**
 * A wrong address, port, user or key is fixed in the server's form: open it, filled in. (The
 * demo lab is not saved, so it has no form.)
 * @param {ScreenContext} ctx
 */
function editButton(ctx) {
  const server = /** @type {import('../types/api').ServerEntry} */ (ctx.state.server);
  if (server.kind !== "saved") return null;
  const b = h("button", { class: "button button--quiet", type: "button", "data-testid": "edit-server" }, "Edit this server");
  b.addEventListener("click", () => ctx.go("servers", { edit: server.id }));
  return b;
}

/** @param {ScreenContext} ctx */
function backButton(ctx) {
  const b = h("button", { class: "button button--quiet", type: "button" }, "Back to servers");
  b.addEventListener("click", () => ctx.go("servers"));
  return b;
}
