import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import {
  connected, cookieOf, lineReached, recordLines, request, roundTrip, socketFor, startLiveApp, type LiveTestApp,
} from "./helpers/live.js";
import { createLogWriter, type LogWriter } from "../src/domain/logs/log-writer.js";
import { publishAppServerStatus } from "../src/domain/appservers/publish-status.js";
import { createRunLog } from "../src/domain/provisioning/run-log.js";
import type { AppServerStatusMessage, LogLine } from "../src/domain/logs/live-channels.js";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("live log sockets", () => {
  let t: LiveTestApp;
  let instanceId: number;
  const sockets: Socket[] = [];
  const open = (opts: Parameters<typeof socketFor>[1] = {}) => {
    const socket = socketFor(t.url, opts);
    sockets.push(socket);
    return socket;
  };
  const loggedIn = async (login: string) => open({ cookie: cookieOf(await t.loginAs(login)) });
  const newAppServer = async () => (await makeAppServer(t.deps, instanceId)).id;
  const writerFor = (appServerId: number): LogWriter => createLogWriter(t.deps, { appServerId, secrets: [] });
  async function writeLines(writer: LogWriter, from: number, to: number): Promise<void> {
    for (const i of range(from, to)) await writer.write(`line ${i}`);
    await writer.flush();
  }

  beforeAll(async () => {
    t = await startLiveApp();
    instanceId = (await makeInstance(t.deps)).id;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(() => t.close());

  it("streams every line to an allowed socket, in order, once; a refused socket gets none", async () => {
    const id = await newAppServer();
    const allowed = await loggedIn("alice");
    const anonymous = open();
    const forged = open({ cookie: "ocim.sid=s%3Aforged.signature" });
    const carol = await loggedIn("carol");
    const seen = recordLines(allowed, id);
    const leaked = [anonymous, forged].map((s) => recordLines(s, id));

    await connected(allowed);
    for (const refused of [anonymous, forged]) await expect(connected(refused)).rejects.toThrow("unauthenticated");
    expect(await request(allowed, "subscribe", { appServerId: id, afterSeq: 0 })).toMatchObject({ lines: [], reset: false, status: { status: "new" } });

    // carol is deactivated after her socket connected: she may no longer subscribe, and is disconnected.
    await connected(carol);
    await t.deps.db.user.update({ where: { githubLogin: "carol" }, data: { isActive: false } });
    const carolSeen = recordLines(carol, id);
    expect(await request(carol, "subscribe", { appServerId: id, afterSeq: 0 })).toMatchObject({ error: { code: "unauthenticated" } });

    const writer = writerFor(id);
    await writeLines(writer, 1, 1500);
    await lineReached(allowed, seen, 1500);
    expect(seen.map((l) => l.seq)).toEqual(range(1, 1500));
    expect(seen[41]!.text).toBe("line 42");
    expect(leaked.flat()).toEqual([]);
    expect(carolSeen).toEqual([]);
  });

  it("refuses a deactivated user's session", async () => {
    const agent = await t.loginAs("dave");
    await t.deps.db.user.update({ where: { githubLogin: "dave" }, data: { isActive: false } });
    await expect(connected(open({ cookie: cookieOf(agent) }))).rejects.toThrow("unauthenticated");
  });

  it("drops sockets whose user is deactivated or whose session ended (logout) while they watch", async () => {
    const checking = await t.otherWebProcess({ recheckMs: 100 });
    try {
      const id = await newAppServer();
      const agents = [await t.loginAs("erin"), await t.loginAs("frank"), await t.loginAs("gina")];
      const [erin, frank, gina] = agents.map((a) => socketFor(checking.url, { cookie: cookieOf(a) })) as [Socket, Socket, Socket];
      sockets.push(erin, frank, gina);
      const seen = [erin, frank, gina].map((s) => recordLines(s, id));
      for (const s of [erin, frank, gina]) {
        await connected(s);
        await request(s, "subscribe", { appServerId: id, afterSeq: 0 });
      }
      const dropped = [erin, frank].map((s) => new Promise<string>((r) => s.once("disconnect", r)));
      await t.deps.db.user.update({ where: { githubLogin: "erin" }, data: { isActive: false } });
      await agents[1]!.submit("/logout", {}, "/");
      expect(await Promise.all(dropped)).toEqual(["io server disconnect", "io server disconnect"]);
      await writeLines(writerFor(id), 1, 20);
      await lineReached(gina, seen[2]!, 20);
      expect(seen[0]).toEqual([]);
      expect(seen[1]).toEqual([]);
    } finally {
      await checking.close();
    }
  });

  it("refuses a page of another origin riding on the session cookie", async () => {
    const cookie = cookieOf(await t.loginAs("gus"));
    await expect(connected(open({ cookie, origin: "http://evil.example" }))).rejects.toThrow();
    await connected(open({ cookie, origin: t.url }));
  });

  it("answers a subscription to an unknown appserver or with bad input with a clear error", async () => {
    const socket = await loggedIn("hank");
    await connected(socket);
    expect(await request(socket, "subscribe", { appServerId: 2_000_000_000, afterSeq: 0 }))
      .toEqual({ error: { code: "not_found", message: "AppServer not found." } });
    const bad = await request<{ error: { code: string; message: string } }>(socket, "subscribe", { appServerId: "1; DROP", afterSeq: -1 });
    expect(bad.error.code).toBe("validation");
    expect(bad.error.message).toContain("appServerId");
    expect(bad.error.message).toContain("afterSeq");
  });

  it("resumes after a reconnection with exactly the lines missed meanwhile", async () => {
    const id = await newAppServer();
    const writer = writerFor(id);
    const socket = await loggedIn("ivan");
    const seen = recordLines(socket, id);
    const resubscribe = async () => {
      const last = seen.at(-1)?.seq ?? 0;
      const reply = await request<{ lines: LogLine[]; reset: boolean }>(socket, "subscribe", { appServerId: id, afterSeq: last });
      seen.push(...reply.lines);
      return reply;
    };
    await connected(socket);
    await resubscribe();
    await writeLines(writer, 1, 300);
    await lineReached(socket, seen, 300);

    socket.disconnect();
    await writeLines(writer, 301, 650); // published while nobody listens
    socket.connect();
    await connected(socket);
    const reply = await resubscribe();
    expect(reply.reset).toBe(false);
    expect(reply.lines.map((l) => l.seq)).toEqual(range(301, 650));
    await writeLines(writer, 651, 700);
    await lineReached(socket, seen, 700);
    expect(seen.map((l) => l.seq)).toEqual(range(1, 700));
  });

  it("restarts from the tail when more lines were missed than it sends at once", async () => {
    const id = await newAppServer();
    await writeLines(writerFor(id), 1, 1200);
    const socket = await loggedIn("judy");
    await connected(socket);
    const reply = await request<{ lines: LogLine[]; reset: boolean; more: boolean }>(socket, "subscribe", { appServerId: id, afterSeq: 5 });
    expect(reply.reset).toBe(true);
    expect(reply.more).toBe(true);
    expect(reply.lines.map((l) => l.seq)).toEqual(range(201, 1200));
  });

  it("relays the provisioning run log's lines (Ocim's own and the playbook's) like the writer's", async () => {
    const id = await newAppServer();
    const socket = await loggedIn("olga");
    const seen = recordLines(socket, id);
    await connected(socket);
    await request(socket, "subscribe", { appServerId: id, afterSeq: 0 });
    const runLog = createRunLog(t.deps, id, ["hunter22"]);
    await runLog.info("Starting the playbook");
    await runLog.appendPlaybook(["PLAY [all]", "ok: password hunter22"], [11, 33]);
    await lineReached(socket, seen, 3);
    expect(seen.map((l) => [l.seq, l.text])).toEqual([[1, "[ocim] Starting the playbook"], [2, "PLAY [all]"], [3, "ok: password ••••••"]]);
    expect(Number.isNaN(Date.parse(seen[0]!.at))).toBe(false);
  });

  it("sends status changes to the appserver's room and its instance's room, not to other instances", async () => {
    const id = await newAppServer();
    const other = (await makeInstance(t.deps)).id;
    const [onAppServer, onInstance, onOther] = [await loggedIn("kim"), await loggedIn("leo"), await loggedIn("mia")] as const;
    await Promise.all([onAppServer, onInstance, onOther].map(connected));
    await request(onAppServer, "subscribe", { appServerId: id, afterSeq: 0 });
    const watch = await request<{ statuses: AppServerStatusMessage[] }>(onInstance, "watch-instance", { instanceId });
    expect(watch.statuses.find((s) => s.appServerId === id)).toMatchObject({ status: "new", vmStatus: "pending" });
    await request(onOther, "watch-instance", { instanceId: other });
    expect(await request(onOther, "watch-instance", { instanceId: 2_000_000_000 })).toEqual({ error: { code: "not_found", message: "Instance not found." } });

    // This appserver's message: the instance's room also carries its other appservers' (an earlier
    // test's, late under a loaded run: CI once saw appserver 6's "configuring" here first).
    const got = (s: Socket) => new Promise<AppServerStatusMessage>((r) => {
      const mine = (m: AppServerStatusMessage) => m.appServerId === id && (s.off("status", mine), r(m));
      s.on("status", mine);
    });
    const [a, b] = [got(onAppServer), got(onInstance)];
    const leaked: unknown[] = [];
    onOther.on("status", (m) => leaked.push(m));
    await publishAppServerStatus(t.deps, { appServerId: id, instanceId, status: "configuring", vmStatus: "ready" });
    for (const m of await Promise.all([a, b])) expect(m).toMatchObject({ appServerId: id, instanceId, status: "configuring", vmStatus: "ready" });
    await roundTrip(onOther);
    expect(leaked).toEqual([]);
  });

  it("spans web processes: a socket on another web process gets the same lines, each once", async () => {
    const second = await t.otherWebProcess();
    try {
      const id = await newAppServer();
      const cookie = cookieOf(await t.loginAs("nina"));
      const here = open({ cookie });
      const there = socketFor(second.url, { cookie });
      sockets.push(there);
      const [seenHere, seenThere] = [recordLines(here, id), recordLines(there, id)];
      await Promise.all([connected(here), connected(there)]);
      await request(here, "subscribe", { appServerId: id, afterSeq: 0 });
      await request(there, "subscribe", { appServerId: id, afterSeq: 0 });
      await writeLines(writerFor(id), 1, 800);
      await Promise.all([lineReached(here, seenHere, 800), lineReached(there, seenThere, 800)]);
      await Promise.all([roundTrip(here), roundTrip(there)]);
      expect(seenHere.map((l) => l.seq)).toEqual(range(1, 800));
      expect(seenThere.map((l) => l.seq)).toEqual(range(1, 800));
      // Each web process carries the workers' messages on its own pattern subscription, and emits
      // only to its own sockets: no socket.io adapter channels, whose setup would carry nothing.
      expect(await t.deps.redis.pubsub("CHANNELS", "socket.io*")).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
