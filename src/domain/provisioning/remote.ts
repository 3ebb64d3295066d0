// The files and commands of a provisioning run on the VM (DESIGN §5). The playbook runs detached
// (setsid + nohup) with its output in a log file and its exit code in another, so it survives the
// SSH connection and the worker; a new worker re-attaches by reading the files.
import { stringify as toYaml } from "yaml";
import type { ConfigSnapshot } from "../appservers/config-snapshot.js";
import { shellQuote as q } from "../../adapters/ssh/quote.js";

export interface RemotePaths {
  dir: string;
  vars: string;
  repo: string;
  log: string;
  exit: string;
  pid: string;
  started: string;
}

/** workDir is absolute (the provider says where): the playbook runs from another directory. */
export function remotePaths(workDir: string): RemotePaths {
  const dir = workDir.replace(/\/$/, "");
  return {
    dir,
    vars: `${dir}/vars.yml`,
    repo: `${dir}/configuration`,
    log: `${dir}/playbook.log`,
    exit: `${dir}/playbook.exit`,
    pid: `${dir}/playbook.pid`,
    started: `${dir}/playbook.started`,
  };
}


export function varsFile(snapshot: ConfigSnapshot): string {
  return `# Written by Ocim at launch; the same values are frozen in the appserver's snapshot.\n${toYaml(snapshot.variables)}`;
}

/** Clone the configuration repository at its branch (or reuse the clone of an earlier attempt). */
export function cloneCommand(p: RemotePaths, snapshot: ConfigSnapshot): string {
  const { repoUrl, branch } = snapshot.playbook;
  return [
    `mkdir -p ${q(p.dir)}`,
    `if [ ! -d ${q(p.repo + "/.git")} ]; then git clone --quiet --depth 1 --branch ${q(branch)} -- ${q(repoUrl)} ${q(p.repo)}; fi`,
    `git -C ${q(p.repo)} log -1 --format='configuration at %h: %s'`,
  ].join(" && ");
}

/**
 * Starts the playbook detached. The marker file makes a repeated call (a resumed job) a no-op.
 * The bootstrap command (a setting of the instance) runs first, in the same log.
 */
export function startCommand(p: RemotePaths, snapshot: ConfigSnapshot): string {
  const playbook = snapshot.playbook.path;
  const playbookDir = playbook.includes("/") ? playbook.slice(0, playbook.lastIndexOf("/")) : ".";
  const playbookFile = playbook.slice(playbook.lastIndexOf("/") + 1);
  const bootstrap = snapshot.playbook.bootstrapCommand.trim();
  const run = [
    bootstrap ? `( cd ${q(p.repo)} && ${bootstrap} )` : "true",
    `cd ${q(`${p.repo}/${playbookDir}`)}`,
    `ANSIBLE_FORCE_COLOR=0 PYTHONUNBUFFERED=1 ansible-playbook -c local -i localhost, ${q(`./${playbookFile}`)} -e @${q(p.vars)}`,
  ].join(" && ");
  const script = `${run}; echo $? > ${q(p.exit)}.tmp && mv ${q(p.exit)}.tmp ${q(p.exit)}`;
  return [
    `if [ ! -e ${q(p.started)} ]; then`,
    `  rm -f ${q(p.exit)} ${q(p.log)};`,
    `  touch ${q(p.started)};`,
    `  setsid nohup sh -c ${q(script)} > ${q(p.log)} 2>&1 < /dev/null & echo $! > ${q(p.pid)};`,
    `fi`,
  ].join("\n");
}

/** Kills the detached playbook (its whole session) on cancel or timeout; prints "stopped" when it was running. */
export function killCommand(p: RemotePaths): string {
  return `if [ -e ${q(p.pid)} ] && [ ! -e ${q(p.exit)} ]; then pid=$(cat ${q(p.pid)}); if kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; then sleep 1; kill -KILL -- -"$pid" 2>/dev/null; echo stopped; fi; fi; true`;
}
