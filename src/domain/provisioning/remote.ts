// The files and commands of a provisioning run on the VM (DESIGN §5). The playbook runs detached
// (setsid + nohup) with its output in a log file and its exit code in another, so it survives the
// SSH connection and the worker; a new worker re-attaches by reading the files.
import type { ConfigSnapshot } from "../appservers/config-snapshot.js";
import { shellQuote as q } from "../../adapters/ssh/quote.js";
import { ansibleYaml } from "./ansible-yaml.js";

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
  return `# Written by Ocim at launch; the same values are frozen in the appserver's snapshot.\n${ansibleYaml(snapshot.variables)}`;
}

/**
 * Get the configuration repository at its branch, tag or full commit id (or reuse the copy of an
 * earlier attempt). A fetch of that one ref, not `git clone --branch`, which takes no commit id: the
 * form accepts one, and pinning the configuration to a commit is common. Made in a temporary
 * directory and moved into place once checked out, so an attempt that failed halfway leaves nothing
 * that a retry would take for a finished copy.
 */
export function cloneCommand(p: RemotePaths, snapshot: ConfigSnapshot): string {
  const { repoUrl, branch } = snapshot.playbook;
  const partial = q(`${p.repo}.partial`);
  const git = `git -C ${partial}`;
  const get = [
    `rm -rf ${partial}`,
    `git -c init.defaultBranch=ocim init --quiet ${partial}`,
    `${git} remote add origin ${q(repoUrl)}`,
    `${git} fetch --quiet --depth 1 origin ${q(branch)}`,
    `${git} -c advice.detachedHead=false checkout --quiet FETCH_HEAD`,
    `mv ${partial} ${q(p.repo)}`,
  ].join(" && ");
  return [
    `mkdir -p ${q(p.dir)}`,
    `if [ ! -d ${q(p.repo + "/.git")} ]; then ${get}; fi`,
    `git -C ${q(p.repo)} log -1 --format='configuration at %h: %s'`,
  ].join(" && ");
}

/**
 * Starts the playbook detached. The marker file makes a repeated call (a resumed job) a no-op.
 *
 * The bootstrap command (the instance's, or the recipe's: native.ts) runs first, in the clone and
 * in the SAME shell as ansible-playbook, so a virtualenv it creates or a PATH it extends reaches
 * ansible-playbook (a subshell would drop both). ansible-playbook is then looked up on that PATH
 * and run by its full path: `sudo -E` (snapshot.playbook.sudo, as openedx/configuration's
 * util/install/native.sh runs it) keeps the environment but resets PATH to sudoers' secure_path,
 * so `sudo -E ansible-playbook` would miss the virtualenv's.
 * The exit code is written by an EXIT trap, so a bootstrap that calls `exit` or `set -e` still
 * leaves it (a kill does not: dash runs no EXIT trap on a signal, and killCommand wants that).
 * Nothing here prints the bootstrap: it may hold a token (secret-masking.test.ts).
 */
export function startCommand(p: RemotePaths, snapshot: ConfigSnapshot): string {
  const { path: playbook, bootstrapCommand, sudo } = snapshot.playbook;
  const playbookDir = playbook.includes("/") ? playbook.slice(0, playbook.lastIndexOf("/")) : ".";
  const playbookFile = playbook.slice(playbook.lastIndexOf("/") + 1);
  const bootstrap = bootstrapCommand.trim();
  const missing = bootstrap ? "after the bootstrap command" : "and the instance has no bootstrap command to install it";
  const script = [
    `OCIM_EXIT_FILE=${q(p.exit)}`,
    `trap 'echo $? > "$OCIM_EXIT_FILE.tmp" && mv "$OCIM_EXIT_FILE.tmp" "$OCIM_EXIT_FILE"' EXIT`,
    `cd ${q(p.repo)} || exit`,
    // Not the left side of `||`, where the shell would ignore a `set -e` of the bootstrap. The
    // newline before the brace ends a last line that is a comment or a here-document.
    ...(bootstrap ? [`{ ${bootstrap}\n}`, "OCIM_STATUS=$?; [ $OCIM_STATUS -eq 0 ] || exit $OCIM_STATUS"] : []),
    `cd ${q(`${p.repo}/${playbookDir}`)} || exit`,
    `OCIM_ANSIBLE_PLAYBOOK=$(command -v ansible-playbook) || { echo "Ocim: ansible-playbook is not on the VM's PATH ${missing}."; exit 127; }`,
    `ANSIBLE_FORCE_COLOR=0 PYTHONUNBUFFERED=1 ${sudo ? "sudo -E " : ""}"$OCIM_ANSIBLE_PLAYBOOK" -c local -i localhost, ${q(`./${playbookFile}`)} -e @${q(p.vars)}`,
  ].join("\n");
  return [
    `if [ ! -e ${q(p.started)} ]; then`,
    `  rm -f ${q(p.exit)} ${q(p.log)};`,
    `  touch ${q(p.started)};`,
    `  setsid nohup sh -c ${q(script)} > ${q(p.log)} 2>&1 < /dev/null & echo $! > ${q(p.pid)};`,
    `fi`,
  ].join("\n");
}

/** Kills the detached playbook (its whole session) on cancel or timeout; prints "stopped" when it was running. */
// `kill -TERM -"$pid"` (a negative pid: the process group), not `kill -TERM -- -"$pid"`: dash's kill
// takes no "--" ("Illegal number"), so under dash the group was never signalled, only its leader.
// Two callers may kill at once (the tailing job and a cancel's stop-playbook job, within the second
// of sleep): mkdir, atomic, lets only the first say "stopped", so the log says it once.
export function killCommand(p: RemotePaths): string {
  return `if [ -e ${q(p.pid)} ] && [ ! -e ${q(p.exit)} ]; then pid=$(cat ${q(p.pid)}); if kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; then sleep 1; kill -KILL -"$pid" 2>/dev/null; mkdir ${q(`${p.dir}/playbook.stopped`)} 2>/dev/null && echo stopped; fi; fi; true`;
}
