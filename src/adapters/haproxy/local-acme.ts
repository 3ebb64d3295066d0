// ACME HTTP-01 answers on a `local` balancer: the frontend returns the key authorization of a token
// found in the challenge map (local-config.ts). A token is added to the running haproxy through its
// stats socket (`add map`, no reload) and to the file, so a reload in between keeps it.
import { readFile, writeFile } from "node:fs/promises";
import { AppError } from "../../errors.js";
import { localRuntimePaths, runningMaster, socketCommand } from "./local-process.js";

// RFC 8555 §8.1 and §8.3: tokens and key authorizations are base64url, joined by one ".".
export const CHALLENGE_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/;

export interface ChallengeMap {
  publish(token: string, keyAuthorization: string): Promise<void>;
  remove(token: string): Promise<void>;
}

/** acme-client publishes the challenges of all the order's domains at once: one file edit at a time. */
export function serially(): <T>(step: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(step: () => Promise<T>): Promise<T> => {
    const next = queue.then(step, step);
    queue = next.catch(() => undefined);
    return next;
  };
}

export function localChallengeMap(balancer: { name: string; configPath: string }): ChallengeMap {
  const runtime = localRuntimePaths(balancer.configPath);
  const command = async (line: string) => {
    if (runningMaster(runtime) === null) throw new AppError("unavailable", `The haproxy of load balancer ${balancer.name} is not running: apply it first.`);
    const answer = (await socketCommand(runtime.socket, line)).trim();
    if (answer !== "") throw new AppError("unavailable", `HAProxy of load balancer ${balancer.name} refused a challenge token: ${answer}`);
  };
  const serial = serially();
  const lines = async () => (await readFile(runtime.acmeMap, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return {
    publish: (token, keyAuthorization) => serial(async () => {
      if (!CHALLENGE_RE.test(token) || !CHALLENGE_RE.test(keyAuthorization)) throw new AppError("validation", "The ACME server sent a malformed challenge token.");
      await writeFile(runtime.acmeMap, [...(await lines()), `${token} ${keyAuthorization}`].map((line) => `${line}\n`).join(""), { mode: 0o600 });
      await command(`add map ${runtime.acmeMap} ${token} ${keyAuthorization}`);
    }),
    remove: (token) => serial(async () => {
      if (!CHALLENGE_RE.test(token)) return;
      const rest = (await lines()).filter((line) => !line.startsWith(`${token} `));
      await writeFile(runtime.acmeMap, rest.map((line) => `${line}\n`).join(""), { mode: 0o600 });
      // Cleanup: a token already gone (haproxy reloaded from the file meanwhile) is no failure.
      await command(`del map ${runtime.acmeMap} ${token}`).catch(() => undefined);
    }),
  };
}
