// One connected ssh2 client seen through the SshSession port: exec with a timeout and bounded
// output, atomic SFTP uploads, and reads of a file from a byte offset (to tail a playbook log).
import { randomBytes } from "node:crypto";
import type { Client, SFTPWrapper } from "ssh2";
import { SshError, type ExecResult, type SshSession } from "./port.js";
import { shellQuote } from "./quote.js";

const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;
const SFTP_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** Beyond this, a command's output is cut (a log belongs in a file read with readFrom). */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
const NO_SUCH_FILE = 2;
/** After SIGTERM at the deadline, `timeout` sends SIGKILL this much later. */
const KILL_GRACE_S = 5;

export function openSession(client: Client, hostKeyFingerprint: string): SshSession {
  let lost: string | null = null;
  client.on("error", (err) => (lost ??= err.message));
  client.on("close", () => (lost ??= "the connection closed"));
  let sftp: Promise<SFTPWrapper> | null = null;

  const alive = () => {
    if (lost) throw new SshError("connection_lost", `The SSH connection was lost: ${lost}.`);
  };
  const getSftp = () =>
    (sftp ??= withDeadline(
      new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s)))),
      SFTP_TIMEOUT_MS,
      "opening SFTP",
    ).catch((err) => {
      sftp = null;
      throw sftpError("open SFTP", err);
    }));

  return {
    hostKeyFingerprint,
    async exec(command, opts = {}) {
      alive();
      return exec(client, command, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS, () => lost);
    },
    async uploadFile(path, content, mode = 0o644) {
      alive();
      const s = await getSftp();
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
      await withDeadline(upload(s, path, data, mode), SFTP_TIMEOUT_MS, `uploading ${path}`).catch((err) => {
        throw sftpError(`upload ${path}`, err);
      });
    },
    async readFrom(path, offset, maxBytes) {
      alive();
      const s = await getSftp();
      return withDeadline(readAt(s, path, offset, maxBytes), SFTP_TIMEOUT_MS, `reading ${path}`).catch((err) => {
        throw sftpError(`read ${path}`, err);
      });
    },
    async close() {
      if (lost) return;
      const closed = new Promise<void>((r) => client.once("close", () => r()));
      client.end();
      await withDeadline(closed, CLOSE_TIMEOUT_MS, "closing").catch(() => client.destroy());
    },
  };
}

/**
 * Runs the command under coreutils `timeout` on the VM: at the deadline it kills the command's
 * whole process group (a playbook's children too), even if this connection is gone by then. The
 * channel is closed as well, after a grace period, for a VM where that did not work.
 */
function exec(client: Client, command: string, timeoutMs: number, lost: () => string | null): Promise<ExecResult> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const wrapped = `timeout -k ${KILL_GRACE_S} ${seconds} "\${SHELL:-/bin/sh}" -c ${shellQuote(command)}`;
  return new Promise((resolve, reject) => {
    client.exec(wrapped, (err, stream) => {
      if (err) return reject(new SshError("connection_lost", `Could not start a command over SSH: ${err.message}.`));
      const out = collector();
      const errOut = collector();
      let code: number | null = null;
      let signal: string | undefined;
      let timedOut = false;
      const timeoutError = () =>
        new SshError("command_timeout", `The command did not finish within ${seconds} s and was stopped: ${command.slice(0, 120)}`);
      const timer = setTimeout(() => {
        timedOut = true;
        hardStop = setTimeout(() => {
          stream.close();
          reject(timeoutError());
        }, (KILL_GRACE_S + 5) * 1000);
      }, timeoutMs);
      let hardStop: NodeJS.Timeout | undefined;
      stream.on("data", out.add);
      stream.stderr.on("data", errOut.add);
      stream.on("exit", (c: number | null, s?: string) => {
        code = c ?? null;
        signal = s ?? undefined;
      });
      stream.on("close", () => {
        clearTimeout(timer);
        clearTimeout(hardStop);
        if (timedOut) return reject(timeoutError());
        const gone = code === null && !signal ? lost() : null;
        if (gone) return reject(new SshError("connection_lost", `The SSH connection was lost while a command ran: ${gone}.`));
        resolve({ code, ...(signal ? { signal } : {}), stdout: out.text(), stderr: errOut.text() });
      });
    });
  });
}

function collector() {
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  return {
    add: (chunk: Buffer) => {
      if (size + chunk.length > MAX_OUTPUT_BYTES) cut = true;
      else chunks.push(chunk);
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString("utf8") + (cut ? `\n[output cut at ${MAX_OUTPUT_BYTES} bytes]` : ""),
  };
}

/** Written under a temporary name, then renamed: a reader never sees half a file. */
async function upload(s: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  const tmp = `${path}.ocim-${randomBytes(4).toString("hex")}`;
  try {
    await writeAll(s, tmp, data, mode);
    await promisify<void>((cb) => s.ext_openssh_rename(tmp, path, cb));
  } catch (err) {
    s.unlink(tmp, () => {}); // best effort; the error that matters is the one thrown
    throw err;
  }
}

async function writeAll(s: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  const handle = await promisify<Buffer>((cb) => s.open(path, "w", { mode }, cb));
  try {
    // ssh2 splits a write larger than the server's packet limit itself.
    if (data.length) await promisify<void>((cb) => s.write(handle, data, 0, data.length, 0, cb));
    // The server's umask applied at open; the mode asked for is what the caller means.
    await promisify<void>((cb) => s.fchmod(handle, mode, cb));
  } finally {
    await promisify<void>((cb) => s.close(handle, cb));
  }
}

async function readAt(s: SFTPWrapper, path: string, offset: number, maxBytes: number) {
  let handle: Buffer;
  try {
    handle = await promisify<Buffer>((cb) => s.open(path, "r", cb));
  } catch (err) {
    if ((err as { code?: number }).code === NO_SUCH_FILE) return { bytes: Buffer.alloc(0), newOffset: offset, exists: false };
    throw err;
  }
  try {
    const buf = Buffer.alloc(maxBytes);
    let got = 0;
    while (got < maxBytes) {
      const n = await promisify<number>((cb) => s.read(handle, buf, got, maxBytes - got, offset + got, (err, bytesRead) => cb(err, bytesRead)));
      if (n === 0) break; // end of file
      got += n;
    }
    return { bytes: buf.subarray(0, got), newOffset: offset + got, exists: true };
  } finally {
    await promisify<void>((cb) => s.close(handle, cb));
  }
}

function promisify<T>(start: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SshError("command_timeout", `SSH: ${what} did not finish within ${ms / 1000} s.`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function sftpError(what: string, err: unknown): SshError {
  if (err instanceof SshError) return err;
  const e = err as { code?: number; message?: string };
  const why = e.code === NO_SUCH_FILE ? "no such file or directory" : (e.message ?? String(err));
  return new SshError("sftp", `Could not ${what} over SFTP: ${why}.`);
}
