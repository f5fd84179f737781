// Types crossing the bridge between the Rust shell (src-tauri) and the UI.
// Hand-written for the first screen, mirroring src-tauri/src/{commands,demo,error,progress}.rs.
// The wizard (issue 5) replaces this file with declarations generated from Rust (ts-rs) and
// committed; keep names identical so the JSDoc in ui/*.js keeps pointing at the right types.

export interface AppInfo {
  name: string;
  version: string;
  /** True when started by scripts/demo (or the e2e tests) with a lab to show. */
  demo: boolean;
}

export type ServerKind = "demo" | "saved";

export interface ServerEntry {
  id: string;
  name: string;
  host: string;
  port: number;
  user: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it, when known in advance. */
  hostKeyFingerprint: string | null;
  kind: ServerKind;
  scenario: string | null;
}

export interface Connected {
  serverId: string;
  hostName: string;
  hostKeyFingerprint: string;
}

/** The one error shape every command rejects with. */
export interface AppError {
  code: string;
  message: string;
  hint: string;
}

export type Step = "connecting" | "identifying";

/** Progress over a Channel; unknown `event`s must be ignored. */
export type ProgressEvent =
  | { event: "step"; data: { step: Step; message: string } }
  | { event: "finished" };

export interface Api {
  readonly kind: "tauri" | "mock";
  appInfo(): Promise<AppInfo>;
  listServers(): Promise<ServerEntry[]>;
  connect(serverId: string, onProgress: (event: ProgressEvent) => void): Promise<Connected>;
}
