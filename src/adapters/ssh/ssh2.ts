// The SSH port over ssh2. connect() keeps trying while the VM boots (refused, no route, handshake
// timeout) until the caller's deadline, with backoff; a refused key or an unreadable key fails at
// once, since retrying cannot fix them.
import { createHash } from "node:crypto";
import { Client } from "ssh2";
import type { Logger } from "../../logger.js";
import { SshError, type SshClient, type SshSession, type SshTarget } from "./port.js";
import { openSession } from "./ssh2-session.js";

export interface Ssh2Options {
  /** Deadline for connect() when the target gives none (SSH_CONNECT_TIMEOUT_SECONDS). */
  connectTimeoutMs: number;
  /** Longest single handshake attempt; a booting VM's sshd can accept and then stall. */
  attemptTimeoutMs?: number;
  log?: Logger;
}

export function createSsh2Client(options: Ssh2Options): SshClient {
  return {
    async connect(target) {
      const deadlineMs = target.deadlineMs ?? options.connectTimeoutMs;
      const until = Date.now() + deadlineMs;
      const where = `${target.username}@${target.host}:${target.port}`;
      let attempts = 0;
      let delay = 250;
      for (;;) {
        attempts += 1;
        const left = until - Date.now();
        try {
          return await attempt(target, Math.max(1_000, Math.min(options.attemptTimeoutMs ?? 20_000, left)));
        } catch (err) {
          const failure = classify(err, where);
          if (failure) throw failure;
          const why = describe(err);
          options.log?.debug({ event: "ssh.connect.retry", where, attempts, why }, "ssh.connect.retry");
          if (Date.now() + delay >= until) {
            throw new SshError("unreachable", `Could not connect to ${where} within ${seconds(deadlineMs)}: ${why} (${attempts} attempts).`);
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5_000);
        }
      }
    },
  };
}

function attempt(target: SshTarget, readyTimeout: number): Promise<SshSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let fingerprint = "";
    let hostKeyRejected = false;
    const fail = (err: unknown) => {
      client.removeAllListeners("ready");
      client.on("error", () => {}); // a second error while closing must not crash the process
      client.end();
      reject(hostKeyRejected ? new SshError("host_key", `The host key of ${target.host}:${target.port} is ${fingerprint}, not the expected ${target.hostKeyFingerprint}.`) : err);
    };
    client.once("ready", () => {
      client.removeListener("error", fail);
      client.removeListener("close", onEarlyClose);
      // ssh2 leaves Nagle on: every SFTP request/reply then waits for the peer's delayed ACK
      // (~40 ms each on Linux); measured on a local VM, a 4 KB read of the playbook log took
      // 175 ms, and a line printed on the VM took p95 1 s to reach the page (bench/log-pipeline).
      client.setNoDelay(true);
      resolve(openSession(client, fingerprint));
    });
    client.once("error", fail);
    const onEarlyClose = () => fail(Object.assign(new Error("connection closed during the handshake"), { code: "ECONNRESET" }));
    client.once("close", onEarlyClose);
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: readyTimeout,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          fingerprint = `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
          hostKeyRejected = Boolean(target.hostKeyFingerprint) && target.hostKeyFingerprint !== fingerprint;
          return !hostKeyRejected;
        },
      });
    } catch (err) {
      // ssh2 parses the key synchronously; its message never contains the key itself.
      reject(new SshError("key", `The private key for ${target.username}@${target.host} cannot be used: ${describe(err)}.`));
    }
  });
}

/** A final SshError for problems retrying cannot fix; null for those worth another attempt. */
function classify(err: unknown, where: string): SshError | null {
  if (err instanceof SshError) return err;
  if ((err as { level?: string }).level === "client-authentication") {
    return new SshError("auth", `The SSH server at ${where} refused the key (public key authentication failed).`);
  }
  // Refused, reset, no route, handshake timeouts and protocol hiccups: a booting VM shows them all.
  return null;
}

function describe(err: unknown): string {
  const e = err as { code?: string; level?: string; message?: string };
  if (e.code === "ECONNREFUSED") return "connection refused";
  if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH") return "no route to host";
  if (e.code === "ETIMEDOUT" || e.level === "client-timeout") return "timed out";
  return (e.message ?? String(err)).slice(0, 200);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
