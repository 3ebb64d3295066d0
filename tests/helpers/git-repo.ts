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

/**
 * A second play for a test playbook: serves /heartbeat on the VM the way an Open edX appserver does
 * (Tutor's Caddy, the native nginx), so provisioning's last step (wait-heartbeat) sees it answer 200
 * and the appserver ends `running`. A small Python server, started detached on the VM's address
 * (OCIM_VM_ADDRESS) at EDXAPP_LMS_NGINX_PORT (80 unless set; httpPortOf reads the same for the custom
 * recipe), answering only the instance's LMS domain as Host (404 otherwise, as Caddy routes by host
 * name), behind COMMON_HTPASSWD_USER/PASS (401 otherwise), 503 while the file heartbeat/down exists
 * in the VM's home (the variable HEARTBEAT_DOWN makes it). Deleting the local VM stops it.
 */
export const SERVE_HEARTBEAT_PLAY = `
- name: Serve /heartbeat like an Open edX appserver (tests/helpers/git-repo.ts)
  hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    hb_dir: "{{ lookup('ansible.builtin.env', 'HOME') }}/heartbeat"
  tasks:
    - name: Create the heartbeat directory
      ansible.builtin.file:
        path: "{{ hb_dir }}"
        state: directory
        mode: "0700"
    - name: Write the heartbeat server
      ansible.builtin.copy:
        dest: "{{ hb_dir }}/server.py"
        mode: "0600"
        content: |
          import base64, http.server, json, os, sys
          here = os.path.dirname(os.path.abspath(sys.argv[1]))
          settings = json.load(open(sys.argv[1]))
          expected = "Basic " + base64.b64encode((settings["user"] + ":" + settings["password"]).encode()).decode()
          class Handler(http.server.BaseHTTPRequestHandler):
              def do_GET(self):
                  host = (self.headers.get("Host") or "").split(":")[0].lower()
                  if host != settings["host"]:
                      return self.answer(404, "no site for Host " + host)
                  if self.headers.get("Authorization") != expected:
                      return self.answer(401, "password required")
                  if self.path != "/heartbeat":
                      return self.answer(404, "not found")
                  if os.path.exists(os.path.join(here, "down")):
                      return self.answer(503, "not ready")
                  self.answer(200, "OK")
              def answer(self, status, text):
                  body = text.encode()
                  self.send_response(status)
                  self.send_header("Content-Type", "text/plain")
                  self.send_header("Content-Length", str(len(body)))
                  self.end_headers()
                  self.wfile.write(body)
              def log_message(self, *args):
                  pass
          server = http.server.ThreadingHTTPServer((settings["bind"], int(settings["port"])), Handler)
          open(os.path.join(here, "server.pid"), "w").write(str(os.getpid()))
          open(os.path.join(here, "ready"), "w").close()
          server.serve_forever()
    - name: Write the heartbeat server's settings
      ansible.builtin.copy:
        dest: "{{ hb_dir }}/settings.json"
        mode: "0600"
        content: "{{ hb_settings | to_json }}"
      vars:
        hb_settings:
          bind: "{{ lookup('ansible.builtin.env', 'OCIM_VM_ADDRESS') or '0.0.0.0' }}"
          port: "{{ EDXAPP_LMS_NGINX_PORT | default(80) }}"
          user: "{{ COMMON_HTPASSWD_USER }}"
          password: "{{ COMMON_HTPASSWD_PASS }}"
          host: "{{ EDXAPP_LMS_BASE | lower }}"
      no_log: true
    - name: Answer 503 while heartbeat/down exists (HEARTBEAT_DOWN)
      ansible.builtin.file:
        path: "{{ hb_dir }}/down"
        state: "{{ 'touch' if HEARTBEAT_DOWN | default(false) | bool else 'absent' }}"
    - name: Start the heartbeat server (detached, it outlives the playbook)
      ansible.builtin.shell: |
        cd {{ hb_dir | quote }}
        rm -f ready
        # A second run on the same VM replaces the first server (port 80 is taken otherwise).
        [ -f server.pid ] && kill "$(cat server.pid)" 2>/dev/null && sleep 0.5
        setsid -f python3 "$PWD/server.py" "$PWD/settings.json" >> server.log 2>&1 < /dev/null
        for _ in $(seq 100); do [ -e ready ] && exit 0; sleep 0.1; done
        echo "The heartbeat server did not start within 10 s:" >&2
        tail -n 5 server.log >&2
        exit 1
      changed_when: true
`;

/** A playbook that runs in a second: one debug task saying "hello" (for tests of how a playbook starts). */
export const HELLO_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello"
`;

/** HELLO_PLAYBOOK, then /heartbeat served: what a launch needs to end `running`. */
export const QUICK_PLAYBOOK = `${HELLO_PLAYBOOK}${SERVE_HEARTBEAT_PLAY}`;
