import { describe, expect, it } from "vitest";
import { createFailureTracker } from "../src/domain/provisioning/failure-summary.js";

function summarize(log: string): string {
  const t = createFailureTracker();
  for (const line of log.split("\n")) t.see(line);
  return t.summary();
}

describe("failure summary", () => {
  it("names the first failing task and its message", () => {
    const log = [
      "PLAY [all] *****",
      "TASK [Gathering Facts] ****",
      "ok: [localhost]",
      "TASK [demo : Fail on purpose (DEMO_FAIL)] ****",
      'fatal: [localhost]: FAILED! => {"changed": false, "msg": "DEMO_FAIL is set"}',
      "TASK [later] ****",
      'fatal: [localhost]: FAILED! => {"msg": "second"}',
      "PLAY RECAP ****",
    ].join("\n");
    expect(summarize(log)).toBe('Task "demo : Fail on purpose (DEMO_FAIL)" failed: DEMO_FAIL is set');
  });

  it("skips failures that ansible ignored", () => {
    const log = [
      "TASK [probe] ***",
      'fatal: [localhost]: FAILED! => {"msg": "not there"}',
      "...ignoring",
      "TASK [real] ***",
      'fatal: [localhost]: FAILED! => {"msg": "boom"}',
    ].join("\n");
    expect(summarize(log)).toBe('Task "real" failed: boom');
  });

  it("reports nothing for a clean run", () => {
    expect(summarize("TASK [a] ***\nok: [localhost]\nPLAY RECAP ***\nlocalhost : ok=1 failed=0")).toBe("");
  });
});
