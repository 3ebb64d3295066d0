// The prepare-data provisioning step: before any VM, the instance's bucket on its storage service
// (a real S3 REST server, s3rver) with CORS for its site's origins, recorded on the instance; a
// service that refuses ends the appserver in error, with the reason, before a VM is asked for.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "./helpers/git-repo.js";
import { startS3Server, type S3Server } from "./helpers/s3-server.js";
import { serveFake, type FakeHttp } from "./helpers/http-fake.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { provisionAppServer } from "../src/domain/provisioning/provision-appserver.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import type { ProvisioningPorts } from "../src/domain/provisioning/ports.js";
import { bucketOrigins, instanceDataPlan } from "../src/domain/data/plan.js";
import { DataServiceError } from "../src/adapters/data/port.js";
import { retryable } from "../src/jobs/retry.js";
import { freePort } from "./helpers/redis-server.js";

describe("prepare-data", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let s3: S3Server;
  let denying: FakeHttp;
  let repo: ReturnType<typeof makeGitRepo>;
  const clock = Date.parse("2026-12-01T10:00:00Z");

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env, { now: () => new Date(clock) });
    s3 = await startS3Server();
    // Answers every request as AWS does for keys it does not know (ErrorResponses, 403 InvalidAccessKeyId).
    denying = await serveFake((_req, res) => {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>');
    });
    repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
  });
  afterAll(async () => {
    await vms?.cleanup();
    await deps?.close();
    await s3?.close();
    await denying?.stop();
    rmSync(repo.dir, { recursive: true, force: true });
  });

  function countingPorts(counts: { created: number }): ProvisioningPorts {
    const real = createProvisioningPorts(deps);
    return {
      provider(kind) {
        const p = real.provider(kind);
        return Object.assign(Object.create(p), { createServer: (...args: Parameters<typeof p.createServer>) => (counts.created++, p.createServer(...args)) });
      },
      connect: (provider, vm, deadlineMs, hostKey) => real.connect(provider, vm, deadlineMs, hostKey),
    };
  }

  async function storageService(name: string, settings: object, credentials: object) {
    return deps.db.dataService.create({ data: { name, kind: "s3", settings, credentialsEncrypted: deps.secrets.encrypt(JSON.stringify(credentials)) } });
  }

  const logOf = async (appServerId: number) => (await deps.db.logEntry.findMany({ where: { appServerId }, orderBy: { seq: "asc" } })).map((l) => l.text);

  it("makes the bucket with CORS before the VM, records it, and a second launch adds no row", async () => {
    const service = await storageService("Campus storage", s3.settings, s3.credentials);
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml", storageServiceId: service.id });
    const bucket = instanceDataPlan(deps.secrets, instance, []).storage.bucket;
    const counts = { created: 0 };
    for (const n of [1, 2]) {
      const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
      expect(await provisionAppServer(deps, { appServerId: as.id }, countingPorts(counts), { pollMs: 50 })).toBe("running");
      const lines = await logOf(as.id);
      expect(lines).toContain(`[ocim] Storage ${s3.settings.endpoint}: 1 bucket ready.`);
      expect(lines.findIndex((l) => l.includes("1 bucket ready"))).toBeLessThan(lines.findIndex((l) => l.startsWith("[ocim] Requesting VM")));
      expect(lines.join("\n")).not.toContain("S3RVER");
      expect(counts.created).toBe(n);
    }
    const rows = await deps.db.instanceDataResource.findMany({ where: { instanceId: instance.id } });
    expect(rows.map((r) => [r.serviceId, r.kind, r.name, r.status, r.sizeBytes, r.owner, r.checkedAt])).toEqual([
      [service.id, "bucket", bucket, "exists", 0n, instance.slug, new Date(clock)],
    ]);
    const sdk = new S3Client({ endpoint: s3.settings.endpoint, region: "us-east-1", forcePathStyle: true, credentials: s3.credentials });
    const cors = await sdk.send(new GetBucketCorsCommand({ Bucket: bucket }));
    sdk.destroy();
    // No balancer serves this instance: its site is plain HTTP, and a browser there sends that origin.
    expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual([`http://${instance.internalLmsDomain}`, `http://${instance.studioDomain}`]);
  }, 180_000); // two launches, each a whole provisioning with real sshd and ansible

  it("allows the site's origins in the bucket's CORS as its balancer serves them, the external domains too", () => {
    const config = { LB_HTTP_PORT: 8080, LB_HTTPS_PORT: 8443 };
    const site = { internalLmsDomain: "lms.acme.test", studioDomain: "studio.lms.acme.test", externalDomains: ["Courses.Acme.org"] };
    const local = { kind: "local", httpsBind: "" };
    const certificate = { certificatePem: "-----BEGIN CERTIFICATE-----" };
    const origins = (route: Parameters<typeof bucketOrigins>[1]) => bucketOrigins(config, route, site);
    expect(origins({ loadBalancer: null, certificate: null })).toEqual(["http://lms.acme.test", "http://studio.lms.acme.test", "http://courses.acme.org"]);
    // An ssh balancer without an HTTPS bind serves HTTP only (on the operator's port 80), certificate or not.
    expect(origins({ loadBalancer: { kind: "ssh", httpsBind: "" }, certificate })).toEqual(["http://lms.acme.test", "http://studio.lms.acme.test", "http://courses.acme.org"]);
    expect(origins({ loadBalancer: local, certificate })).toEqual(["https://lms.acme.test:8443", "https://studio.lms.acme.test:8443", "https://courses.acme.org:8443"]);
    expect(origins({ loadBalancer: { kind: "ssh", httpsBind: "*:443" }, certificate })).toEqual(["https://lms.acme.test", "https://studio.lms.acme.test", "https://courses.acme.org"]);
    // Without a certificate yet the site answers HTTP, and HTTPS once one is issued or uploaded.
    expect(origins({ loadBalancer: local, certificate: null })).toEqual([
      "http://lms.acme.test:8080", "https://lms.acme.test:8443", "http://studio.lms.acme.test:8080", "https://studio.lms.acme.test:8443",
      "http://courses.acme.org:8080", "https://courses.acme.org:8443",
    ]);
  });

  it("says in one line that an instance without services keeps its data on the appserver", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    expect(await provisionAppServer(deps, { appServerId: as.id }, countingPorts({ created: 0 }), { pollMs: 50 })).toBe("running");
    expect((await logOf(as.id)).filter((l) => l.includes("data stays on each appserver"))).toEqual([
      "[ocim] No MySQL, MongoDB or storage service is chosen for this instance: its data stays on each appserver.",
    ]);
    expect(await deps.db.instanceDataResource.count({ where: { instanceId: instance.id } })).toBe(0);
  });

  it("ends the appserver in error, naming the service and its reason, and asks for no VM when the service refuses", async () => {
    const service = await storageService("Refusing storage", { endpoint: denying.url, forcePathStyle: true }, { accessKeyId: "AKIAWRONG", secretAccessKey: "wrong-secret-value" });
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml", storageServiceId: service.id });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const counts = { created: 0 };
    expect(await provisionAppServer(deps, { appServerId: as.id }, countingPorts(counts), { pollMs: 50 })).toBe("error");
    expect(counts.created).toBe(0);
    const after = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    expect([after.status, after.providerServerId]).toEqual(["error", null]);
    expect(after.failureSummary).toBe(
      `Preparing the instance's data failed: Storage service "Refusing storage" refused: Storage ${denying.url}: HeadBucket ${instanceDataPlan(deps.secrets, instance, []).storage.bucket} refused (HTTP 403): the keys are wrong or may not use this bucket, or another account owns it.`,
    );
    const lines = (await logOf(as.id)).join("\n");
    expect(lines).toContain("No VM was requested.");
    expect(lines).not.toContain("wrong-secret-value");
    expect(lines).not.toContain("AKIAWRONG");
    const steps = await deps.db.appServerStep.findMany({ where: { appServerId: as.id } });
    expect(steps.map((s) => [s.name, s.outcome])).toEqual([["prepare-data", "failed"]]);
  });

  it("leaves an unreachable service to the worker's retry rule: still new, the step open, no VM", async () => {
    const service = await storageService("Sleeping storage", { endpoint: `http://127.0.0.1:${await freePort()}`, forcePathStyle: true }, s3.credentials);
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml", storageServiceId: service.id });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const counts = { created: 0 };
    const err = await provisionAppServer(deps, { appServerId: as.id }, countingPorts(counts), { pollMs: 50 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataServiceError);
    expect(retryable(err)).toBe(true);
    expect((err as Error).message).toContain('Storage service "Sleeping storage" could not be reached: Storage http://127.0.0.1:');
    expect(counts.created).toBe(0);
    expect((await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).status).toBe("new");
    expect((await deps.db.appServerStep.findMany({ where: { appServerId: as.id } })).map((s) => [s.name, s.endedAt])).toEqual([["prepare-data", null]]);
  });
});
