// The level a playbook line is stored with, so the viewer colours it and "first failure" finds it
// through the (appServerId, level, seq) index instead of scanning a million lines.
// Ansible's default callback (ansible/plugins/callback/default.py) prints a failed task as
// "fatal: [host]: FAILED! => {…}" or, per loop item, "failed: [host] (item=…) => {…}", an
// unreachable host as "fatal: [host]: UNREACHABLE! => {…}", and a playbook it cannot run as
// "ERROR! …"; its display warnings start "[WARNING]:" or "[DEPRECATION WARNING]:".
// An ignored failure is still printed as "fatal:" (then "...ignoring"): it stays red, as ansible
// shows it; failure-summary.ts is where ignored failures do not count.
import type { LogLevel } from "./live-channels.js";

// A colour code may lead the line (the writer strips colours after this); the run sets
// ANSIBLE_FORCE_COLOR=0, but a playbook's own output may still carry one.
const COLOUR = String.raw`(?:\x1b\[[0-9;]*m)*`;
const ERROR_RE = new RegExp(String.raw`^${COLOUR}(?:fatal: \[|failed: \[|ERROR! )`);
const WARN_RE = new RegExp(String.raw`^${COLOUR}\[(?:DEPRECATION )?WARNING\]`);

export function playbookLineLevel(line: string): LogLevel {
  if (ERROR_RE.test(line)) return "error";
  if (WARN_RE.test(line)) return "warn";
  return "info";
}
