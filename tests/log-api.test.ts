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

  it("gives each line's time as Date#toISOString writes it, whatever its milliseconds", async () => {
    const instance = await makeInstance(t.deps, { name: "Times University" });
    const id = (await makeAppServer(t.deps, instance.id)).id;
    const writer = createLogWriter(t.deps, { appServerId: id, secrets: [] });
    const times = ["2026-12-02T12:44:07.003Z", "2026-12-02T12:44:07.120Z", "2026-12-02T12:44:07.100Z", "2026-12-02T12:44:08.000Z"];
    for (const at of times) await writer.write(`at ${at}`, "info");
    await writer.close();
    for (const [i, at] of times.entries()) await t.deps.db.logEntry.update({ where: { appServerId_seq: { appServerId: id, seq: i + 1 } }, data: { createdAt: new Date(at) } });
    const lines = (await api(`/api/v1/appservers/${id}/logs`)).json<LogsReply>().lines;
    expect(lines.map((l) => l.at)).toEqual(times);
    const page = await alice.get(`/instances/${instance.id}/appservers/1`);
    expect(page.text).toContain('<time class="log-time" datetime="2026-12-02T12:44:08.000Z">12:44:08</time>');
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
    expect(res.json<{ error: { message: string } }>().error.message).toBe("The user this API token belongs to has been deactivated, so the token is refused.");
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

  it("answers 404 with JSON for an appserver that does not exist, and 400 for an id that cannot be one, as GET /api/v1/appservers/:id does", async () => {
    for (const path of ["logs", "logs/search?q=a", "logs/outline", "logs.txt"]) {
      const missing = await api(`/api/v1/appservers/999999/${path}`);
      expect(missing.status, path).toBe(404);
      expect(missing.json<{ error: { message: string } }>().error.message).toBe("AppServer not found.");
      for (const id of ["abc", "0", "-1"]) {
        const res = await api(`/api/v1/appservers/${id}/${path}`);
        expect(res.status, `${id}/${path}`).toBe(400);
        expect(res.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: "validation", message: "The appserver id must be a positive integer." });
      }
    }
  });

  it("serves the console's log.json to a logged-in user only", async () => {
    const res = await alice.get(`/appservers/${appServerId}/log.json?before=450&limit=2`, { headers: { accept: "application/json" } });
    expect(res.status).toBe(200);
    expect(seqs(res)).toEqual([448, 449]);
    const bad = await alice.get(`/appservers/${appServerId}/log.json?limit=0`, { headers: { accept: "application/json" } });
    expect(bad.status).toBe(400);
    // Typed into a browser's address bar: still JSON, saying what is wrong.
    for (const path of [`/appservers/${appServerId}/log.json?after=-1`, `/appservers/${appServerId}/log/search.json?q=`]) {
      const typed = await alice.get(path, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
      expect(typed.status, path).toBe(400);
      expect(typed.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(typed.json<{ error: { message: string } }>().error.message, path).toMatch(/after: must be a whole number ≥ 0|q: give the text to search for/);
    }
    const anonymous = await t.agent().get(`/appservers/${appServerId}/log.json`, { follow: false });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe(`/login?next=%2Fappservers%2F${appServerId}%2Flog.json`);
  });

  it("renders the appserver page with its status and the last 100 lines, newest last", async () => {
    const res = await alice.get(`/appservers/${appServerId}`);
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(text).toContain("Demo University › AppServer 1");
    expect(text).toContain("AppServer 1 new");
    expect(text).toContain("Step 1 of 9: Prepare the instance's databases and storage (queued: waiting for a worker)");
    expect(text).toContain("Create the VM · not started");
    expect(text).toContain("VM pending · local");
    expect(text).toContain("Cancel provisioning");
    expect(text).toContain("450 lines");
    // Each line: its number, the time it was stored, its text.
    expect(text).toMatch(/351 \d\d:\d\d:\d\d TASK \[step 351\] 352 \d\d:\d\d:\d\d TASK \[step 352\]/);
    expect(text).not.toContain("TASK [step 350]");
    expect(text).toMatch(/TASK \[step 449\] 450 \d\d:\d\d:\d\d PLAY RECAP password=••••••/);
    expect(res.text).toMatch(/<div class="log-line level-error"><span class="log-no">449<\/span><time class="log-time" datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
    expect(res.text).not.toContain("s3cr3t-pass");
    expect(res.text).toContain(`data-appserver-id="${appServerId}"`);
    // The viewer spans the whole log, not only the lines rendered.
    expect(res.text).toMatch(/data-first-seq="1" data-last-seq="450" data-finished="false"/);
    const missing = await alice.get("/appservers/999999");
    expect(missing.status).toBe(404);
    expect(visibleText(missing.text)).toContain("AppServer not found.");
  });

  interface SearchReply { hits: { seq: number; text: string }[]; more: boolean; total?: number; totalCapped?: boolean }

  it("searches the whole log, case-insensitively, after or before a seq", async () => {
    const first = await api(`/api/v1/appservers/${appServerId}/logs/search?q=STEP%2044&count=1`);
    expect(first.status).toBe(200);
    const body = first.json<SearchReply>();
    expect(body.hits.map((h) => h.seq)).toEqual([44, 440, 441, 442, 443, 444, 445, 446, 447, 448, 449]);
    expect(body).toMatchObject({ more: false, total: 11, totalCapped: false });
    expect(body.hits[0]!.text).toBe("TASK [step 44]");
    const next = await api(`/api/v1/appservers/${appServerId}/logs/search?q=step%2044&after=440&limit=2`);
    expect(next.json<SearchReply>()).toMatchObject({ hits: [{ seq: 441 }, { seq: 442 }], more: true });
    expect(next.json<SearchReply>().total).toBeUndefined();
    const back = await api(`/api/v1/appservers/${appServerId}/logs/search?q=step%2044&before=441&limit=2`);
    expect(back.json<SearchReply>().hits.map((h) => h.seq)).toEqual([440, 44]);
    // LIKE's wildcards are text like any other: nothing contains "%" or "_" here.
    for (const q of ["%25", "_", "%5C"]) {
      const res = await api(`/api/v1/appservers/${appServerId}/logs/search?q=${q}&count=1`);
      expect(res.json<SearchReply>(), q).toMatchObject({ hits: [], total: 0 });
    }
    // A secret is stored masked, so it cannot be found either.
    expect((await api(`/api/v1/appservers/${appServerId}/logs/search?q=s3cr3t`)).json<SearchReply>().hits).toEqual([]);
  });

  it("answers 400 with what is wrong for a bad search", async () => {
    const cases: [string, string][] = [
      ["", "q: give one search text"],
      ["q=%20%20", "q: give the text to search for"],
      [`q=${"x".repeat(201)}`, "q: at most 200 characters"],
      ["q=a&limit=101", "limit: must be a whole number from 1 to 100"],
      ["q=a&after=1&before=5", "after: give after or before, not both"],
      ["q=a&count=yes", 'count: must be "1"'],
    ];
    for (const [query, message] of cases) {
      const res = await api(`/api/v1/appservers/${appServerId}/logs/search?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message, query).toContain(message);
    }
  });

  it("outlines the tasks, each lasting until the next header, with the first failure", async () => {
    const res = await alice.get(`/appservers/${appServerId}/log/outline.json`, { headers: { accept: "application/json" } });
    expect(res.status).toBe(200);
    const outline = res.json<{ recapSeq: number; firstSeq: number; lastSeq: number; finished: boolean; firstFailureSeq: number; plays: { tasks: { seq: number; name: string; failed: boolean; durationMs: number | null }[] }[] }>();
    expect(outline).toMatchObject({ firstSeq: 1, lastSeq: 450, finished: false, firstFailureSeq: 449 });
    const tasks = outline.plays[0]!.tasks;
    expect(tasks.length).toBe(449);
    expect(tasks.filter((task) => task.failed).map((task) => task.name)).toEqual(["step 449"]);
    expect(tasks[0]!.durationMs).toBeGreaterThanOrEqual(0);
    // The last task ends where "PLAY RECAP" begins.
    expect(outline.recapSeq).toBe(450);
    expect(tasks.at(-1)!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("downloads the whole log as text, masked as stored", async () => {
    for (const res of [
      await api(`/api/v1/appservers/${appServerId}/logs.txt`),
      await alice.get(`/appservers/${appServerId}/log.txt`),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename=appserver-${appServerId}.log`);
      const lines = res.text.split("\n");
      expect(lines.length).toBe(451);
      expect(lines[0]).toBe("TASK [step 1]");
      expect(lines[449]).toBe("PLAY RECAP password=••••••");
    }
    const anonymous = await t.agent().get(`/appservers/${appServerId}/log.txt`, { follow: false });
    expect(anonymous.status).toBe(302);
  });
});
