// Keeps a child process running: when it exits without being asked to, it is started again, after
// 1 s, 2 s, 4 s … (at most 30 s; back to 1 s once it has stayed up a minute), and the log says so.
// The one way Ocim supervises a server it started (STYLE 15).
import type { Logger } from "../logger.js";
import type { Child } from "./processes.js";

export interface SuperviseOptions {
  /** Where "exited, restarting in …" and "restarted" go (`npm start` prints them). */
  log?: Pick<Logger, "warn">;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Up this long, a process counts as healthy again and the next restart waits firstDelayMs. */
  healthyAfterMs?: number;
  now?: () => number;
}

/**
 * Starts `start()` and restarts it whenever it dies. The returned child is the current process;
 * its stop() ends the supervision, then the process.
 */
export async function supervise(name: string, start: () => Promise<Child>, options: SuperviseOptions = {}): Promise<Child> {
  const { log = { warn: () => {} }, firstDelayMs = 1000, maxDelayMs = 30_000, healthyAfterMs = 60_000, now = Date.now } = options;
  let current = await start();
  let stopping = false;
  let failures = 0;
  let upSince = now();
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;

  const schedule = (fields: Record<string, unknown>, event: string) => {
    const delayMs = Math.min(maxDelayMs, firstDelayMs * 2 ** failures);
    failures += 1;
    log.warn({ service: name, restartInMs: delayMs, ...fields }, event);
    timer = setTimeout(() => (restarting = restart().finally(() => (restarting = undefined))), delayMs);
  };
  const watch = (child: Child) =>
    child.process.once("exit", (code, signal) => {
      if (stopping) return;
      if (now() - upSince >= healthyAfterMs) failures = 0;
      schedule({ code, signal }, `embedded.${name}.exited`);
    });
  const restart = async () => {
    if (stopping) return;
    try {
      const child = await start();
      if (stopping) return void (await child.stop());
      current = child;
      upSince = now();
      watch(child);
      log.warn({ service: name, restarts: failures }, `embedded.${name}.restarted`);
    } catch (err) {
      schedule({ err }, `embedded.${name}.restart_failed`);
    }
  };
  watch(current);
  return {
    name,
    get process() {
      return current.process;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await restarting;
      await current.stop();
    },
  };
}
