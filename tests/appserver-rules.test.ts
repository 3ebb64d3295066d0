import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { moveAppServerNow } from "../src/domain/appservers/lifecycle.js";
import { drainOutbox } from "../src/jobs/relay-outbox.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { activateAppServer, deactivateAppServer } from "../src/domain/appservers/activation.js";
import { assertTerminable, terminateAppServer } from "../src/domain/appservers/terminate-appserver.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { QUEUE } from "../src/jobs/names.js";

const actor = { id: null, login: "tester" };

describe("appserver rules", () => {
  let deps: TestDeps;
  let heartbeat: http.Server;
  let heartbeatPort = 0;
  let expectedAuth = "";
  let expectedHost = "";
  beforeAll(async () => {
    deps = await createTestDeps();
    heartbeat = http.createServer((req, res) => {
      // Like Tutor's Caddy: a Host that names no site of this appserver reaches nothing.
      if (req.headers.host !== expectedHost) return void res.writeHead(404).end();
      res.writeHead(req.url === "/heartbeat" && req.headers.authorization === expectedAuth ? 200 : 401).end();
    });
    await new Promise<void>((r) => heartbeat.listen(0, "127.0.0.1", () => r()));
    heartbeatPort = (heartbeat.address() as AddressInfo).port;
  });
  afterAll(async () => {
    heartbeat.close();
    await deps.close();
  });

  it("moves an appserver only along named transitions, one winner when two race", async () => {
    const inst = await makeInstance(deps);
    const as = await makeAppServer(deps, inst.id, { status: "waiting" });
    const move = (name: "vmReady" | "error") => moveAppServerNow(deps, name, { appServerId: as.id });
    const results = await Promise.allSettled([move("vmReady"), move("vmReady")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(loser.reason.code).toBe("wrong_state");
    expect(loser.reason.message).toBe('AppServer 1 is configuring; it cannot go to "configuring" from there.');
    await expect(move("error")).rejects.toThrow('AppServer 1 is configuring; it cannot go to "error" from there.');
  });

  it("launch freezes the settings: editing the instance afterwards never changes the appserver", async () => {
    const inst = await makeInstance(deps, { extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Before\n" });
    const as = await launchAppServer(deps, { instanceId: inst.id, actor });
    await deps.db.instance.update({ where: { id: inst.id }, data: { extraAnsibleVars: "EDXAPP_PLATFORM_NAME: After\n", edxPlatformBranch: "other" } });
    const stored = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    const snap = stored.configSnapshot as { variables: Record<string, unknown>; instance: Record<string, unknown> };
    expect(snap.variables.EDXAPP_PLATFORM_NAME).toBe("Before");
    expect(snap.variables.EDX_PLATFORM_VERSION).toBe("master");
    expect(snap.instance.edxPlatformBranch).toBe("master");
    expect(snap.instance).not.toHaveProperty("secretKeyEncrypted");
    await drainOutbox(deps);
    const job = await deps.jobs.queue(QUEUE.provisioning).getJob(`provision-${as.id}`);
    expect(job?.data).toEqual({ appServerId: as.id });
  });

  it("gives two launches at once distinct numbers", async () => {
    const inst = await makeInstance(deps);
    const [a, b] = await Promise.all([launchAppServer(deps, { instanceId: inst.id, actor }), launchAppServer(deps, { instanceId: inst.id, actor })]);
    expect([a.name, b.name].sort()).toEqual(["AppServer 1", "AppServer 2"]);
  });

  it("refuses to launch for an archived instance or a missing one", async () => {
    const inst = await makeInstance(deps, { isArchived: true });
    await expect(launchAppServer(deps, { instanceId: inst.id, actor })).rejects.toThrow("archived");
    await expect(launchAppServer(deps, { instanceId: 999999, actor })).rejects.toThrow("Instance not found.");
  });

  it("activates only a running appserver whose heartbeat answers, and says what the gate got", async () => {
    const inst = await makeInstance(deps, { internalLmsDomain: `Rules-${Date.now()}.Example.TEST` });
    expectedHost = inst.internalLmsDomain.toLowerCase();
    const snapshot = { variables: { EDXAPP_LMS_NGINX_PORT: heartbeatPort } };
    const configuring = await makeAppServer(deps, inst.id, { status: "configuring", publicIp: "127.0.0.1", configSnapshot: snapshot });
    await expect(activateAppServer(deps, { appServerId: configuring.id, actor })).rejects.toThrow("Only a running appserver can be activated; AppServer 1 is configuring.");
    const running = await makeAppServer(deps, inst.id, { status: "running", publicIp: "127.0.0.1", configSnapshot: snapshot });
    expectedAuth = "wrong";
    await expect(activateAppServer(deps, { appServerId: running.id, actor })).rejects.toThrow(`Health check failed: GET http://127.0.0.1:${heartbeatPort}/heartbeat answered 401 Unauthorized, not 200. Not activated.`);
    expect((await deps.db.appServer.findUniqueOrThrow({ where: { id: running.id } })).isActive).toBe(false);
    const auth = basicAuthFor(deps.secrets, inst);
    expectedAuth = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    await activateAppServer(deps, { appServerId: running.id, actor });
    const active = await deps.db.appServer.findUniqueOrThrow({ where: { id: running.id } });
    expect(active.isActive).toBe(true);
    expect(active.lastActivatedAt).not.toBeNull();
  });

  it("never deactivates the last active appserver of an instance without a pull request", async () => {
    const inst = await makeInstance(deps);
    const a = await makeAppServer(deps, inst.id, { status: "running", isActive: true });
    const b = await makeAppServer(deps, inst.id, { status: "running", isActive: true });
    await deactivateAppServer(deps, { appServerId: a.id, actor });
    await expect(deactivateAppServer(deps, { appServerId: b.id, actor })).rejects.toThrow("is the last active appserver");
    expect((await deps.db.appServer.findUniqueOrThrow({ where: { id: b.id } })).isActive).toBe(true);
    await deps.db.instance.update({ where: { id: inst.id }, data: { pullRequestUrl: "https://github.com/o/r/pull/1" } });
    await deactivateAppServer(deps, { appServerId: b.id, actor });
    expect(await deps.db.appServer.count({ where: { instanceId: inst.id, isActive: true } })).toBe(0);
  });

  it("refuses to terminate an active appserver or one still being provisioned", async () => {
    const inst = await makeInstance(deps);
    const active = await makeAppServer(deps, inst.id, { status: "running", isActive: true });
    await expect(assertTerminable(deps, active.id)).rejects.toThrow("AppServer 1 is active: deactivate it before terminating it.");
    const busy = await makeAppServer(deps, inst.id, { status: "configuring" });
    await expect(assertTerminable(deps, busy.id)).rejects.toThrow("(cancel the provisioning first)");
  });

  it("says an appserver activated between the terminate's check and its move is active, not that running cannot be terminated", async () => {
    const inst = await makeInstance(deps);
    const as = await makeAppServer(deps, inst.id, { status: "running", isActive: false });
    // A colleague's activation commits after the rules were read, before the terminate's transaction.
    const racing = {
      ...deps,
      db: new Proxy(deps.db, {
        get(db, key, receiver) {
          if (key !== "$transaction") return Reflect.get(db, key, receiver) as unknown;
          return async (work: Parameters<typeof db.$transaction>[0]) => {
            await db.appServer.update({ where: { id: as.id }, data: { isActive: true } });
            return db.$transaction(work as never);
          };
        },
      }),
    };
    await expect(terminateAppServer(racing, { appServerId: as.id, actor })).rejects.toThrow("AppServer 1 is active: deactivate it before terminating it.");
    expect(await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).toMatchObject({ status: "running", isActive: true });
  });
});
