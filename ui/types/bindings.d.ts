// GENERATED from the Rust types in src-tauri/src and the engine crates (ts-rs); do not edit by hand.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p odoo-session-doctor-app bindings

export type AppInfo = { name: string, version: string, 
/**
 * True when the app was started by `scripts/demo` (or the e2e tests) with a lab to show.
 */
demo: boolean, 
/**
 * The saved-servers file, shown on the Servers screen.
 */
serversFile: string, };

export type AppError = { code: string, message: string, hint: string, details?: ErrorDetails, };

export type ErrorDetails = { "kind": "unknownHostKey", host: string, port: number, keyType: string, 
/**
 * `SHA256:...` exactly as `ssh-keygen -lf` prints it.
 */
fingerprint: string, 
/**
 * What to run on the server to see the fingerprint of the key its sshd really serves
 * (asked on its own port, whatever `HostKey` file sshd uses).
 */
compareCommand: string, } | { "kind": "hostKeyChanged", host: string, port: number, keyType: string, expectedFingerprint: string, actualFingerprint: string, knownHostsFile: string, line: number, compareCommand: string, } | { "kind": "severalInstances", instances: Array<InstanceChoice>, } | { "kind": "secretNeeded", secret: SecretKind, 
/**
 * What it is, e.g. "SSH password for deploy@10.0.0.5".
 */
prompt: string, };

export type InstanceChoice = { 
/**
 * As the engine describes it: port, config file, version, service, state.
 */
label: string, 
/**
 * What to remember for the server (what `--instance` takes): the config file, or the HTTP
 * port when there is none.
 */
value: string, httpPort: number, config: string | null, 
/**
 * "17.0" when known.
 */
version: string | null, 
/**
 * How it runs, e.g. "supervisor program odoo", "systemd unit odoo".
 */
service: string, state: InstanceRunState, 
/**
 * The state in words: "running, pid 42", "fails to start: FATAL".
 */
stateText: string, 
/**
 * The last start error from its log, for a down or crash-looping instance.
 */
lastError: string | null, };

export type InstanceRunState = "running" | "starting" | "stopped" | "crashLoop";

export type SecretKind = "password" | "keyPassphrase" | "sudoPassword";

export type ConnectSecrets = { password?: string, keyPassphrase?: string, sudoPassword?: string, 
/**
 * The person said this login has no sudo: go on without root instead of asking.
 */
skipSudo?: boolean, 
/**
 * Keep the secrets given here in the system keyring once the login worked (never in
 * servers.toml); later connections use them when the server asks (osd_servers::secrets).
 */
remember?: boolean, };

export type ProbeInput = { login: string, password: string, 
/**
 * The address users type (e.g. https://odoo.example.com); found from nginx when empty.
 */
publicUrl?: string, };

export type FixInput = { checks: Array<string>, 
/**
 * A choice per check id, e.g. `{"session.lifetime": "604800"}`.
 */
values: { [key in string]: string }, };

export type AuthMethod = "agent" | "key" | "password";

export type ServerKind = "demo" | "saved";

export type ServerEntry = { id: string, name: string, 
/**
 * A host name, an address or an alias from ~/.ssh/config.
 */
host: string, port: number, user: string, auth: AuthMethod, keyFile: string | null, 
/**
 * Which Odoo to diagnose when several run on the host: its config file or HTTP port.
 */
instance: string | null, 
/**
 * Where the app keeps its change records on the server (default /var/lib/odoo-session-doctor).
 */
stateDir: string | null, 
/**
 * `SHA256:...` as `ssh-keygen -lf` prints it, when known in advance (the lab knows its own).
 */
hostKeyFingerprint: string | null, kind: ServerKind, 
/**
 * The lab scenario (demo only), e.g. `short-lifetime`.
 */
scenario: string | null, };

export type ServerInput = { id?: string, name: string, host: string, port?: number, user: string, auth: AuthMethod, keyFile?: string, instance?: string, stateDir?: string, };

export type SshConfigHost = { alias: string, 
/**
 * Where the alias really goes (`HostName`), when the config says.
 */
hostName: string | null, user: string, port: number, keyFile: string | null, 
/**
 * A saved server already uses this alias.
 */
alreadySaved: boolean, };

export type ProgressEvent = { "event": "step", "data": { step: Step, message: string, detail: string, cancellable: boolean, } } | { "event": "output", "data": { line: string, } } | { "event": "guard", "data": { seconds: number, } } | { "event": "serverStarted", "data": { serverId: string, } } | { "event": "serverFinished", "data": { serverId: string, result: LastResult, } } | { "event": "finished" };

export type Step = "connecting" | "identifying" | "inventory" | "config" | "database" | "server" | "probe" | "judging" | "lock" | "check_unchanged" | "record" | "write_files" | "validate" | "write_params" | "reload_nginx" | "restart_odoo" | "wait_health" | "verify" | "roll_back" | "done";

export type Power = "root" | "sudo" | "none";

export type Connected = { serverId: string, 
/**
 * The name the server gives itself (`hostname`).
 */
hostName: string, hostKeyFingerprint: string, user: string, power: Power, 
/**
 * Change sets an earlier connection left half-done (the connection was lost): offer a rollback.
 */
unfinished: Array<ChangeRecord>, 
/**
 * The same, in the engine's words: what state each is in and what it changed.
 */
unsettled: Array<Unsettled>, 
/**
 * The secrets the system keyring holds for this server now (the screen offers Forget).
 */
remembered: Array<SecretKind>, 
/**
 * Remember was ticked but the keyring refused: why, and what to do.
 */
keyringNote: string | null, };

export type OdooSummary = { version: string | null, config: string | null, 
/**
 * How it runs, e.g. "systemd unit odoo".
 */
service: string, 
/**
 * Every Odoo server set up on the host (this one included), sorted by HTTP port: with more
 * than one, the diagnosis page lets the person switch.
 */
instances: Array<InstanceChoice>, 
/**
 * The `value` of the diagnosed one among `instances`.
 */
instance: string | null, 
/**
 * Which databases this Odoo serves (only those are read and ever written); `None` when
 * PostgreSQL could not be asked.
 */
databases: DatabaseScope | null, 
/**
 * A test login was used for this diagnosis.
 */
probed: boolean, };

export type DatabaseScope = { 
/**
 * The databases read for the verdicts and the only ones a fix writes to.
 */
served: Array<string>, 
/**
 * How they were chosen, in words.
 */
rule: string, 
/**
 * Set when the config cannot decide (no filter over several databases, a host-based filter
 * behind a catch-all server): the databases it may serve. The person chooses.
 */
undecided: Array<string> | null, 
/**
 * The person's choice is in force on this connection.
 */
chosen: boolean, };

export type DiagnosisView = { host: string, verdict: Verdict, 
/**
 * Every check, in the checklist's order.
 */
checks: Array<Finding>, 
/**
 * The ids of the problems the app can fix here (remedy `here`), in the quick-fix order:
 * never one it would then refuse or find nothing to change for.
 */
fixOrder: Array<string>, odoo: OdooSummary, };

export type PlanView = { planId: number, changeset: ChangeSet, };

export type ApplyView = { result: ApplyResult, 
/**
 * What was applied (or rolled back), to show next to the verification.
 */
changeset: ChangeSet, 
/**
 * The diagnosis after the apply (none when it was rolled back).
 */
after: DiagnosisView | null, };

export type RollbackView = { result: RollbackResult, 
/**
 * The diagnosis once rolled back: the original state again.
 */
after: DiagnosisView, };

export type ExportedReport = { path: string, format: ReportFormat, bytes: number, };

export type ReportFormat = "html" | "markdown" | "json";

export type CheckMark = { id: CheckId, title: string, status: Status, };

export type FleetError = { 
/**
 * The app's error code (`unreachable`, `unknown_host_key`, `secret_needed`, …).
 */
code: string, message: string, hint: string, 
/**
 * The server needs the person (trust its key, type a secret): not a fault of the server.
 */
needsYou: boolean, };

export type LastResult = { 
/**
 * When it ended, in seconds since 1970-01-01 UTC.
 */
at: number, 
/**
 * The verdict's status; `None` when the server could not be diagnosed (see `error`).
 */
status: Status | null, 
/**
 * The verdict's line, or what stopped the diagnosis.
 */
line: string, 
/**
 * The Odoo version found.
 */
version: string | null, 
/**
 * The check to start with: the first of the worst status (a problem before a thing to improve).
 */
worst: CheckMark | null, 
/**
 * Every check that is a problem or a thing to improve (the screen filters by them).
 */
problems: Array<CheckMark>, error: FleetError | null, };

export type FleetRow = { server: ServerEntry, last: LastResult | null, };

export type CheckId = "service.found" | "session.lifetime" | "session.store" | "session.external-cleanup" | "session.cleanup-runs" | "session.idle-logout" | "session.revoked" | "conf.folklore" | "conf.syntax" | "proxy.mode" | "proxy.headers" | "proxy.websocket" | "proxy.https-redirect" | "proxy.canonical-host" | "proxy.cookie-flags" | "proxy.sticky" | "proxy.cache" | "workers.memory" | "db.filter";

export type Status = "ok" | "skip" | "unknown" | "warn" | "fail";

export type Evidence = { source: string, excerpt: string, };

export type Reference = { label: string, url: string, };

export type Choice = { value: string, label: string, 
/**
 * Set when this choice has a cost the person must know (e.g. too short for this version).
 */
warning: string | null, };

export type FixOffer = { title: string, choices: Array<Choice>, 
/**
 * The value used when the person picks nothing.
 */
default: string | null, };

export type Remedy = { "kind": "none" } | { "kind": "here", also: Array<CheckId>, } | { "kind": "needs_you", why: string, steps: Array<string>, };

export type Finding = { id: CheckId, status: Status, title: string, 
/**
 * One line: what is the case here.
 */
summary: string, users_see: string, why: string, evidence: Array<Evidence>, version_note: string | null, references: Array<Reference>, fixes: Array<FixOffer>, 
/**
 * Whether the app can fix this here, decided after judging by planning this check alone
 * over the facts (see [`crate::change::remedy`]): the faces offer a fix only for `here`.
 */
remedy: Remedy, };

export type Verdict = { status: Status, line: string, };

export type FileKind = "odoo_conf" | "nginx" | "cron";

export type FileChange = { path: string, kind: FileKind, checks: Array<CheckId>, owner: string, group: string, mode: number, before_sha256: string, after_sha256: string, 
/**
 * Unified diff with secrets redacted: what people are shown.
 */
diff: string, };

export type ParamChange = { db: string, key: string, old: string | null, new: string | null, check: CheckId, };

export type ServiceAction = { "action": "reload_nginx", test: Array<string>, reload: Array<string>, } | { "action": "restart_odoo", command: Array<string>, service: string, 
/**
 * Whether Odoo ran before the change. When it did not (a crash loop the change fixes),
 * a rollback restores that state too: it starts Odoo without waiting for it to answer.
 */
was_running: boolean, };

export type Reason = { check: CheckId, text: string, };

export type ChangeSet = { checks: Array<CheckId>, files: Array<FileChange>, params: Array<ParamChange>, services: Array<ServiceAction>, reasons: Array<Reason>, 
/**
 * What users will notice while it is applied.
 */
interruption: string, 
/**
 * Checks asked for that need no change (already right) or cannot be fixed automatically.
 */
notes: Array<Reason>, };

export type Verification = { check: string, persisted: boolean, detail: string, };

export type Outcome = "applied" | "rolled_back" | "failed";

export type ApplyResult = { 
/**
 * The change set id (empty when there was nothing to change).
 */
changeset: string, status: Outcome, verification: Array<Verification>, 
/**
 * Why it was rolled back or failed.
 */
error: string | null, };

export type RecordStatus = "recorded" | "applying" | "applied" | "rolled_back" | "undone" | "rollback_failed";

export type Unsettled = { id: string, status: RecordStatus, 
/**
 * What state it is in, in plain words.
 */
state: string, 
/**
 * The files and parameters it changes.
 */
changed: Array<string>, };

export type ChangeRecord = { id: string, 
/**
 * Unix seconds.
 */
created: number, created_text: string, 
/**
 * Who applied it: the local account and machine, and the SSH login.
 */
by: string, host: string, 
/**
 * The instance it was made for; `None` in records written before it was kept (see
 * [`Record::belongs_to`]).
 */
instance?: InstanceRef, status: RecordStatus, changeset: ChangeSet, verification: Array<Verification>, error: string | null, 
/**
 * What happened, in order, with times: the audit trail.
 */
log: Array<string>, 
/**
 * When and by whom it was rolled back on request (absent in older records: see
 * [`Record::undone_stamp`]).
 */
undone?: Stamp, 
/**
 * An action on the server that is not a change of files or parameters (logging users out,
 * see [`crate::sessions`]): recorded for the audit trail, with nothing to roll back.
 */
action?: ActionRecord, };

export type RollbackResult = { changeset: string, status: RecordStatus, error: string | null, };

export type InstanceRef = { config_path: string | null, http_port: number, };

export type Stamp = { 
/**
 * Unix seconds.
 */
at: number, at_text: string, by: string, };

export type ItemState = "in_effect" | "changed" | "gone" | "unknown";

export type EffectState = "in_effect" | "no_longer_in_effect" | "unknown";

export type ChangedBy = { changeset: string, 
/**
 * `applied` (a later change set wrote it) or `rolled_back` (a rollback restored it).
 */
action: string, at: string, by: string, };

export type FileEffect = { path: string, state: ItemState, 
/**
 * Set when this tool's records say who changed it.
 */
changed_by: ChangedBy | null, 
/**
 * The state in a sentence (with the file's time and owner when changed outside this app).
 */
detail: string, };

export type ParamEffect = { db: string, key: string, state: ItemState, changed_by: ChangedBy | null, detail: string, };

export type Effect = { changeset: string, state: EffectState, files: Array<FileEffect>, params: Array<ParamEffect>, 
/**
 * The state in a sentence.
 */
summary: string, };

export type ActionRecord = { 
/**
 * `log_out`.
 */
kind: string, 
/**
 * "Logged out marc (database odoo): 3 sessions deleted".
 */
summary: string, 
/**
 * Always false: said in the record itself so every reader (history, app, a person with
 * `cat`) sees it.
 */
can_roll_back: boolean, };

export type Device = { platform: string | null, browser: string | null, ip: string | null, 
/**
 * Seconds since the last activity Odoo noted from it (at most hourly).
 */
last_seen_secs: number | null, };

export type SessionRow = { 
/**
 * A short keyed hash of the session's file name, stable within one listing only.
 */
key: string, 
/**
 * Since Odoo last wrote the file: what the daily cleanup compares with the lifetime.
 */
written_secs: number, 
/**
 * Since the last activity Odoo knows of (the newer of the file write and the trace).
 */
idle_secs: number, 
/**
 * Since the person logged in, where the version records it (19's `create_time`, else the
 * first activity of 18's trace); `None` on 16–17, which keep no such date.
 */
age_secs: number | null, devices: Array<Device>, };

export type UserSessions = { login: string, uid: number | null, sessions: number, 
/**
 * The least idle of their sessions (when they were last active anywhere).
 */
idle_secs: number, 
/**
 * The longest since a write among their sessions (the first the cleanup will take).
 */
oldest_written_secs: number, 
/**
 * The oldest login among their sessions, where recorded.
 */
oldest_age_secs: number | null, 
/**
 * Distinct devices (browser, platform, IP) over their sessions.
 */
devices: Array<Device>, rows: Array<SessionRow>, };

export type DbSessions = { db: string, 
/**
 * The lifetime in force there ("7 days", and what sets it).
 */
lifetime_secs: number, lifetime: string, lifetime_set_by: string, users: Array<UserSessions>, 
/**
 * Sessions of this database nobody is logged in to (a visitor, a login page).
 */
anonymous: number, };

export type BadFile = { key: string, inode: number | null, owner: string | null, mode: string | null, size: number | null, reason: string, };

export type OtherDb = { 
/**
 * `None`: a session that names no database.
 */
db: string | null, sessions: number, };

export type Surviving = { changeset: string, fixed_at: string, db: string, old_secs: number, new_secs: number, 
/**
 * Sessions idle (unwritten) longer than the old lifetime: the old cleanup would have
 * deleted them.
 */
older_than_old: number, live: number, oldest_written_secs: number | null, 
/**
 * The line to show.
 */
line: string, };

export type SessionsReport = { host: string, 
/**
 * The instance, in words (port, config, version, service).
 */
instance: string, version: string | null, sessions_dir: string, 
/**
 * The account the files were read as (Odoo's user: what Odoo itself can read).
 */
read_as: string, 
/**
 * Every file in the folder, good or bad.
 */
files: number, 
/**
 * Sessions with a person logged in, in served databases.
 */
live: number, databases: Array<DbSessions>, other_databases: Array<OtherDb>, bad: Array<BadFile>, 
/**
 * Session files by age of their last write, against the lifetimes (the report's chart).
 */
ages: unknown, chart: unknown, surviving: Surviving | null, 
/**
 * One-line notes (a folder that does not exist, sessions from before an upgrade, …).
 */
notes: Array<string>, };

export type Who = { "kind": "login", login: string, db: string | null, } | { "kind": "everyone", db: string | null, };

export type LoggedOutUser = { db: string, login: string, sessions: number, };

export type LogoutPreview = { who: Who, users: Array<LoggedOutUser>, sessions: number, 
/**
 * The text to type to confirm (the login, or `everyone`).
 */
confirm_with: string, 
/**
 * What will happen, said plainly, including that it cannot be undone.
 */
text: string, };

export type LogoutProof = { "state": "refused", before: string, after: string, } | { "state": "still_answers", answer: string, } | { "state": "not_tested", reason: string, };

export type LogoutOutcome = { who: Who, deleted: number, users: Array<LoggedOutUser>, failed: Array<BadFile>, 
/**
 * 18+: device-log rows marked revoked; `None` before 18 (no device log).
 */
device_logs_revoked: number | null, device_log_error: string | null, 
/**
 * Their sessions still on disk after the deletion (a new log-in since counts).
 */
remaining: number, proof: LogoutProof, 
/**
 * The history record (an action, without rollback).
 */
record: string | null, record_error: string | null, 
/**
 * Everything went as it should: files gone, proof not contradicting.
 */
ok: boolean, text: string, };
