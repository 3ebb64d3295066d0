// Running `haproxy -c` on candidate files, and turning its output into a message a person can act on.
import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { AppError } from "../../errors.js";
import { HaproxyRejected } from "./port.js";

const FALLBACK_DIRS = ["/usr/sbin", "/usr/local/sbin"];
const MAX_MESSAGE = 2000;
// haproxy's closing lines after the real errors: they only repeat the file name.
const SUMMARY_LINES = ["Error(s) found in configuration file", "Fatal errors found in configuration"];

/** The haproxy executable: HAPROXY_BIN, else the PATH, else /usr/sbin (not on a normal user's PATH on Debian). */
export function resolveHaproxyBin(setting: string | undefined): string {
  if (setting?.includes("/")) return setting;
  const name = setting ?? "haproxy";
  const known = resolved.get(name);
  if (known) return known;
  const found = onPath(name) ?? FALLBACK_DIRS.map((dir) => path.join(dir, name)).find(isExecutable);
  if (found) {
    resolved.set(name, found);
    return found;
  }
  throw new AppError("unavailable", "HAProxy is not installed. Install it (Debian/Ubuntu: apt-get install haproxy) or set HAPROXY_BIN.");
}

// Looked up once per process: every apply needs it, and the lookup runs a shell.
const resolved = new Map<string, string>();

function onPath(name: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", 'command -v "$0"', name], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** haproxy could not be run at all (spawn failed: no such file, not executable), naming the setting to fix. */
export function haproxyNotRunnable(bin: string, err: NodeJS.ErrnoException): AppError {
  const why = err.code === "ENOENT" ? "no such file" : err.code === "EACCES" ? "cannot be run (permission denied)" : `cannot be run (${err.message})`;
  return new AppError("unavailable", `HAPROXY_BIN ${bin}: ${why}`);
}

/** Runs haproxy; rejects (haproxyNotRunnable) only when it could not be started at all. */
export function runHaproxy(bin: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      if (e?.syscall?.startsWith("spawn")) return reject(haproxyNotRunnable(bin, e));
      resolve({
        code: e ? (typeof e.code === "number" ? e.code : null) : 0,
        output: `${stdout}${stderr}${e && typeof e.code === "string" ? e.message : ""}`,
        timedOut: Boolean(e?.killed),
      });
    });
  });
}

/**
 * `haproxy -c -f <files>`; throws HaproxyRejected with the trimmed message when it refuses them.
 * `shownAs` maps candidate paths to the live names, so the message points at the real file.
 */
export async function checkConfig(bin: string, files: string[], timeoutMs: number, shownAs: Record<string, string>): Promise<string> {
  const result = await runHaproxy(bin, ["-c", ...files.flatMap((f) => ["-f", f])], timeoutMs);
  if (result.timedOut) throw new HaproxyRejected(`haproxy -c did not finish within ${timeoutMs / 1000} s.`);
  if (result.code !== 0) throw new HaproxyRejected(trimOutput(result.output, shownAs) || `haproxy -c failed (exit code ${result.code}).`);
  return trimOutput(result.output, shownAs, "[WARNING]");
}

/**
 * The lines that matter ([ALERT] by default) without haproxy's "[ALERT] (pid) : config :" prefix,
 * candidate paths replaced by the live ones, basic-auth credentials masked, capped in length.
 */
export function trimOutput(output: string, shownAs: Record<string, string>, level = "[ALERT]"): string {
  const lines: string[] = [];
  for (const raw of output.split("\n")) {
    if (!raw.startsWith(level)) continue;
    let line = raw.replace(/^\[[A-Z]+\]\s*\(\d+\)\s*:\s*/, "").replace(/^config\s*:\s*/, "");
    if (SUMMARY_LINES.some((s) => line.startsWith(s))) continue;
    for (const [from, to] of Object.entries(shownAs)) line = line.split(from).join(to);
    lines.push(maskSecrets(line));
  }
  const text = lines.join("\n");
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/** haproxy may echo a header line back; the basic-auth credentials in it must not reach a log or a page. */
export function maskSecrets(text: string): string {
  return text.replace(/Basic [A-Za-z0-9+/=]+/g, "Basic [masked]");
}
