// Admin › Scheduled jobs says, per job, when it runs next and what its last run did: outcome,
// duration and the error of a failed run (issue 16). The runs are real: the worker's own handlers,
// a log purge that succeeds and an SSH-keys sync that GitHub refuses (a revoked GITHUB_TOKEN).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { QUEUE } from "../src/jobs/names.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { jobEnded } from "./helpers/wait.js";
import { viewHelpers as h } from "../src/web/view-helpers.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer } from "./helpers/lb.js";
import { freePort } from "../src/embedded/processes.js";

const row = (html: string, job: string) => visibleText(html.match(new RegExp(`<tr data-job="${job}">[\\s\\S]*?</tr>`))![0]);

describe("admin: scheduled jobs", () => {
  let t: TestApp;
  let workers: RunningWorkers;
  let admin: Agent;
  let clock = new Date();
  beforeAll(async () => {
    t = await startTestApp({ GITHUB_TOKEN: "ghp_revoked" }, { now: () => clock });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    admin = await t.loginAs("ada", { admin: true });
  });
  afterAll(async () => {
    await workers?.close();
    await t?.close();
  });

  it("says when each job runs next, from the console's clock", async () => {
    clock = new Date("2026-12-01T12:05:30Z");
    const page = await admin.get("/admin/jobs");
    expect(page.text).toMatch(/<tr data-job="log-purge">[\s\S]*?<time datetime="2026-12-02T04:15:00.000Z" title="2026-12-02 04:15 UTC">in 16 h<\/time>/);
    expect(row(page.text, "reconcile")).toContain("* * * * * in 30 s");
    expect(row(page.text, "orphans")).toContain("45 * * * * in 39 min not run yet Run now");
    clock = new Date();
  });

  it("shows a run that succeeded with its duration, and one that failed with GitHub's error", async () => {
    for (const job of ["log-purge", "ssh-keys-sync"]) await admin.submit(`/admin/jobs/${job}/run`, {}, "/admin/jobs");
    const queue = t.deps.jobs.queue(QUEUE.periodic);
    const ids = (await queue.getJobs(["waiting", "active", "completed", "failed"])).map((j) => j.id!);
    const ended = await Promise.all(ids.map((id) => jobEnded(queue, id)));
    const purge = ended.find((j) => j.name === "log-purge")!;
    expect(purge.failedReason).toBeFalsy();

    const page = await admin.get("/admin/jobs");
    const purged = row(page.text, "log-purge");
    expect(purged).toMatch(/^log-purge 15 4 \* \* \* in \d+ (h|min) (just now|\d+ s ago) succeeded (\d+ ms|\d+ s) Run now$/);
    expect(purged).toContain(` succeeded ${h.duration(purge.finishedOn! - purge.processedOn!)} Run now`);
    const sync = row(page.text, "ssh-keys-sync");
    expect(sync).toMatch(/ failed GitHub answered 401 for \/orgs\/ocim-test-org\/members (\d+ ms|\d+ s) Run now$/);
    expect(page.text).toContain('<span class="badge status-failed">failed</span><div class="job-error">');
    expect(sync).not.toContain("ghp_revoked");
  });

  it("says what a cleanup run did, not only that it succeeded", async () => {
    const site = await makeInstance(t.deps);
    const days = t.deps.config.CLEANUP_FAILED_DAYS + 1;
    await makeAppServer(t.deps, site.id, { status: "error", createdAt: new Date(Date.now() - days * 86_400_000) });
    await makeAppServer(t.deps, site.id, { status: "error", createdAt: new Date(Date.now() - days * 86_400_000) });
    await admin.submit("/admin/jobs/cleanup/run", {}, "/admin/jobs");
    const queue = t.deps.jobs.queue(QUEUE.periodic);
    const [job] = (await queue.getJobs(["waiting", "active", "completed", "failed"])).filter((j) => j.name === "cleanup");
    await jobEnded(queue, job!.id!);
    const cleanup = row((await admin.get("/admin/jobs")).text, "cleanup");
    expect(cleanup).toMatch(/ succeeded Terminated 2 appservers, archived 0 sandboxes\. (\d+ ms|\d+ s) Run now$/);
  });
});

describe("admin: scheduled jobs whose items fail", () => {
  let t: TestApp;
  let workers: RunningWorkers;
  let admin: Agent;
  beforeAll(async () => {
    // The CA file of a test CA that was removed since the start: every order fails at once.
    t = await startTestApp({ ACME_DIRECTORY_URL: `https://127.0.0.1:${await freePort()}/dir`, ACME_CA_FILE: "/nonexistent/ocim-test-ca.pem" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    admin = await t.loginAs("ada", { admin: true });
  });
  afterAll(async () => {
    await workers?.close();
    await t?.close();
  });

  it("shows a certificate renewal whose orders failed as partly failed, naming the instances, not as succeeded", async () => {
    const lb = await makeLoadBalancer(t.deps);
    const site = await makeInstance(t.deps, { loadBalancerId: lb.id });
    await admin.submit("/admin/jobs/certificate-renewal/run", {}, "/admin/jobs");
    const queue = t.deps.jobs.queue(QUEUE.periodic);
    const [job] = await queue.getJobs(["waiting", "active", "completed", "failed"]);
    await jobEnded(queue, job!.id!);
    const page = await admin.get("/admin/jobs");
    expect(row(page.text, "certificate-renewal")).toMatch(
      new RegExp(` partly failed 1 of 1 order failed \\(${site.name}\\): each instance's page says why\\. Ordered 0 certificates\\. (\\d+ ms|\\d+ s) Run now$`),
    );
    expect(page.text).toContain('<span class="badge status-failed">partly failed</span>');
  });
});

describe("admin: scheduled jobs on a console without GitHub (a local try-out)", () => {
  let t: TestApp;
  let workers: RunningWorkers;
  let admin: Agent;
  beforeAll(async () => {
    t = await startTestApp({ GITHUB_CLIENT_ID: "", GITHUB_CLIENT_SECRET: "", GITHUB_ORG: "" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    admin = await t.loginAsLocalAdmin();
  });
  afterAll(async () => {
    await workers?.close();
    await t?.close();
  });

  it("shows an SSH-keys sync that had nobody to sync as skipped, saying why, not as succeeded", async () => {
    await admin.submit("/admin/jobs/ssh-keys-sync/run", {}, "/admin/jobs");
    const queue = t.deps.jobs.queue(QUEUE.periodic);
    const [job] = await queue.getJobs(["waiting", "active", "completed", "failed"]);
    await jobEnded(queue, job!.id!);
    const page = await admin.get("/admin/jobs");
    const sync = visibleText(page.text.match(/<tr data-job="ssh-keys-sync">[\s\S]*?<\/tr>/)![0]);
    expect(sync).toMatch(/ skipped GITHUB_ORG and GITHUB_TOKEN are not set, so no GitHub member's keys were fetched or synced (\d+ ms|\d+ s) Run now$/);
    expect(page.text).toContain('<span class="badge status-skipped">skipped</span>');
  });
});
