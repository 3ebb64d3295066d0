// The first failing task of an ansible run, for the appserver's failure summary (DESIGN §5).
// Ansible prints "TASK [role : name] ****" before each task and "fatal: [host]: FAILED! => {…}"
// when one fails; ignored failures ("...ignoring") do not count.

export interface FailureTracker {
  /** Feed every log line in order. */
  see(line: string): void;
  /** "Task <name> failed: <message>", or "" when no task failed. */
  summary(): string;
}

const TASK_RE = /^(?:TASK|RUNNING HANDLER) \[(.+?)\]/;
const FATAL_RE = /^(?:fatal|failed): \[[^\]]*\]:? (?:FAILED!|UNREACHABLE!)(?: => (.*))?/;

function messageOf(json: string | undefined): string {
  if (!json) return "";
  try {
    const parsed = JSON.parse(json) as { msg?: unknown; stderr?: unknown };
    const msg = parsed.msg ?? parsed.stderr;
    return typeof msg === "string" ? msg : JSON.stringify(msg ?? parsed);
  } catch {
    return json;
  }
}

export function createFailureTracker(): FailureTracker {
  let task = "";
  let pending: string | null = null;
  let found = "";
  return {
    see(raw) {
      const line = raw.trimEnd();
      if (found) return;
      if (pending !== null) {
        // An ignored failure is followed by "...ignoring": it did not fail the run.
        if (line === "...ignoring") {
          pending = null;
          return;
        }
        found = pending;
      }
      const t = TASK_RE.exec(line);
      if (t) {
        task = t[1]!;
        return;
      }
      const f = FATAL_RE.exec(line);
      if (f) {
        const msg = messageOf(f[1]).slice(0, 500);
        pending = `Task "${task || "unknown"}" failed${msg ? `: ${msg}` : ""}`;
      }
    },
    summary() {
      return found || pending || "";
    },
  };
}
