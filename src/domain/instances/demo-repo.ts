// The demo instance's "configuration repository": a real git repository under DATA_DIR made from
// the project's playbooks/demo/, so the local provider's VMs clone it like any configuration repo.
// Re-made (a new commit) whenever the playbook files change.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const DEMO_BRANCH = "main";
export const DEMO_PLAYBOOK = "playbooks/demo/site.yml";

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, {
    cwd,
    timeout: 60_000,
    env: { ...process.env, GIT_AUTHOR_NAME: "Ocim", GIT_AUTHOR_EMAIL: "ocim@localhost", GIT_COMMITTER_NAME: "Ocim", GIT_COMMITTER_EMAIL: "ocim@localhost" },
  });
  return stdout.trim();
}

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Returns the file:// URL of the demo configuration repository, up to date with playbooks/demo/. */
export async function ensureDemoRepo(dataDir: string, projectRoot = PROJECT_ROOT): Promise<string> {
  const repo = path.join(dataDir, "demo-configuration");
  if (!existsSync(path.join(repo, ".git"))) {
    mkdirSync(repo, { recursive: true });
    await git(repo, "init", "--quiet", "--initial-branch", DEMO_BRANCH);
  }
  const target = path.join(repo, "playbooks", "demo");
  rmSync(target, { recursive: true, force: true });
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(path.join(projectRoot, "playbooks", "demo"), target, { recursive: true });
  await git(repo, "add", "--all");
  if (await git(repo, "status", "--porcelain")) await git(repo, "commit", "--quiet", "-m", "Demo playbook from Ocim");
  return `file://${repo}`;
}
