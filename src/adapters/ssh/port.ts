// A shell on a VM over SSH (DESIGN §5 step 3-4): run a command, upload a file, tail a file from a
// stored byte offset. Every call has a deadline (STYLE 7).
import { AppError } from "../../errors.js";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH or PEM private key. A secret: it never appears in errors or logs. */
  privateKey: string;
  /** Keep retrying refused connections and handshake timeouts for this long (a VM that is booting). */
  deadlineMs?: number;
  /** SHA256 fingerprint ("SHA256:…") the host key must have; unset accepts any key and reports it. */
  hostKeyFingerprint?: string;
}

export interface ExecResult {
  /** Null when the command was ended by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** The command is killed and SshError("command_timeout") thrown after this long. Default 10 min. */
  timeoutMs?: number;
}

export interface ReadResult {
  bytes: Buffer;
  /** Where the next read starts: offset + bytes.length. */
  newOffset: number;
  /** False when the file is not there (yet): bytes is empty and newOffset the offset given. */
  exists: boolean;
}

export interface SshSession {
  /** "SHA256:…" of the server's host key, to pin it for the next connection. */
  readonly hostKeyFingerprint: string;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes the file atomically (temporary name, then rename) with the given mode (default 0644). */
  uploadFile(path: string, content: string | Buffer, mode?: number): Promise<void>;
  /** Reads at most maxBytes from offset; a missing file reads as empty. */
  readFrom(path: string, offset: number, maxBytes: number): Promise<ReadResult>;
  close(): Promise<void>;
}

export interface SshClient {
  connect(target: SshTarget): Promise<SshSession>;
}

export type SshFailure =
  | "unreachable" // refused, timed out, no route: the VM may still be booting
  | "auth" // the server refused the key
  | "key" // the private key cannot be read
  | "host_key" // the host key is not the one expected
  | "command_timeout"
  | "connection_lost"
  | "sftp";

const TRANSIENT: ReadonlySet<SshFailure> = new Set(["unreachable", "command_timeout", "connection_lost"]);

/** An SSH problem; `transient` ones may be retried with backoff (the worker reads this in src/jobs/retry.ts). */
export class SshError extends AppError {
  public readonly transient: boolean;

  constructor(
    public readonly reason: SshFailure,
    message: string,
  ) {
    super("unavailable", message, { reason, transient: TRANSIENT.has(reason) });
    this.transient = TRANSIENT.has(reason);
    this.name = "SshError";
  }
}
