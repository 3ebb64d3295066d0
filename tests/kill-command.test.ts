// The command that stops a detached playbook (remote.ts killCommand) runs in whatever shell the
// VM's user logs in with: bash on Ubuntu's default user, dash (/bin/sh) on others. It must stop
// the playbook's whole process group in both, not only the shell at its top.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killCommand, remotePaths } from "../src/domain/provisioning/remote.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("killCommand", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  for (const shell of ["dash", "bash"]) {
    it(`stops the playbook and its children under ${shell}`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-kill-"));
      dirs.push(dir);
      const paths = remotePaths(dir);
      // What startCommand leaves: a session leader (its pid in the pid file) with a child of its own.
      const leader = spawn("sh", ["-c", "sleep 600 & echo $! > child.pid; wait"], { cwd: dir, detached: true, stdio: "ignore" });
      leader.unref();
      writeFileSync(paths.pid, `${leader.pid}\n`);
      let child = 0;
      for (let i = 0; i < 100 && !child; i++) {
        try {
          child = Number(execFileSync("cat", ["child.pid"], { cwd: dir }).toString().trim());
        } catch {
          execFileSync("sleep", ["0.05"]);
        }
      }
      expect(alive(child)).toBe(true);

      // Twice at once, as the tailing job and a cancel's stop-playbook job may: one says it stopped it.
      const kill = killCommand(paths);
      const out = execFileSync(shell, ["-c", `(${kill}) & (${kill}) & wait`]).toString();

      expect(out.trim()).toBe("stopped");
      for (let i = 0; i < 50 && alive(child); i++) execFileSync("sleep", ["0.05"]);
      expect(alive(child)).toBe(false);
    });
  }
});
