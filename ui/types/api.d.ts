// The UI's view of the backend: the `Api` every screen calls (ui/api.js), over the types
// generated from Rust in ./bindings.d.ts (never edit those by hand; see src-tauri/src/bindings.rs).
import type {
  AppError, AppInfo, ApplyView, ChangeRecord, Connected, ConnectSecrets, DiagnosisView, Effect,
  ExportedReport, FixInput, FleetRow, LogoutOutcome, LogoutPreview, PlanView, ProbeInput, ProgressEvent,
  ReportFormat, RollbackView, SecretKind, ServerEntry, ServerInput, SessionsReport, SshConfigHost, Who,
} from "./bindings";

export * from "./bindings";

export interface Api {
  readonly kind: "tauri" | "mock";
  appInfo(): Promise<AppInfo>;
  listServers(): Promise<ServerEntry[]>;
  saveServer(server: ServerInput): Promise<ServerEntry>;
  removeServer(serverId: string): Promise<void>;
  sshConfigHosts(): Promise<SshConfigHost[]>;
  importSshHosts(aliases: string[]): Promise<ServerEntry[]>;
  /** The native open-file dialog for a key file; `null` when the person cancelled. */
  chooseKeyFile(): Promise<string | null>;
  connect(serverId: string, secrets: ConnectSecrets | null, onProgress: (event: ProgressEvent) => void): Promise<Connected>;
  trustHostKey(serverId: string, fingerprint: string): Promise<void>;
  /** The secrets the system keyring holds for the server (`[]` without a keyring). */
  rememberedSecrets(serverId: string): Promise<SecretKind[]>;
  /** Removes them from the keyring; true when there were some. */
  forgetSecrets(serverId: string): Promise<boolean>;
  chooseInstance(serverId: string, instance: string): Promise<void>;
  /** The databases to diagnose when the instance's config cannot decide; `[]` = Odoo's rules. */
  chooseDatabases(serverId: string, databases: string[]): Promise<void>;
  diagnose(serverId: string, probe: ProbeInput | null, onProgress: (event: ProgressEvent) => void): Promise<DiagnosisView>;
  planFix(serverId: string, fix: FixInput): Promise<PlanView>;
  applyFix(serverId: string, planId: number, onProgress: (event: ProgressEvent) => void): Promise<ApplyView>;
  /** True when the apply can still stop (before the restart). */
  cancelApply(): Promise<boolean>;
  /** "Stop safely and close": true when the window closes now. */
  closeWhenIdle(): Promise<boolean>;
  history(serverId: string): Promise<ChangeRecord[]>;
  /** The applied change sets re-checked against the server now (files' sha256, parameters' values). */
  historyNow(serverId: string): Promise<Effect[]>;
  rollback(serverId: string, changesetId: string, onProgress: (event: ProgressEvent) => void): Promise<RollbackView>;
  /** Who is logged in to the server's instance now (no session id ever comes back). */
  listSessions(serverId: string): Promise<SessionsReport>;
  /** How many sessions of whom a log-out would delete, and the word to type to confirm. */
  previewLogout(serverId: string, who: Who): Promise<LogoutPreview>;
  /** Logs out (cannot be undone): `confirmation` is what the person typed. */
  logOut(serverId: string, who: Who, confirmation: string): Promise<LogoutOutcome>;
  /** `null` when the person cancelled the save dialog. */
  exportReport(serverId: string, format: ReportFormat): Promise<ExportedReport | null>;
  openReport(path: string): Promise<void>;
  /** Opens an https reference in the browser. */
  openLink(url: string): Promise<void>;
  /** Every saved server with its last result (the Fleet screen). */
  fleetOverview(): Promise<FleetRow[]>;
  /** Diagnoses every server a few at a time: `serverStarted` / `serverFinished` events per server. */
  diagnoseAll(onProgress: (event: ProgressEvent) => void): Promise<FleetRow[]>;
  /** The window was asked to close while a change is being applied. */
  onCloseRequested(handler: () => void): void;
}

export type { AppError };
