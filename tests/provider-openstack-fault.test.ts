// A server Nova puts in ERROR: the appserver ends in error with Nova's own reason (its `fault`,
// compute api-ref "Show Server Details"), the VM is deleted, and the job is not retried.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { FakeOpenstack, fakeOpenstackAccount } from "./helpers/fake-openstack.js";
import { jobEnded, waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

describe("a server Nova puts in ERROR", () => {
  let deps: TestDeps;
  let workers: RunningWorkers;
  let cloud: FakeOpenstack;

  beforeAll(async () => {
    cloud = await new FakeOpenstack().start();
    deps = await createTestDeps({ PROVISIONING_ATTEMPTS: "3", JOB_RETRY_DELAY_SECONDS: "0.2" });
    await deps.db.providerAccount.create({ data: fakeOpenstackAccount(cloud, (p) => deps.secrets.encrypt(p)) });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  });
  afterAll(async () => {
    await workers?.close();
    await cloud?.stop();
    await deps?.close();
  });

  it("ends the appserver in error with Nova's fault message, deletes the VM, and makes one attempt", async () => {
    cloud.buildFault = { code: 500, message: "No valid host was found. There are not enough hosts available." };
    const instance = await makeInstance(deps, { providerKind: "openstack" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const done = await waitFor("the appserver to end provisioning", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 60_000, 200);
    expect(done.status).toBe("error");
    expect(done.failureSummary).toBe("The provider reports the VM as failed: No valid host was found. There are not enough hosts available.");
    expect(cloud.servers.size).toBe(0);
    expect((await jobEnded(deps.jobs.queue("provisioning"), `provision-${as.id}`)).attemptsMade).toBe(1);
  });
});
