// A throwaway git repository (a configuration repo for tests) with the given files, committed.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function makeGitRepo(files: Record<string, string>, branch = "main"): { dir: string; url: string; branch: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-repo-"));
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
  git("init", "--quiet", "--initial-branch", branch);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  git("add", "--all");
  git("commit", "--quiet", "-m", "test configuration");
  return { dir, url: `file://${dir}`, branch };
}

/** A playbook that runs in a second: one debug task saying "hello". */
export const QUICK_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello"
`;
