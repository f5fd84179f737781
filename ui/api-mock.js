// @ts-check
/**
 * The mock backend: same shape as the real one (ui/types/api.d.ts), canned answers, small
 * delays so progress states are visible. Scenarios (`?mock=<name>`):
 *   demo               the demo lab (short-lifetime); every step succeeds
 *   empty              no servers at all; the history of a connected server is empty
 *   load-fails         listing servers fails
 *   connect-fails      connecting fails: host unreachable
 *   unknown-key        the first connection meets an unknown host key; Trust lets it through
 *   changed-key        the host key changed since last time (always refused)
 *   needs-password     the server asks for the SSH password first
 *   no-root            the login cannot become root
 *   several-instances  three Odoo servers are set up on the host (17 under supervisor, 18 started
 *                      by hand, a 17 under systemd that fails to start); diagnosing asks which,
 *                      and the diagnosis page can switch to another
 *   undecided-databases  the instance's config does not say which of three databases people use:
 *                      the diagnosis asks, and the database checks wait for the choice
 *   every-status       the checklist shows every status: ok, warn, fail, skip, unknown (and a
 *                      warning that only informs: devices people revoked, no fix)
 *   healthy            every check passes: nothing to fix
 *   diagnose-fails     the diagnosis fails (no Odoo running)
 *   apply-rolls-back   applying fails validation and everything is rolled back
 *   unfinished         an earlier apply was cut off half-way: connecting says so; History rolls it back
 *   fleet50            50 saved servers for the Fleet screen: a few with a result from earlier;
 *                      "Diagnose all" finds most healthy, some failing, some unreachable, some
 *                      needing the person (an untrusted key, a password login)
 * @typedef {import('./types/api').Api} Api
 * @typedef {import('./types/api').ServerEntry} ServerEntry
 * @typedef {import('./types/api').Finding} Finding
 * @typedef {import('./types/api').DiagnosisView} DiagnosisView
 * @typedef {import('./types/api').ChangeSet} ChangeSet
 * @typedef {import('./types/api').CheckId} CheckId
 * @typedef {import('./types/api').ChangeRecord} ChangeRecord
 * @typedef {import('./types/api').ProgressEvent} ProgressEvent
 */
import { fleetResult, fleetServers, ONE_INSTANCE, SEVERAL_INSTANCES, SHORT_LIFETIME_CHECKS } from "./mock-data.js";
import { count, form } from "./words.js";

/** @type {ServerEntry} */
const DEMO_SERVER = {
  id: "demo-lab",
  name: "Demo lab",
  host: "127.0.0.1",
  port: 2222,
  user: "root",
  auth: "key",
  keyFile: "/tmp/osd-lab-mock/keys/id_ed25519",
  instance: "/tmp/osd-lab-mock/etc/odoo.conf",
  stateDir: "/tmp/osd-lab-mock/state",
  hostKeyFingerprint: "SHA256:mockmockmockmockmockmockmockmockmockmockmoc",
  kind: "demo",
  scenario: "short-lifetime",
};

const FINGERPRINT = "SHA256:Xy3mZp0f6mE1kq0p9t3WqS8jH2vX5bQh9aY7fK1sLc4";

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/** @template T @param {T} v @returns {T} */
const clone = (v) => JSON.parse(JSON.stringify(v));

/** @param {string} code @param {string} message @param {string} hint @param {any} [details] */
const fail = (code, message, hint, details) => ({ code, message, hint, ...(details ? { details } : {}) });

/** @param {(e: ProgressEvent) => void} on @param {import('./types/api').Step} step @param {string} message @param {boolean} [cancellable] */
const step = (on, step, message, cancellable = false) => {
  const [words, detail] = message.split(/: (.*)/s);
  on({ event: "step", data: { step, message: detail ? `${words}…` : message, detail: detail ?? "", cancellable } });
};

/** The checklist for a scenario. @param {string} scenario @param {boolean} fixed @returns {Finding[]} */
function checksFor(scenario, fixed) {
  const checks = clone(SHORT_LIFETIME_CHECKS);
  /** @param {string} id @param {any} patch */
  const set = (id, patch) => Object.assign(/** @type {Finding} */ (checks.find((c) => c.id === id)), patch);
  if (fixed || scenario === "healthy") {
    set("session.lifetime", { status: "ok", summary: "Idle sessions live 1 day.", fixes: [], remedy: { kind: "none" } });
    set("session.cleanup-runs", { status: "ok", summary: "Odoo's cleanup runs.", evidence: [], remedy: { kind: "none" } });
  }
  if (scenario === "every-status") {
    set("proxy.sticky", { status: "skip", summary: "Only one Odoo server: nothing to share." });
    set("db.filter", { status: "unknown", summary: "The database filter could not be read: the database did not answer.", remedy: { kind: "needs_you", why: "The app has no automatic fix for this; it needs a decision on the server.", steps: ["Check that PostgreSQL answers, then diagnose again."] } });
    // An inform-only finding (Odoo 18, devices people revoked): a warning without a fix or steps.
    set("session.revoked", {
      status: "warn",
      summary: "Sessions were ended on purpose in the last 7 days: 2 sessions of marc (last 2026-12-01 04:15 UTC), 1 session of lea (last 2026-11-29 07:15 UTC).",
      users_see: "Those people were logged out on the revoked devices at once: their next click showed the login page. Someone chose that; it is not a fault. Nothing to fix — this is here so a complaint from these people at these times can be told apart from a real problem.",
      why: "Revoking a device in Preferences → Devices (or an admin doing it on the user's form) deletes that session on the server and marks its rows in the device log revoked; the person is logged out at their next click, on purpose. A password change ends a person's other sessions too, by design. Odoo records no date for a password change (res_users.write_date moves on any change to the user), so this check cannot list them.",
      evidence: [{ source: "res_device_log in database odoo", excerpt: "marc: 2 sessions revoked in the last 7 days (by admin, marc); 3 in the log in all, the last on 2026-12-01 04:15 UTC\nlea: 1 session revoked in the last 7 days (by admin); 1 in the log in all, the last on 2026-11-29 07:15 UTC\nadmin: none in the last 7 days; 1 in the log in all, the last on 2026-10-23 07:15 UTC" }],
      version_note: "Devices and their revocation exist from Odoo 18 (res.device, res.device.log).",
      remedy: { kind: "none" },
    });
    set("proxy.canonical-host", {
      status: "warn",
      summary: "Odoo answers on 3 names; web.base.url is not frozen.",
      users_see: "Logging in on one address and opening a link to another asks to log in again.",
      why: "A session cookie belongs to one host name.",
      fixes: [{ title: "Redirect every name to one address", choices: [{ value: "odoo.lab.test", label: "odoo.lab.test", warning: null }], default: "odoo.lab.test" }],
      remedy: { kind: "here", also: [] },
    });
  }
  return checks;
}

/**
 * @param {Finding[]} checks @param {import('./types/api').InstanceChoice[]} [instances] @param {string} [chosen]
 * @param {import('./types/api').DatabaseScope} [databases]
 * @returns {DiagnosisView}
 */
function diagnosisOf(checks, instances = [ONE_INSTANCE], chosen = instances[0].value, databases = { served: ["odoo"], rule: "dbfilter ^odoo$", undecided: null, chosen: false }) {
  const current = instances.find((i) => i.value === chosen) ?? instances[0];
  const order = ["conf.syntax", "session.lifetime", "proxy.canonical-host", "proxy.sticky", "session.store", "proxy.mode", "workers.memory", "proxy.https-redirect", "session.external-cleanup", "session.cleanup-runs", "proxy.headers", "proxy.websocket", "proxy.cookie-flags", "proxy.cache", "conf.folklore"];
  const bad = checks.filter((c) => c.status === "fail" || c.status === "warn");
  const fails = checks.filter((c) => c.status === "fail").length;
  const warns = bad.length - fails;
  const unknown = checks.filter((c) => c.status === "unknown").length;
  // The engine's verdict grammar (crates/engine/src/checks/mod.rs `verdict`), counted by the same rule.
  const verdict = fails
    ? { status: /** @type {const} */ ("fail"), line: `${count(fails, "problem")} ${form(fails, "logs", "log")} users out or will${warns ? ` (and ${count(warns, "thing")} to improve)` : ""}. Start with: ${/** @type {Finding} */ (checks.find((c) => c.status === "fail")).title}.` }
    : warns
      ? { status: /** @type {const} */ ("warn"), line: `No cause of lost sessions found; ${count(warns, "thing")} to improve.` }
      : unknown
        ? { status: /** @type {const} */ ("ok"), line: `No problem found, but ${count(unknown, "check")} could not be made.` }
        : { status: /** @type {const} */ ("ok"), line: "Healthy: nothing here logs users out." };
  return {
    host: "odoo-lab",
    verdict,
    checks,
    // As the backend: only problems the engine says the app fixes here.
    fixOrder: order.filter((id) => bad.some((c) => c.id === id && c.remedy.kind === "here")),
    odoo: { version: current.version, config: current.config, service: current.service, instances: clone(instances), instance: current.value, databases: clone(databases), probed: false },
  };
}

/** @param {string[]} ids @param {Record<string, string>} values @returns {ChangeSet} */
function changesetFor(ids, values) {
  /** @type {ChangeSet} */
  const cs = { checks: /** @type {CheckId[]} */ (ids), files: [], params: [], services: [], reasons: [], interruption: "", notes: [] };
  if (ids.includes("session.lifetime")) {
    const v = values["session.lifetime"] ?? "604800";
    cs.params.push({ db: "odoo", key: "sessions.max_inactivity_seconds", old: "600", new: v, check: "session.lifetime" });
    cs.reasons.push({ check: "session.lifetime", text: `sessions.max_inactivity_seconds = ${v}: Odoo deletes sessions idle longer than this. Odoo reads it at start, so it is restarted.` });
  }
  if (ids.includes("proxy.canonical-host")) {
    cs.files.push({
      path: "/etc/nginx/sites-enabled/odoo.conf", kind: "nginx", checks: ["proxy.canonical-host"], owner: "root", group: "root", mode: 0o644,
      before_sha256: "a", after_sha256: "b",
      diff: "--- a/etc/nginx/sites-enabled/odoo.conf\n+++ b/etc/nginx/sites-enabled/odoo.conf\n@@ -1,4 +1,8 @@\n server {\n-    server_name odoo.lab.test www.odoo.lab.test erp.lab.test;\n+    server_name odoo.lab.test;\n+}\n+server {\n+    server_name www.odoo.lab.test erp.lab.test;\n+    return 301 https://odoo.lab.test$request_uri;\n }\n",
    });
    cs.services.push({ action: "reload_nginx", test: ["nginx", "-t"], reload: ["nginx", "-s", "reload"] });
    cs.reasons.push({ check: "proxy.canonical-host", text: "Every other name redirects to odoo.lab.test, so the session cookie always belongs to one address." });
  }
  if (ids.includes("session.lifetime")) {
    cs.services.push({ action: "restart_odoo", command: ["supervisorctl", "restart", "odoo"], service: "supervisor program odoo", was_running: true });
    cs.interruption = "Odoo restarts: for a few seconds pages do not load and the live connection reconnects. Nobody is logged out.";
  } else if (cs.files.length) {
    cs.interruption = "nginx reloads: nobody notices.";
  }
  return cs;
}

/** @param {string} scenario @returns {Api} */
export function createMockApi(scenario) {
  /** @type {ServerEntry[]} */
  let servers = scenario === "empty" ? [] : scenario === "fleet50" ? fleetServers() : [clone(DEMO_SERVER)];
  /** Each server's last result (the Fleet screen): a few from earlier in `fleet50`.
   * @type {Map<string, import('./types/api').LastResult>} */
  const lastResults = new Map();
  if (scenario === "fleet50") {
    const now = Math.floor(Date.now() / 1000);
    servers.forEach((s, i) => { if (i % 6 === 0) lastResults.set(s.id, { ...fleetResult(i, s), at: now - (i + 1) * 3 * 3600 }); });
  }
  let keyTrusted = false;
  /** @type {Map<string, import("./types/api").SecretKind[]>} */
  const remembered = new Map();
  /** @type {string | null} */
  let instanceChosen = null;
  /** @type {string[]} */
  let databasesChosen = [];
  /** The instances of this host, and the diagnosis of the chosen one. @param {boolean} isFixed */
  const diagnosed = (isFixed) => {
    if (scenario === "several-instances") return diagnosisOf(checksFor(scenario, isFixed), SEVERAL_INSTANCES, instanceChosen ?? undefined);
    if (scenario !== "undecided-databases") return diagnosisOf(checksFor(scenario, isFixed));
    const rule = "no dbfilter and no db_name: every database of the role odoo";
    if (databasesChosen.length > 0) {
      return diagnosisOf(checksFor(scenario, isFixed), undefined, undefined,
        { served: databasesChosen, rule: `${rule}; chosen with --database ${databasesChosen.join(",")}`, undecided: null, chosen: true });
    }
    const checks = checksFor(scenario, isFixed).map((c) => ["session.lifetime", "conf.folklore", "session.cleanup-runs"].includes(c.id)
      ? { ...c, status: /** @type {const} */ ("unknown"), summary: "The database was not read: this Odoo can serve several databases (prod, prod_copy, test) and its config does not say which one users reach.", fixes: [] }
      : c);
    return diagnosisOf(checks, undefined, undefined, { served: [], rule, undecided: ["prod", "prod_copy", "test"], chosen: false });
  };
  let fixed = false;
  /** @type {ChangeRecord[]} */
  let records = [];
  // The Sessions screen's people (mock): logged-out ones disappear.
  let mockUsers = [
    { login: "admin", sessions: 2, idle: 120, written: 3600 * 5 },
    { login: "marc", sessions: 3, idle: 60 * 40, written: 86400 * 2 },
    { login: "lea", sessions: 1, idle: 86400 * 3, written: 86400 * 3 },
  ];
  const sessionsReport = () => {
    const users = mockUsers.map((u) => ({
      login: u.login, uid: 2, sessions: u.sessions, idle_secs: u.idle, oldest_written_secs: u.written, oldest_age_secs: null,
      devices: [], rows: [],
    }));
    const live = users.reduce((a, u) => a + u.sessions, 0);
    const bounds = [[0, 3600, "under 1 hour"], [3600, 86400, "1 hour – 1 day"], [86400, 604800, "1 – 7 days"], [604800, 2592000, "7 – 30 days"], [2592000, 7776000, "30 – 90 days"], [7776000, null, "over 90 days"]];
    const buckets = bounds.map(([from, to, label]) => ({ from_secs: from, to_secs: to, label, short: label, count: mockUsers.filter((u) => u.written >= /** @type {number} */ (from) && (to === null || u.written < /** @type {number} */ (to))).reduce((a, u) => a + u.sessions, 0), against_lifetime: from === null || /** @type {number} */ (from) < 600 ? "straddles" : "past" }));
    return /** @type {any} */ ({
      host: "odoo-lab", instance: "port 8069 config /etc/odoo/odoo.conf (Odoo 17.0, supervisor program odoo)", version: "17.0",
      sessions_dir: "/var/lib/odoo/.local/share/Odoo/sessions", read_as: "odoo", files: live + 1, live,
      databases: [{ db: "odoo", lifetime_secs: fixed ? 604800 : 600, lifetime: fixed ? "7 days" : "10 minutes", lifetime_set_by: "sessions.max_inactivity_seconds", users, anonymous: 0 }],
      other_databases: [], bad: [{ key: "3fa49559834d", inode: 10028512, owner: "root", mode: "600", size: 201, reason: "cannot be read as odoo: Permission denied" }],
      ages: { buckets }, chart: null,
      surviving: fixed ? { changeset: "x", fixed_at: "2026-12-02T10:00:00Z", db: "odoo", old_secs: 600, new_secs: 604800, older_than_old: live, live, oldest_written_secs: 86400 * 3,
        line: `Sessions are surviving: since the lifetime fix of 2026-12-02T10:00:00Z (10 minutes → 7 days), ${live} of ${count(live, "session")} in odoo have been idle longer than the old lifetime (10 minutes).` } : null,
      notes: [],
    });
  };

  /** @type {ChangeSet | null} */
  let planned = null;
  let planId = 0;
  let cancelled = false;
  let applying = false;
  if (scenario === "unfinished") {
    records = [{
      id: "20260521T170200Z-000001", created: 1779382920, created_text: "2026-05-21 17:02", by: "root (from admin-laptop)", host: "odoo-lab",
      status: "applying", changeset: changesetFor(["session.lifetime"], { "session.lifetime": "86400" }), verification: [],
      error: "the connection to root@127.0.0.1:2222 was lost while writing system parameters", log: ["recorded", "applying"],
    }];
  }

  /** @param {ChangeSet} cs @param {import('./types/api').RecordStatus} status @returns {ChangeRecord} */
  const record = (cs, status) => ({
    id: `20260522T101500Z-${String(records.length + 1).padStart(6, "0")}`,
    created: 1779444900,
    created_text: "2026-05-22 10:15",
    by: "root (from this computer)",
    host: "odoo-lab",
    status,
    changeset: cs,
    verification: [],
    error: null,
    log: ["recorded", "applying", status],
  });

  return {
    kind: "mock",
    appInfo: async () => ({ name: "Odoo Session Doctor", version: "0.0.0-mock", demo: scenario !== "empty", serversFile: "~/.config/odoo-session-doctor/servers.toml" }),

    listServers: async () => {
      await sleep(50);
      if (scenario === "load-fails") {
        throw fail("servers_file", "The saved-servers file ~/.config/odoo-session-doctor/servers.toml could not be used: expected `]` at line 3.", "Fix the file by hand (it is plain TOML), or move it away to start with an empty list.");
      }
      return clone(servers);
    },

    saveServer: async (input) => {
      await sleep(50);
      if (!input.name.trim()) throw fail("invalid_server", "The server needs a name.", "Any name you will recognise, e.g. \"Production\".");
      if (!input.host.trim() || /[ /@]/.test(input.host)) {
        throw fail("invalid_server", "The address is not a host name, an IP address or an SSH alias.", "Write only the host, e.g. odoo.example.com or 10.0.0.5; the user and port have their own fields.");
      }
      /** @type {ServerEntry} */
      const entry = {
        id: input.id ?? input.name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
        name: input.name, host: input.host, port: input.port ?? 22, user: input.user, auth: input.auth,
        keyFile: input.keyFile ?? null, instance: input.instance ?? null, stateDir: input.stateDir ?? null,
        hostKeyFingerprint: null, kind: "saved", scenario: null,
      };
      const i = servers.findIndex((s) => s.id === entry.id);
      if (i >= 0) servers[i] = entry; else servers.push(entry);
      return clone(entry);
    },

    removeServer: async (id) => { servers = servers.filter((s) => s.id !== id); },

    sshConfigHosts: async () => [
      { alias: "prod", hostName: "10.0.0.5", user: "deploy", port: 22, keyFile: "~/.ssh/prod", alreadySaved: false },
      { alias: "staging", hostName: null, user: "root", port: 2222, keyFile: null, alreadySaved: servers.some((s) => s.host === "staging") },
    ],

    importSshHosts: async (aliases) => {
      /** @type {ServerEntry[]} */
      const added = aliases.map((alias) => ({
        id: alias, name: alias, host: alias, port: 22, user: "deploy", auth: /** @type {const} */ ("agent"), keyFile: null,
        instance: null, stateDir: null, hostKeyFingerprint: null, kind: /** @type {const} */ ("saved"), scenario: null,
      }));
      servers.push(...added);
      return clone(added);
    },
    // The native dialog, answered as if the person picked their usual key.
    chooseKeyFile: async () => "/home/admin/.ssh/id_ed25519",

    connect: async (serverId, secrets, onProgress) => {
      const server = servers.find((s) => s.id === serverId) ?? DEMO_SERVER;
      step(onProgress, "connecting", `Connecting to ${server.host}:${server.port} and checking its host key…`);
      await sleep(300);
      const done = () => onProgress({ event: "finished" });
      if (scenario === "connect-fails") {
        done();
        throw fail("unreachable", `Cannot reach ${server.host}:${server.port}: connection refused.`, "Is sshd running and the port right?");
      }
      if (scenario === "unknown-key" && !keyTrusted) {
        done();
        throw fail("unknown_host_key", `This is the first connection to ${server.host}:${server.port}, so the app does not know its host key yet.`, "Compare the fingerprint with the one the server shows, then trust it.",
          { kind: "unknownHostKey", host: server.host, port: server.port, keyType: "ssh-ed25519", fingerprint: FINGERPRINT, compareCommand: `ssh-keyscan -t ed25519 -p ${server.port} localhost 2>/dev/null | ssh-keygen -lf -` });
      }
      if (scenario === "changed-key") {
        done();
        throw fail("host_key_changed", `The host key of ${server.host}:${server.port} has changed since the last connection.`, "Someone may be intercepting the connection. Do not go on unless you know the server was reinstalled.",
          { kind: "hostKeyChanged", host: server.host, port: server.port, keyType: "ssh-ed25519", expectedFingerprint: FINGERPRINT, actualFingerprint: "SHA256:n3wK3yn3wK3yn3wK3yn3wK3yn3wK3yn3wK3yn3wK3y", knownHostsFile: "/home/admin/.ssh/known_hosts", line: 12, compareCommand: `ssh-keyscan -t ed25519 -p ${server.port} localhost 2>/dev/null | ssh-keygen -lf -` });
      }
      if (secrets?.remember && secrets.password) remembered.set(serverId, ["password"]);
      if (scenario === "needs-password" && !secrets?.password && !remembered.get(serverId)?.includes("password")) {
        done();
        throw fail("secret_needed", `The server asks for the SSH password for ${server.user}@${server.host}.`, "Type it to go on; it is kept only if you tick Remember.", { kind: "secretNeeded", secret: "password", prompt: `SSH password for ${server.user}@${server.host}` });
      }
      step(onProgress, "identifying", "Connected. Checking what this login may do…");
      await sleep(300);
      done();
      const unfinished = records.filter((r) => ["recorded", "applying", "rollback_failed"].includes(r.status));
      // The engine's words for each (record::Unsettled).
      const unsettled = unfinished.map((r) => ({
        id: r.id, status: r.status,
        state: "the server is applying it or waiting for the confirmation of whoever applied it, and undoes it by itself if none comes; if the server restarted meanwhile, it stays half-applied until it is rolled back",
        changed: r.changeset.params.map((p) => `system parameter ${p.key} in database ${p.db}`),
      }));
      return { serverId, hostName: "odoo-lab", hostKeyFingerprint: FINGERPRINT, user: server.user, power: scenario === "no-root" ? "none" : "root", unfinished: clone(unfinished), unsettled, remembered: clone(remembered.get(serverId) ?? []), keyringNote: null };
    },

    fleetOverview: async () => {
      await sleep(50);
      return servers.map((server) => ({ server: clone(server), last: clone(lastResults.get(server.id) ?? null) }));
    },

    // Five at a time like the backend (fleet::FORKS), each taking its own short while.
    diagnoseAll: async (onProgress) => {
      let next = 0;
      const one = async () => {
        for (let i = next++; i < servers.length; i = next++) {
          const server = servers[i];
          onProgress({ event: "serverStarted", data: { serverId: server.id } });
          await sleep(40 + ((i * 37) % 90));
          const result = scenario === "fleet50"
            ? { ...fleetResult(i, server), at: Math.floor(Date.now() / 1000) }
            : (() => {
              const d = diagnosed(fixed);
              const problems = d.checks.filter((c) => c.status === "fail" || c.status === "warn").map((c) => ({ id: c.id, title: c.title, status: c.status }));
              const worst = problems.find((p) => p.status === "fail") ?? problems[0] ?? null;
              return { at: Math.floor(Date.now() / 1000), status: d.verdict.status, line: d.verdict.line, version: "17.0", worst, problems, error: null };
            })();
          lastResults.set(server.id, result);
          onProgress({ event: "serverFinished", data: { serverId: server.id, result: clone(result) } });
        }
      };
      await Promise.all(Array.from({ length: 5 }, one));
      onProgress({ event: "finished" });
      return servers.map((server) => ({ server: clone(server), last: clone(lastResults.get(server.id) ?? null) }));
    },

    // The system keyring, in memory: server id → the kinds remembered.
    rememberedSecrets: async (serverId) => clone(remembered.get(serverId) ?? []),
    forgetSecrets: async (serverId) => remembered.delete(serverId),

    trustHostKey: async (_id, fingerprint) => {
      if (fingerprint !== FINGERPRINT) throw fail("key_mismatch", "The host key shown is not the one the server sent.", "Connect again.");
      keyTrusted = true;
    },

    chooseInstance: async (_id, instance) => {
      await sleep(50);
      if (!SEVERAL_INSTANCES.some((i) => i.value === instance) && instance !== ONE_INSTANCE.value) {
        throw fail("instance_not_found", `No Odoo server on odoo-lab matches "${instance}", the one chosen for this server.`, "Choose one of the Odoo servers found there.");
      }
      instanceChosen = instance;
    },

    chooseDatabases: async (_id, databases) => {
      await sleep(50);
      databasesChosen = [...new Set(databases.map((d) => d.trim()).filter(Boolean))].sort();
    },

    diagnose: async (_id, probe, onProgress) => {
      step(onProgress, "inventory", "Looking for Odoo's processes, services and nginx: on odoo-lab");
      await sleep(150);
      step(onProgress, "config", "Reading the Odoo server's config, sessions and logs: /etc/odoo/odoo.conf");
      step(onProgress, "database", "Reading Odoo's settings in its databases…");
      step(onProgress, "server", "Asking the running Odoo what it is: on port 8069");
      await sleep(250);
      if (probe) {
        step(onProgress, "probe", `Testing a real login: as ${probe.login}`);
        await sleep(300);
      }
      step(onProgress, "judging", "Checking every item of the checklist…");
      onProgress({ event: "finished" });
      if (scenario === "diagnose-fails") throw fail("no_odoo", "No running Odoo server was found on odoo-lab.", "Start Odoo on the server, then diagnose again.");
      if (scenario === "several-instances" && !instanceChosen) {
        throw fail("several_instances", `${SEVERAL_INSTANCES.length} Odoo servers are set up on odoo-lab.`, "Choose the one to diagnose.", {
          kind: "severalInstances",
          instances: clone(SEVERAL_INSTANCES),
        });
      }
      const d = diagnosed(fixed);
      d.odoo.probed = Boolean(probe);
      return d;
    },

    planFix: async (_id, fix) => {
      await sleep(150);
      planned = changesetFor(fix.checks, fix.values);
      planId += 1;
      return { planId, changeset: clone(planned) };
    },

    applyFix: async (_id, id, on) => {
      if (!planned || id !== planId) throw fail("stale_plan", "The preview is out of date.", "Go back one step and look at the preview again.");
      const cs = planned;
      cancelled = false;
      applying = true;
      const steps = /** @type {const} */ ([
        ["lock", "Making sure no one else is changing this server: locking /var/lib/odoo-session-doctor", true],
        ["check_unchanged", "Checking nothing changed since the preview", true],
        ["record", "Backing up the files and settings: saving before-images on the host", true],
        ["write_params", "Writing Odoo's settings: 1 system parameter in one transaction", true],
      ]);
      for (const [s, m, c] of steps) {
        step(on, s, m, c);
        // Long enough that Cancel (or the close dialog) is reached before the restart, even on a
        // loaded machine driving the window through WebDriver.
        await sleep(700);
        if (cancelled) {
          applying = false;
          step(on, "roll_back", "Putting everything back: cancelled before the restart");
          await sleep(200);
          on({ event: "finished" });
          const rec = record(cs, "rolled_back");
          rec.error = "cancelled before the restart — everything was restored";
          records.push(rec);
          return { result: { changeset: rec.id, status: "rolled_back", verification: [], error: rec.error }, changeset: cs, after: null };
        }
      }
      applying = false;
      if (scenario === "apply-rolls-back") {
        step(on, "validate", "Validating the new configuration");
        await sleep(200);
        step(on, "roll_back", "Putting everything back: `nginx -t` rejected the edited configuration");
        await sleep(200);
        on({ event: "finished" });
        const rec = record(cs, "rolled_back");
        rec.error = "`nginx -t` rejected the edited configuration: unknown directive \"proxy_cookie_flags\" — everything was restored";
        records.push(rec);
        return { result: { changeset: rec.id, status: "rolled_back", verification: [], error: rec.error }, changeset: cs, after: null };
      }
      step(on, "restart_odoo", "Restarting Odoo: supervisorctl restart odoo");
      for (const line of ["odoo: stopped", "odoo: started"]) {
        await sleep(200);
        on({ event: "output", data: { line } });
      }
      step(on, "wait_health", "Waiting for Odoo to answer again");
      await sleep(300);
      on({ event: "guard", data: { seconds: 300 } });
      step(on, "verify", "Verifying the fix: after the restart");
      await sleep(300);
      fixed = true;
      const verification = cs.checks.map((check) => ({ check, persisted: true, detail: `after the restart: ok — ${check === "session.lifetime" ? "Idle sessions live 1 day." : "fixed"}` }));
      const rec = record(cs, "applied");
      rec.verification = verification;
      records.push(rec);
      step(on, "done", `Done: change set ${rec.id} applied and verified`);
      on({ event: "finished" });
      planned = null;
      return { result: { changeset: rec.id, status: "applied", verification, error: null }, changeset: cs, after: diagnosed(true) };
    },

    cancelApply: async () => { cancelled = true; return true; },
    // The window asked to close during an apply: cancel (still possible here) and report "not yet".
    closeWhenIdle: async () => {
      if (!applying) return true;
      cancelled = true;
      return false;
    },

    history: async () => { await sleep(100); return clone(records).reverse(); },
    // The mock server never changes behind the app's back: every applied change set is in effect.
    historyNow: async () => {
      await sleep(100);
      return records.filter((r) => r.status === "applied").map((r) => ({
        changeset: r.id, state: "in_effect", summary: "Still in effect: re-checked now, everything it wrote is as written.",
        files: r.changeset.files.map((f) => ({ path: f.path, state: "in_effect", changed_by: null, detail: "as the change set wrote it" })),
        params: r.changeset.params.map((p) => ({ db: p.db, key: p.key, state: "in_effect", changed_by: null, detail: `still ${p.new ?? "(not set)"}` })),
      }));
    },

    rollback: async (_id, changesetId, on) => {
      step(on, "inventory", "Looking for Odoo's processes, services and nginx: on odoo-lab");
      await sleep(250);
      step(on, "roll_back", `Putting everything back: change set ${changesetId}`);
      await sleep(250);
      step(on, "restart_odoo", "Restarting Odoo: supervisorctl restart odoo");
      await sleep(250);
      step(on, "verify", "Diagnosing again to show the state now…");
      await sleep(250);
      on({ event: "finished" });
      const rec = records.find((r) => r.id === changesetId);
      if (rec) rec.status = "undone";
      fixed = false;
      return { result: { changeset: changesetId, status: "undone", error: null }, after: diagnosed(false) };
    },

    listSessions: async () => { await sleep(150); return sessionsReport(); },
    previewLogout: async (_id, who) => {
      await sleep(80);
      const users = mockUsers.filter((u) => who.kind === "everyone" || u.login === who.login);
      const n = users.reduce((a, u) => a + u.sessions, 0);
      return {
        who, users: users.map((u) => ({ db: "odoo", login: u.login, sessions: u.sessions })), sessions: n,
        confirm_with: who.kind === "everyone" ? "everyone" : who.login,
        text: `Log out ${who.kind === "everyone" ? "everyone" : who.login}: ${count(n, "session")} will be deleted on odoo-lab. Whoever uses them is sent to the login page at their next click and loses any unsaved work. This cannot be undone: deleted sessions cannot be brought back, the people log in again.`,
      };
    },
    logOut: async (_id, who, confirmation) => {
      await sleep(200);
      const gone = mockUsers.filter((u) => who.kind === "everyone" || u.login === who.login);
      const n = gone.reduce((a, u) => a + u.sessions, 0);
      mockUsers = mockUsers.filter((u) => !gone.includes(u));
      const id = `20261202T1100${records.length}Z-a1b2c3`;
      records.push(/** @type {any} */ ({ id, created: 0, created_text: "2026-12-02T11:00:00Z", by: "admin@laptop", host: "odoo-lab", status: "applied",
        changeset: { checks: [], files: [], params: [], services: [], reasons: [], interruption: "", notes: [] }, verification: [], error: null, log: [],
        action: { kind: "log_out", summary: `Logged out ${confirmation}: ${count(n, "session")} deleted`, can_roll_back: false } }));
      return {
        who, deleted: n, users: gone.map((u) => ({ db: "odoo", login: u.login, sessions: u.sessions })), failed: [],
        device_logs_revoked: null, device_log_error: null, remaining: 0,
        proof: { state: "refused", before: "answered as user id 2", after: "code 100: Odoo Session Expired" },
        record: id, record_error: null, ok: true,
        text: `Logged out ${confirmation}: ${count(n, "session")} deleted. One of their sessions that Odoo accepted just before is refused now (code 100: Odoo Session Expired). This cannot be undone.`,
      };
    },

    exportReport: async (_id, format) => {
      await sleep(100);
      const ext = format === "markdown" ? "md" : format;
      return { path: `/home/admin/odoo-session-report-odoo-lab.${ext}`, format, bytes: 18432 };
    },
    openReport: async () => {},
    openLink: async (url) => { /** @type {any} */ (window).__osdMockOpened = url; },
    // Tests raise the close request with window.__osdMockCloseRequested().
    onCloseRequested: (handler) => { /** @type {any} */ (window).__osdMockCloseRequested = handler; },
  };
}
