import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { createLogWriter } from "../src/domain/logs/log-writer.js";
import type { LogLine } from "../src/domain/logs/live-channels.js";

interface LogsReply {
  appServerId: number;
  lines: LogLine[];
  more: boolean;
}

describe("reading an appserver's log: API and console JSON", () => {
  let t: TestApp;
  let token: string;
  let alice: Agent;
  let appServerId: number;
  const seqs = (r: { json<T>(): T }) => r.json<LogsReply>().lines.map((l) => l.seq);

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.loginAs("alice");
    ({ token } = await createApiToken(t.deps, { githubLogin: "alice", actor: { id: null, login: "test" } }));
    const instance = await makeInstance(t.deps, { name: "Demo University" });
    appServerId = (await makeAppServer(t.deps, instance.id)).id;
    const writer = createLogWriter(t.deps, { appServerId, secrets: ["s3cr3t-pass"] });
    for (let i = 1; i <= 450; i++) await writer.write(i === 450 ? "PLAY RECAP password=s3cr3t-pass" : `TASK [step ${i}]`, i === 449 ? "error" : "info");
    await writer.close();
  });
  afterAll(() => t.close());

  const api = (path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => t.agent().get(path, { headers });

  it("gives the lines after a seq, with a limit, to a bearer token", async () => {
    const res = await api(`/api/v1/appservers/${appServerId}/logs?after=440&limit=5`);
    expect(res.status).toBe(200);
    const body = res.json<LogsReply>();
    expect(body.lines.map((l) => [l.seq, l.text])).toEqual([441, 442, 443, 444, 445].map((s) => [s, `TASK [step ${s}]`]));
    expect(body.more).toBe(true);
    const end = await api(`/api/v1/appservers/${appServerId}/logs?after=445`);
    expect(seqs(end)).toEqual([446, 447, 448, 449, 450]);
    expect(end.json<LogsReply>().more).toBe(false);
    expect(end.json<LogsReply>().lines[3]).toMatchObject({ seq: 449, level: "error" });
    expect(end.json<LogsReply>().lines[4]!.text).toBe("PLAY RECAP password=••••••");
  });

  it("gives the last lines, and the lines before a seq", async () => {
    const tail = await api(`/api/v1/appservers/${appServerId}/logs?limit=3`);
    expect(seqs(tail)).toEqual([448, 449, 450]);
    expect(tail.json<LogsReply>().more).toBe(true);
    const before = await api(`/api/v1/appservers/${appServerId}/logs?before=4`);
    expect(seqs(before)).toEqual([1, 2, 3]);
    expect(before.json<LogsReply>().more).toBe(false);
  });

  it("answers 401 with JSON without a token or with a wrong one", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer ocim_not-a-real-token" }, { authorization: `Basic ${token}` }];
    for (const headers of attempts) {
      const res = await api(`/api/v1/appservers/${appServerId}/logs`, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(res.json<{ error: { code: string; message: string } }>().error.code).toBe("unauthenticated");
    }
  });

  it("refuses the token of a user who has been deactivated", async () => {
    await t.loginAs("bob");
    const { token: bobs } = await createApiToken(t.deps, { githubLogin: "bob", actor: { id: null, login: "test" } });
    await t.deps.db.user.update({ where: { githubLogin: "bob" }, data: { isActive: false } });
    const res = await api(`/api/v1/appservers/${appServerId}/logs`, { authorization: `Bearer ${bobs}` });
    expect(res.status).toBe(401);
    expect(res.json<{ error: { message: string } }>().error.message).toBe("This API token is unknown or has been revoked.");
  });

  it("answers 400 with what is wrong for bad parameters", async () => {
    const cases: [string, string][] = [
      ["after=abc", "after: must be a whole number ≥ 0"],
      ["after=-1", "after: must be a whole number ≥ 0"],
      ["after=", "after: must be a whole number ≥ 0"],
      ["before=1.5", "before: must be a whole number ≥ 0"],
      ["limit=0", "limit: must be a whole number from 1 to 2000"],
      ["limit=5000", "limit: must be a whole number from 1 to 2000"],
      ["limit=ten", "limit: must be a whole number from 1 to 2000"],
      ["after=1&after=2", "after: must be a whole number ≥ 0"],
      ["after=1&before=9", "after: give after or before, not both"],
      ["after=99999999999", "after: must be a whole number ≥ 0"],
      ["since=5", "since: unknown query parameter"],
    ];
    for (const [query, message] of cases) {
      const res = await api(`/api/v1/appservers/${appServerId}/logs?${query}`);
      expect(res.status, query).toBe(400);
      const { error } = res.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe("validation");
      expect(error.message, query).toContain(message);
    }
  });

  it("answers 404 with JSON for an appserver that does not exist", async () => {
    for (const id of ["999999", "abc", "0"]) {
      const res = await api(`/api/v1/appservers/${id}/logs`);
      expect(res.status).toBe(404);
      expect(res.json<{ error: { message: string } }>().error.message).toBe("AppServer not found.");
    }
  });

  it("serves the console's log.json to a logged-in user only", async () => {
    const res = await alice.get(`/appservers/${appServerId}/log.json?before=450&limit=2`, { headers: { accept: "application/json" } });
    expect(res.status).toBe(200);
    expect(seqs(res)).toEqual([448, 449]);
    const bad = await alice.get(`/appservers/${appServerId}/log.json?limit=0`, { headers: { accept: "application/json" } });
    expect(bad.status).toBe(400);
    const anonymous = await t.agent().get(`/appservers/${appServerId}/log.json`, { follow: false });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe(`/login?next=%2Fappservers%2F${appServerId}%2Flog.json`);
  });

  it("renders the appserver page with its status and the last 200 lines, newest last", async () => {
    const res = await alice.get(`/appservers/${appServerId}`);
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(text).toContain("Demo University › AppServer 1");
    expect(text).toContain("AppServer 1 new");
    expect(text).toContain("Step 1 of 9: Prepare the instance's databases and storage (queued: waiting for a worker)");
    expect(text).toContain("Create the VM · not started");
    expect(text).toContain("VM pending · local");
    expect(text).toContain("Cancel provisioning");
    expect(text).toContain("Load earlier lines");
    expect(text).toContain("TASK [step 251] TASK [step 252]");
    expect(text).not.toContain("TASK [step 250]");
    expect(text).toContain("TASK [step 449] PLAY RECAP password=••••••");
    expect(res.text).not.toContain("s3cr3t-pass");
    expect(res.text).toContain(`data-appserver-id="${appServerId}"`);
    expect(res.text).toMatch(/data-first-seq="251"\s+data-last-seq="450"/);
    const missing = await alice.get("/appservers/999999");
    expect(missing.status).toBe(404);
    expect(visibleText(missing.text)).toContain("AppServer not found.");
  });
});
