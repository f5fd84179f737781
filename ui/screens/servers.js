// @ts-check
/**
 * Servers: the first screen. Lists the saved servers (and the demo lab in demo mode), adds,
 * edits and removes them, imports hosts from ~/.ssh/config, and starts a connection.
 * @typedef {import('../types/api').ServerEntry} ServerEntry
 * @typedef {import('../types/api').ServerInput} ServerInput
 * @typedef {import('../types/api').AppError} AppError
 * @typedef {import('../app.js').ScreenContext} ScreenContext
 */
import { errorNotice, h, modal } from "../dom.js";

/** @param {ScreenContext} ctx */
export function render(ctx) {
  ctx.state.connected = null;
  ctx.state.diagnosis = null;
  const body = h("div", { class: "servers__body", "aria-busy": "true" },
    h("p", { class: "progress", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Looking for your servers…"));
  const panel = h("div", { class: "servers__panel" });
  const addButton = h("button", { class: "button", type: "button", "data-testid": "add-server" }, "Add a server");
  const importButton = h("button", { class: "button button--quiet", type: "button", "data-testid": "import-ssh" }, "Import from SSH config");
  const screen = h("section", { class: "screen screen--servers", "aria-labelledby": "servers-title" },
    h("h1", { id: "servers-title" }, "Servers"),
    h("p", { class: "lead" }, "Choose the Odoo server where people keep getting “Session Expired”. The app connects to it over SSH (the secure remote login you may already use), looks for the cause and walks you through the fix. Nothing is changed without your OK."),
    h("div", { class: "actions" }, addButton, importButton),
    panel,
    body);

  const reload = () => load(ctx, body, panel);
  addButton.addEventListener("click", () => showForm(ctx, panel, null, reload));
  importButton.addEventListener("click", () => showImport(ctx, panel, reload));
  load(ctx, body, panel, ctx.params?.edit);
  return screen;
}

/**
 * @param {ScreenContext} ctx @param {HTMLElement} body @param {HTMLElement} panel
 * @param {string} [editId] a server whose form opens once the list is there ("Edit this server"
 * after a failed connection)
 */
function load(ctx, body, panel, editId) {
  ctx.api.listServers().then(
    (servers) => {
      body.removeAttribute("aria-busy");
      const reload = () => load(ctx, body, panel);
      body.replaceChildren(servers.length ? serverList(ctx, servers, panel, reload) : emptyState());
      const editing = editId && servers.find((s) => s.id === editId && s.kind === "saved");
      if (editing) showForm(ctx, panel, editing, reload);
    },
    (/** @type {AppError} */ error) => {
      body.removeAttribute("aria-busy");
      body.replaceChildren(errorNotice("Your servers could not be loaded.", error));
    },
  );
}

function emptyState() {
  return h("div", { class: "card empty", "data-testid": "servers-empty" },
    h("h2", null, "No servers yet"),
    h("p", null, "Add the server that runs Odoo (its address and how you log in with SSH), or import it from your SSH config. Passwords are asked when you connect, and kept in the system keyring only if you tick Remember — never in servers.toml."));
}

/** @param {ScreenContext} ctx @param {ServerEntry[]} servers @param {HTMLElement} panel @param {() => void} reload */
function serverList(ctx, servers, panel, reload) {
  return h("ul", { class: "server-list", "aria-label": "Servers" }, ...servers.map((s) => serverCard(ctx, s, panel, reload)));
}

const AUTH_WORDS = { agent: "SSH agent (your loaded keys)", key: "Key file", password: "Password (asked each time)" };

/** @param {ScreenContext} ctx @param {ServerEntry} server @param {HTMLElement} panel @param {() => void} reload */
function serverCard(ctx, server, panel, reload) {
  const titleId = `server-${server.id}-name`;
  const connect = h("button", { class: "button", type: "button", "aria-describedby": titleId, "data-testid": "connect" }, "Connect");
  connect.addEventListener("click", () => {
    ctx.state.server = server;
    ctx.go("connect");
  });
  const edit = server.kind === "saved" && h("button", { class: "button button--quiet", type: "button", "aria-describedby": titleId, "data-testid": "edit" }, "Edit");
  const remove = server.kind === "saved" && h("button", { class: "button button--quiet button--danger", type: "button", "aria-describedby": titleId, "data-testid": "remove" }, "Remove");
  if (edit) edit.addEventListener("click", () => showForm(ctx, panel, server, reload));
  if (remove) remove.addEventListener("click", async () => {
    const { result } = modal({
      title: `Remove “${server.name}”?`,
      body: [h("p", null, "It is removed from this app's list only. Nothing changes on the server, and its change history stays there.")],
      buttons: [{ label: "Keep it", value: "keep" }, { label: "Remove", value: "remove", kind: "button--danger" }],
    });
    if ((await result) !== "remove") return;
    try {
      await ctx.api.removeServer(server.id);
      reload();
    } catch (e) {
      panel.replaceChildren(errorNotice("The server could not be removed.", /** @type {AppError} */ (e)));
    }
  });

  const details = h("dl", { class: "server__details" },
    h("dt", null, "Signs in as"), h("dd", null, server.user),
    h("dt", null, "Logs in with"), h("dd", null, AUTH_WORDS[server.auth], server.keyFile && h("span", { class: "mono" }, ` ${server.keyFile}`)),
    server.instance && h("dt", null, "Odoo"),
    server.instance && h("dd", { class: "mono" }, server.instance),
    server.hostKeyFingerprint && h("dt", null, "Host key"),
    server.hostKeyFingerprint && h("dd", { class: "mono", "data-testid": "host-key" }, server.hostKeyFingerprint),
    server.scenario && h("dt", null, "Lab scenario"),
    server.scenario && h("dd", null, server.scenario));

  return h("li", { class: "card server", "data-server-id": server.id, "data-testid": "server" },
    h("h2", { class: "server__name", id: titleId }, server.name,
      server.kind === "demo" && h("span", { class: "badge", title: "A disposable test server started by the demo" }, "Demo")),
    h("span", { class: "server__address" }, `${server.user}@${server.host}:${server.port}`),
    h("div", { class: "server__actions" }, connect, edit, remove),
    details);
}

/**
 * The add/edit form. Validation happens in the backend (one rule set); its message is shown
 * next to the form and focus goes back to the form.
 * @param {ScreenContext} ctx @param {HTMLElement} panel @param {ServerEntry | null} server @param {() => void} reload
 */
function showForm(ctx, panel, server, reload) {
  /** @param {string} id @param {string} label @param {string} value @param {Record<string, any>} [attrs] @param {Node | string | null} [help] */
  const field = (id, label, value, attrs = {}, help = null) => h("div", { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name: id, value, ...attrs, ...(help ? { "aria-describedby": `${id}-help` } : {}) }),
    help && h("p", { class: "field__help", id: `${id}-help` }, help));
  const auth = server?.auth ?? "agent";
  const radio = (/** @type {string} */ value, /** @type {string} */ label, /** @type {string} */ hint) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "auth", value, checked: auth === value }),
    h("span", null, h("strong", null, label), h("span", { class: "choice__hint" }, hint)));
  const keyField = field("server-key", "Key file", server?.keyFile ?? "", { placeholder: "~/.ssh/id_ed25519", autocomplete: "off" }, "The private key's path on this computer. Its passphrase, if any, is asked when connecting.");
  const keyInput = /** @type {HTMLInputElement} */ (keyField.querySelector("input"));
  const browse = h("button", { class: "button button--quiet", type: "button", "data-testid": "browse-key", "aria-label": "Browse for the key file" }, "Browse…");
  browse.addEventListener("click", async () => {
    try {
      const path = await ctx.api.chooseKeyFile();
      if (path) keyInput.value = path;
    } catch (e) {
      message.replaceChildren(errorNotice("The file dialog could not open.", /** @type {AppError} */ (e)));
    }
    keyInput.focus();
  });
  const keyRow = h("div", { class: "field__row" });
  keyInput.replaceWith(keyRow);
  keyRow.append(keyInput, browse);
  const message = h("div", { class: "form__message", "aria-live": "polite" });
  const form = h("form", { class: "card form", "data-testid": "server-form", "aria-labelledby": "server-form-title", novalidate: true },
    h("h2", { id: "server-form-title" }, server ? `Edit “${server.name}”` : "Add a server"),
    h("div", { class: "form__grid" },
      field("server-name", "Name", server?.name ?? "", { required: true, autocomplete: "off", placeholder: "Production" }, "Any name you will recognise."),
      field("server-host", "Address", server?.host ?? "", { required: true, autocomplete: "off", placeholder: "odoo.example.com" }, "Host name, IP address, or an alias from your SSH config."),
      field("server-port", "SSH port", String(server?.port ?? 22), { inputmode: "numeric", autocomplete: "off" }),
      field("server-user", "User", server?.user ?? "root", { required: true, autocomplete: "off" }, "The login you use with ssh. Root, or a user allowed to use sudo (to act as root).")),
    h("fieldset", { class: "choices" },
      h("legend", null, "Log in with"),
      radio("agent", "SSH agent", "Keys you already loaded (ssh-add), like the ssh command does."),
      radio("key", "Key file", "A private key file on this computer."),
      radio("password", "Password", "Asked when you connect; remembered in the system keyring only if you tick Remember.")),
    keyField,
    h("details", { class: "advanced" },
      h("summary", null, "Advanced"),
      field("server-instance", "Odoo config file", server?.instance ?? "", { autocomplete: "off", placeholder: "/etc/odoo/odoo.conf" }, "The file with Odoo's settings on the server, such as /etc/odoo/odoo.conf. Leave it empty: the app finds it. Fill it in only if the app cannot, or to pick one of several Odoo servers here (a config file or HTTP port)."),
      field("server-state-dir", "Record directory on the server", server?.stateDir ?? "", { autocomplete: "off", placeholder: "/var/lib/odoo-session-doctor" }, "Where the app keeps backups and the history of its changes, on the server.")),
    message,
    h("div", { class: "actions" },
      h("button", { class: "button", type: "submit", "data-testid": "save-server" }, server ? "Save changes" : "Add server"),
      h("button", { class: "button button--quiet", type: "button", "data-action": "cancel" }, "Cancel")));

  const syncKey = () => { keyField.hidden = /** @type {HTMLInputElement} */ (form.querySelector("input[name=auth]:checked")).value !== "key"; };
  form.addEventListener("change", syncKey);
  syncKey();
  form.querySelector("[data-action=cancel]")?.addEventListener("click", () => panel.replaceChildren());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (form.querySelector(`#${id}`)).value.trim();
    const authValue = /** @type {import('../types/api').AuthMethod} */ (/** @type {HTMLInputElement} */ (form.querySelector("input[name=auth]:checked")).value);
    const port = Number(value("server-port") || "22");
    /** @type {ServerInput} */
    const input = {
      name: value("server-name"), host: value("server-host"), user: value("server-user"), auth: authValue,
      port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 0,
    };
    if (server) input.id = server.id;
    if (authValue === "key") input.keyFile = value("server-key");
    if (value("server-instance")) input.instance = value("server-instance");
    if (value("server-state-dir")) input.stateDir = value("server-state-dir");
    message.replaceChildren();
    try {
      await ctx.api.saveServer(input);
      panel.replaceChildren();
      reload();
    } catch (e) {
      message.replaceChildren(errorNotice("Not saved.", /** @type {AppError} */ (e)));
      /** @type {HTMLElement | null} */ (form.querySelector("input"))?.focus();
    }
  });
  panel.replaceChildren(form);
  /** @type {HTMLInputElement} */ (form.querySelector("#server-name")).focus();
}

/** The hosts of ~/.ssh/config, to tick and import. @param {ScreenContext} ctx @param {HTMLElement} panel @param {() => void} reload */
async function showImport(ctx, panel, reload) {
  panel.replaceChildren(h("p", { class: "progress", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Reading your SSH config…"));
  try {
    const hosts = await ctx.api.sshConfigHosts();
    if (!hosts.length) {
      panel.replaceChildren(h("div", { class: "card empty", "data-testid": "import-empty" },
        h("h2", null, "Nothing to import"),
        h("p", null, "Your SSH config (~/.ssh/config) names no single host. Add the server by hand instead.")));
      return;
    }
    const rows = hosts.map((host) => h("label", { class: "choice" },
      h("input", { type: "checkbox", name: "alias", value: host.alias, disabled: host.alreadySaved }),
      h("span", null, h("strong", null, host.alias),
        h("span", { class: "choice__hint" }, `${host.user}@${host.hostName ?? host.alias}:${host.port}${host.keyFile ? `, key ${host.keyFile}` : ""}${host.alreadySaved ? " — already saved" : ""}`))));
    const form = h("form", { class: "card form", "data-testid": "import-form", "aria-labelledby": "import-title" },
      h("h2", { id: "import-title" }, "Import from your SSH config"),
      h("p", { class: "field__help" }, "Each host keeps its alias as its address, so later edits of your SSH config still apply."),
      h("fieldset", { class: "choices" }, h("legend", null, "Hosts"), ...rows),
      h("div", { class: "actions" },
        h("button", { class: "button", type: "submit" }, "Import selected"),
        h("button", { class: "button button--quiet", type: "button", "data-action": "cancel" }, "Cancel")));
    form.querySelector("[data-action=cancel]")?.addEventListener("click", () => panel.replaceChildren());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const aliases = [...form.querySelectorAll("input[name=alias]:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
      if (!aliases.length) return;
      try {
        await ctx.api.importSshHosts(aliases);
        panel.replaceChildren();
        reload();
      } catch (e) {
        form.append(errorNotice("Not imported.", /** @type {AppError} */ (e)));
      }
    });
    panel.replaceChildren(form);
    /** @type {HTMLElement | null} */ (form.querySelector("input:not([disabled])"))?.focus();
  } catch (e) {
    panel.replaceChildren(errorNotice("Your SSH config could not be read.", /** @type {AppError} */ (e)));
  }
}

