// @ts-check
// Canned engine data for the mock api: the checklist of the lab scenario `short-lifetime` as the
// engine produced it (taken from crates/engine/tests/golden/short-lifetime-before.input.json,
// normalized host names; session.revoked as the engine judges it on 17). ui/api-mock.js derives
// the other scenarios from it.
/** The one Odoo of most scenarios. @type {import('./types/api').InstanceChoice} */
export const ONE_INSTANCE = {
  label: "port 8069 config /etc/odoo.conf (Odoo 17.0, supervisor program odoo, running, pid 812)", value: "/etc/odoo.conf",
  httpPort: 8069, config: "/etc/odoo.conf", version: "17.0", service: "supervisor program odoo", state: "running", stateText: "running, pid 812", lastError: null,
};

/** The host of `several-instances`: as the backend sends them (sorted by HTTP port), a crash-looping
 * instance included. @type {import('./types/api').InstanceChoice[]} */
export const SEVERAL_INSTANCES = [
  {
    label: "port 8069 config /etc/odoo/odoo.conf (Odoo 17.0, supervisor program odoo, running, pid 812)", value: "/etc/odoo/odoo.conf",
    httpPort: 8069, config: "/etc/odoo/odoo.conf", version: "17.0", service: "supervisor program odoo", state: "running", stateText: "running, pid 812", lastError: null,
  },
  {
    label: "port 8070 config /opt/odoo18/odoo.conf (Odoo 18.0, started by hand (no service manager), running, pid 901)", value: "/opt/odoo18/odoo.conf",
    httpPort: 8070, config: "/opt/odoo18/odoo.conf", version: "18.0", service: "started by hand (no service manager)", state: "running", stateText: "running, pid 901", lastError: null,
  },
  {
    label: "port 8071 config /etc/odoo-staging.conf (Odoo 17.0, systemd unit odoo-staging.service, fails to start: activating (auto-restart))", value: "/etc/odoo-staging.conf",
    httpPort: 8071, config: "/etc/odoo-staging.conf", version: "17.0", service: "systemd unit odoo-staging.service", state: "crashLoop", stateText: "fails to start: activating (auto-restart)",
    lastError: "OptionValueError: option smtp_port: invalid integer value: '465   #25'",
  },
];

/** @type {import('./types/api').Finding[]} */
export const SHORT_LIFETIME_CHECKS = [
 {
  "id": "service.found",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Odoo found and understood",
  "summary": "Odoo 17.0 (from the running server), run by supervisor program odoo, config /etc/odoo.conf.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "pid 17160 (user odoo)",
    "excerpt": "/usr/bin/python3 /opt/odoo17/odoo-bin -c /etc/odoo.conf"
   },
   {
    "source": "config file in effect",
    "excerpt": "/etc/odoo.conf"
   },
   {
    "source": "supervisor program odoo",
    "excerpt": "restart: supervisorctl -c /etc/supervisor/supervisord.conf restart odoo"
   },
   {
    "source": "other Odoo instances on this host",
    "excerpt": "8 instances in all; diagnosing the one on port 17548"
   }
  ],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "session.lifetime",
  "remedy": {"kind": "here", "also": []},
  "status": "fail",
  "title": "How long an idle session lives",
  "summary": "Idle sessions are deleted after 10 minutes: too short for Odoo 17.0.",
  "users_see": "People are sent to the login page with \"Session Expired\" — even while they are working — and lose what they were typing.",
  "why": "Odoo deletes every session that has not been recorded as active for 10 minutes. Odoo 17.0 records activity only when a page is loaded or the live connection reconnects, not on every click, so a lifetime this short also removes the sessions of people who are busy.",
  "evidence": [
   {
    "source": "ir_config_parameter in database odoo",
    "excerpt": "sessions.max_inactivity_seconds = 600 (10 minutes)"
   }
  ],
  "version_note": "Odoo 17.0: the cookie's Max-Age is 7 days on older builds and follows sessions.max_inactivity_seconds on recent ones; the server deletes sessions idle longer than the parameter.",
  "references": [
   {
    "label": "odoo/odoo#29906",
    "url": "https://github.com/odoo/odoo/issues/29906"
   },
   {
    "label": "odoo/odoo PR #122888",
    "url": "https://github.com/odoo/odoo/pull/122888"
   },
   {
    "label": "odoo/odoo PR #154051",
    "url": "https://github.com/odoo/odoo/pull/154051"
   }
  ],
  "fixes": [
   {
    "title": "Set sessions.max_inactivity_seconds (then restart Odoo so it takes effect)",
    "choices": [
     {
      "value": "28800",
      "label": "8 hours (a working day)",
      "warning": "8 hours is shorter than 1 day — on this version people who are actively working can be logged out at the next daily cleanup, because Odoo only records activity on some requests."
     },
     {
      "value": "86400",
      "label": "1 day",
      "warning": null
     },
     {
      "value": "604800",
      "label": "7 days (Odoo's default)",
      "warning": null
     }
    ],
    "default": "86400"
   }
  ]
 },
 {
  "id": "session.store",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Where sessions are kept",
  "summary": "Sessions are kept on disk in /var/lib/odoo/sessions, writable by odoo.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "data_dir (/etc/odoo.conf:17)",
    "excerpt": "/var/lib/odoo"
   },
   {
    "source": "stat /var/lib/odoo/sessions",
    "excerpt": "owner odoo group odoo mode 700, filesystem ext2/ext3, 109 files, 218 bytes"
   }
  ],
  "version_note": null,
  "references": [
   {
    "label": "odoo/docker#506",
    "url": "https://github.com/odoo/docker/issues/506"
   }
  ],
  "fixes": []
 },
 {
  "id": "session.external-cleanup",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Nothing but Odoo deletes session files",
  "summary": "No cron job, timer, tmpfiles rule or tmpreaper setting deletes files in the sessions folder.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [
   {
    "label": "coopdevs/odoo-role#110",
    "url": "https://github.com/coopdevs/odoo-role/issues/110"
   }
  ],
  "fixes": []
 },
 {
  "id": "session.cleanup-runs",
  "remedy": {
   "kind": "needs_you",
   "why": "max_cron_threads is already above 0: the cleanup is set to run, so there is nothing the app can change here for this.",
   "steps": ["Check Odoo's log for the daily \"Auto-vacuum internal data\" job and whether another Odoo node runs the crons.", "Then diagnose again: the app checks it (and offers the fix it can make)."]
  },
  "status": "warn",
  "title": "Odoo's own cleanup of old sessions runs",
  "summary": "Session files older than the lifetime are still there: the cleanup does not seem to run.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "/etc/odoo.conf:29",
    "excerpt": "max_cron_threads = 1"
   },
   {
    "source": "find /var/lib/odoo/sessions",
    "excerpt": "109 files, the oldest untouched for 200 days"
   }
  ],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "session.idle-logout",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "No module logs people out too soon",
  "summary": "No module logs people out on purpose.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "ir_module_module in 1 database",
    "excerpt": "none of auth_session_timeout, web_session_auto_close, auto_logout_idle_user_odoo, auto_web_session_timeout is installed"
   }
  ],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "session.revoked",
  "remedy": {"kind": "none"},
  "status": "skip",
  "title": "Sessions ended on purpose (devices revoked)",
  "summary": "Odoo 17.0 keeps no device log to read revocations from.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": "Odoo 18 brought the device list (Preferences → Devices) whose \"Revoke\" ends a session at once; this check reads its log (res_device_log) on 18 and later.",
  "references": [
   {
    "label": "odoo/odoo 18.0: res_device.py (revoke)",
    "url": "https://github.com/odoo/odoo/blob/18.0/odoo/addons/base/models/res_device.py"
   }
  ],
  "fixes": []
 },
 {
  "id": "conf.folklore",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Settings that do nothing (folklore)",
  "summary": "No folklore settings found.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "conf.syntax",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "odoo.conf says what it means",
  "summary": "/etc/odoo.conf parses the way Odoo reads it.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "proxy.mode",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "proxy_mode matches the proxy in front",
  "summary": "nginx is in front and proxy_mode is on.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "nginx",
    "excerpt": "1 server block(s) proxy to Odoo on odoo-prod-1.example.com"
   },
   {
    "source": "/etc/odoo.conf:25",
    "excerpt": "proxy_mode = True"
   }
  ],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#63276",
    "url": "https://github.com/odoo/odoo/issues/63276"
   },
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.headers",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "The proxy tells Odoo the real address",
  "summary": "Every location to Odoo sends X-Forwarded-Host, -Proto and -For.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#63276",
    "url": "https://github.com/odoo/odoo/issues/63276"
   },
   {
    "label": "odoo/odoo#42359",
    "url": "https://github.com/odoo/odoo/issues/42359"
   },
   {
    "label": "Tecnativa/doodba#283",
    "url": "https://github.com/Tecnativa/doodba/issues/283"
   },
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.websocket",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "The live connection reaches Odoo",
  "summary": "/websocket goes to the gevent port with upgrade headers.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#106339",
    "url": "https://github.com/odoo/odoo/issues/106339"
   },
   {
    "label": "odoo/odoo#152199",
    "url": "https://github.com/odoo/odoo/issues/152199"
   },
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.https-redirect",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "HTTP redirects to HTTPS",
  "summary": "Plain HTTP redirects to HTTPS.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.canonical-host",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "One address for Odoo",
  "summary": "Odoo is served as odoo.lab.test and web.base.url matches, frozen.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "web.base.url",
    "excerpt": "https://odoo.lab.test:29428 (frozen)"
   }
  ],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#92043",
    "url": "https://github.com/odoo/odoo/issues/92043"
   },
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.cookie-flags",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Session cookie flags",
  "summary": "The session cookie gets Secure and SameSite at the proxy.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "/etc/nginx/sites-enabled/odoo.conf:72",
    "excerpt": "proxy_cookie_flags session_id samesite=lax secure"
   }
  ],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#107160",
    "url": "https://github.com/odoo/odoo/issues/107160"
   },
   {
    "label": "odoo/odoo#63226",
    "url": "https://github.com/odoo/odoo/issues/63226"
   },
   {
    "label": "Odoo docs: deploying, https and proxy",
    "url": "https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.sticky",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Several Odoo servers share sessions",
  "summary": "One Odoo server behind the proxy.",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": null,
  "references": [
   {
    "label": "odoo/docker#506",
    "url": "https://github.com/odoo/docker/issues/506"
   }
  ],
  "fixes": []
 },
 {
  "id": "proxy.cache",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "No cache between users and Odoo",
  "summary": "No cache stores Odoo's per-user pages (static files may be cached).",
  "users_see": "",
  "why": "",
  "evidence": [],
  "version_note": "All versions 12–19: Odoo answers /web, /web/session/*, /json(rpc) and the live connection per user and sets session_id on them; only /web/static and /web/assets (and /web/content with a hash) are the same for everybody.",
  "references": [
   {
    "label": "nginx docs: proxy_cache, proxy_ignore_headers, proxy_cache_key",
    "url": "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache"
   }
  ],
  "fixes": []
 },
 {
  "id": "workers.memory",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "Worker memory limits fit the server",
  "summary": "2 workers with 2048 MiB soft / 2560 MiB hard limits fit 24105 MiB of RAM.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "/etc/odoo.conf:28",
    "excerpt": "workers = 2, limit_memory_soft = 2048 MiB, limit_memory_hard = 2560 MiB, RAM 24105 MiB, 2 CPU(s)"
   }
  ],
  "version_note": null,
  "references": [],
  "fixes": []
 },
 {
  "id": "db.filter",
  "remedy": {"kind": "none"},
  "status": "ok",
  "title": "The database filter lets users in",
  "summary": "dbfilter ^odoo$ matches a database for every host name served.",
  "users_see": "",
  "why": "",
  "evidence": [
   {
    "source": "/etc/odoo.conf:12",
    "excerpt": "dbfilter = ^odoo$"
   }
  ],
  "version_note": null,
  "references": [
   {
    "label": "odoo/odoo#11740",
    "url": "https://github.com/odoo/odoo/issues/11740"
   },
   {
    "label": "odoo/odoo#15102",
    "url": "https://github.com/odoo/odoo/issues/15102"
   },
   {
    "label": "odoo/odoo#92043",
    "url": "https://github.com/odoo/odoo/issues/92043"
   }
  ],
  "fixes": []
 }
];

/**
 * The 50 servers of `?mock=fleet50` and what "Diagnose all" finds on each: most healthy, some
 * with a short session lifetime (a problem) or several host names (to improve), a few that
 * cannot be reached and a few that need the person (an untrusted key, a password login).
 * Deterministic, so tests can count rows per kind.
 * @returns {import('./types/api').ServerEntry[]}
 */
export function fleetServers() {
  return Array.from({ length: 50 }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    return {
      id: `odoo-${n}`, name: `Odoo ${n}${i === 7 ? " — the customer portal behind the long reverse-proxy chain of the EU datacentre" : ""}`,
      host: `odoo-${n}.example.com`, port: 22, user: "root", auth: i % 13 === 4 ? "password" : "agent",
      keyFile: null, instance: null, stateDir: null, hostKeyFingerprint: null, kind: "saved", scenario: null,
    };
  });
}

/** What a fleet server's diagnosis ends with (`at` is set by the caller). @param {number} i @param {import('./types/api').ServerEntry} server
 * @returns {Omit<import('./types/api').LastResult, "at">} */
export function fleetResult(i, server) {
  const version = ["16.0", "17.0", "18.0"][i % 3];
  /** @param {string} code @param {string} message @param {string} hint @param {boolean} needsYou */
  const error = (code, message, hint, needsYou) => ({ status: null, line: message, version: null, worst: null, problems: [], error: { code, message, hint, needsYou } });
  if (server.auth === "password") {
    return error("secret_needed", `Needs you: connect once and type what it asks for. The server asks for the SSH password for root@${server.host}.`, "Type it to go on; it is kept only if you tick Remember.", true);
  }
  if (i % 11 === 6) return error("unknown_host_key", "Needs you: connect once to trust its key.", "Compare the fingerprint with the one the server shows, then trust it.", true);
  if (i % 7 === 3) return error("unreachable", `Cannot reach ${server.host}:22: connection timed out.`, "Is the server up, and sshd listening on that port?", false);
  /** @type {import('./types/api').CheckMark} */
  const lifetime = { id: "session.lifetime", title: "How long an idle session lives", status: "fail" };
  /** @type {import('./types/api').CheckMark} */
  const hosts = { id: "proxy.canonical-host", title: "One address for Odoo", status: "warn" };
  if (i % 4 === 1) {
    const problems = i % 8 === 1 ? [lifetime, hosts] : [lifetime];
    return { status: "fail", line: `1 problem logs users out or will${problems.length > 1 ? " (and 1 thing to improve)" : ""}. Start with: How long an idle session lives.`, version, worst: lifetime, problems, error: null };
  }
  if (i % 5 === 2) return { status: "warn", line: "No cause of lost sessions found; 1 thing to improve.", version, worst: hosts, problems: [hosts], error: null };
  return { status: "ok", line: "Healthy: nothing here logs users out.", version, worst: null, problems: [], error: null };
}
