// What Ocim reads on the host of an `ssh` balancer: the haproxy processes that load Ocim's fragment,
// from /proc, and the command line they were started with. The check runs that command line, so
// the fragment is parsed after the operator's main config exactly as the running haproxy will (it
// inherits the *last* `defaults` section before it), not after defaults of Ocim's own.
import { AppError } from "../../errors.js";
import type { SshSession } from "../ssh/port.js";
import { shellQuote } from "../ssh/quote.js";

export interface HaproxyProcess {
  pid: number;
  argv: string[];
}

// The pid and arguments of every process whose command line names the file, one per line:
// `<pid> <arg>\t<arg>\t…`. One grep over /proc/<pid>/cmdline (readable by any user on a default
// Linux mount) picks them, so the cost does not grow with the host's process count (a `tr` per
// process took 0.4 s for 100 processes). Processes that end meanwhile are skipped.
function listCommand(file: string): string {
  return `for f in $(grep -lsF -- ${shellQuote(file)} /proc/[0-9]*/cmdline); do c=$( { tr '\\0' '\\t' < "$f"; } 2>/dev/null ) || continue; p=\${f#/proc/}; [ -n "$c" ] && printf '%s %s\\n' "\${p%/cmdline}" "$c"; done; true`;
}

/** The haproxy processes on the host started with `-f <configPath>` (a master-worker haproxy lists its master and its workers). */
export async function haproxyProcesses(session: SshSession, configPath: string, timeoutMs: number): Promise<HaproxyProcess[]> {
  const listed = await session.exec(listCommand(configPath), { timeoutMs });
  const found: HaproxyProcess[] = [];
  for (const line of listed.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 1) continue;
    const argv = line.slice(space + 1).replace(/\t$/, "").split("\t");
    // By argv[0], so the shell running this very listing (whose script names the path) is not one.
    if (!/(^|\/)haproxy$/.test(argv[0] ?? "") || configFiles(argv).indexOf(configPath) < 0) continue;
    found.push({ pid: Number(line.slice(0, space)), argv });
  }
  return found;
}

/** The `-f` files of a haproxy command line, in order (the ones after `--` too). */
export function configFiles(argv: string[]): string[] {
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === "--") return files.concat(argv.slice(i + 1));
    if (argv[i] === "-f" && argv[i + 1] !== undefined) files.push(argv[++i]!);
  }
  return files;
}

/** Why nothing can be applied until the operator has set the host up: said in the balancer's last error. */
export function notLoadedMessage(host: string, configPath: string, mapPath: string): string {
  return (
    `No haproxy on ${host} loads ${configPath}. Add "-f ${configPath}" to its command line after its main config ` +
    `and restart it once (a reload keeps the command line it started with); create ${configPath} and ${mapPath} empty first ` +
    "if Ocim has not written them yet (docs/load-balancer.md)."
  );
}

export interface CheckPaths {
  configPath: string;
  mapPath: string;
  candidateConfig: string;
  candidateMap: string;
  /** Where copies of main config files that name the map go, with the candidate map in its place. */
  copyPrefix: string;
}

/**
 * A shell script that runs `haproxy -c` with the running process's own `-f` files, the candidate
 * fragment in place of the live one and, in the main config files that name the live map, the
 * candidate map instead (in copies: the operator's files are never changed). It runs in the process's
 * working directory (when readable), so relative paths mean what they mean to that haproxy.
 */
export function checkScript(process: HaproxyProcess, paths: CheckPaths): string {
  const files = configFiles(process.argv);
  const bin = process.argv[0]!.startsWith("/") ? shellQuote(process.argv[0]!) : '"$(command -v haproxy || echo /usr/sbin/haproxy)"';
  const lines = [`cd /proc/${process.pid}/cwd 2>/dev/null || cd /`, "set --"];
  files.forEach((file, i) => {
    if (file === paths.configPath) {
      lines.push(`set -- "$@" -f ${shellQuote(paths.candidateConfig)}`);
      return;
    }
    const copy = `${paths.copyPrefix}${i}.cfg`;
    const f = shellQuote(file);
    // Paths are letters, digits and . _ - / (checked at save): only "." needs escaping for sed.
    const from = paths.mapPath.replace(/\./g, "\\.");
    lines.push(
      `if [ -f ${f} ] && grep -qF ${shellQuote(paths.mapPath)} ${f}; then sed 's|${from}|${paths.candidateMap}|g' ${f} > ${shellQuote(copy)} || exit 70; set -- "$@" -f ${shellQuote(copy)}; else set -- "$@" -f ${f}; fi`,
    );
  });
  lines.push(`exec ${bin} -c "$@"`);
  return lines.join("\n");
}

/** Throws when the host runs no haproxy with the fragment; else the one whose command line the check copies. */
export async function loadingProcess(session: SshSession, host: string, paths: Pick<CheckPaths, "configPath" | "mapPath">, timeoutMs: number): Promise<HaproxyProcess> {
  const found = await haproxyProcesses(session, paths.configPath, timeoutMs);
  // The lowest pid: the master of a master-worker haproxy (its workers copy its arguments, plus -sf/-x).
  const first = found.sort((a, b) => a.pid - b.pid)[0];
  if (!first) throw new AppError("unavailable", notLoadedMessage(host, paths.configPath, paths.mapPath));
  return first;
}
