// Pull-request sandboxes (docs/pr-sandboxes.md) against the fake GitHub, which keeps pull requests,
// takes comments and sends signed webhook deliveries like GitHub: a watched repository made through
// the admin form, the webhook (signature checked, the work queued as a job and run here), the
// polling fallback, relaunch on new commits, and the cleanup that archives a closed pull request's
// sandbox N days later (the injected clock moved, never slept).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { serveAs, startTestApp, TEST_ORG, type TestApp } from "./helpers/app.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { fieldError, visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { moveAppServerNow } from "../src/domain/appservers/lifecycle.js";
import { JOB, QUEUE } from "../src/jobs/names.js";
import { PAYLOADS } from "../src/jobs/payloads.js";
import { syncPullRequest } from "../src/domain/sandboxes/sync-pull-request.js";
import { pollPullRequests } from "../src/domain/sandboxes/poll-pull-requests.js";
import { runCleanup } from "../src/domain/cleanup/run-cleanup.js";
import { siteUrl } from "../src/domain/loadbalancer/site-url.js";

const DAY = 86_400_000;
const SECRET = "whsec-0123456789abcdef";
const REPO = "acme/edx-platform";

describe("pull-request sandboxes", () => {
  let t: TestApp;
  let admin: Agent;
  let clock = new Date("2026-12-02T10:00:00Z");
  let templateId: number;
  let repoId: number;

  /** What the console logged (pino's JSON lines): the operator's side of a refused delivery. */
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    t = await startTestApp({ GITHUB_TOKEN: "ghp_app_token" }, { now: () => clock, log });
    admin = await t.loginAs("ada", { admin: true });
    const template = await makeInstance(t.deps, { name: "Acme main", internalLmsDomain: "lms.acme.test", edxPlatformBranch: "acme/main" });
    templateId = template.id;
    t.github.addUser({ login: "mia" }, TEST_ORG);
    t.github.addUser({ login: "stranger" });
  });
  afterAll(() => t.close());

  const webhookUrl = () => `${t.url}/webhooks/github`;
  const sandboxOf = (number: number) => t.deps.db.instance.findFirst({ where: { watchedRepositoryId: repoId, pullRequestNumber: number }, include: { appServers: { orderBy: { number: "asc" } } } });

  /** The sync jobs the webhook queued, run as the worker runs them (registry.ts); their results. */
  async function runQueuedSyncs(): Promise<unknown[]> {
    const queue = t.deps.jobs.queue(QUEUE.actions);
    const jobs = (await queue.getJobs(["waiting"])).filter((j) => j.name === JOB.syncPullRequest);
    const results = [];
    for (const job of jobs) {
      results.push(await syncPullRequest(t.deps, PAYLOADS[JOB.syncPullRequest].parse(job.data)));
      await job.remove();
    }
    return results;
  }

  it("refuses a watched repository form with wrong values next to each field, and saves a right one", async () => {
    const bad = await admin.submit("/admin/watched-repositories/add", {
      repository: "not a repo", templateInstanceId: "", authors: "list", allowedAuthors: "", branchField: "edx_platform", keepDaysAfterClose: "-1", webhookSecret: "short",
    });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, "repository")).toBe('Enter the repository as owner/name, like "my-org/edx-platform".');
    expect(fieldError(bad.text, "templateInstanceId")).toBe("Choose the instance sandboxes are made from.");
    expect(fieldError(bad.text, "allowedAuthors")).toContain("List at least one GitHub login");
    expect(fieldError(bad.text, "webhookSecret")).toContain("at least 16 characters");
    expect(await t.deps.db.watchedRepository.count()).toBe(0);
    // A cleared number of days is refused, not saved as 7.
    const blankDays = await admin.submit("/admin/watched-repositories/add", {
      repository: "acme/edx-platform", templateInstanceId: String(templateId), authors: "org_members", allowedAuthors: "", branchField: "edx_platform", keepDaysAfterClose: " ", webhookSecret: "",
    });
    expect(blankDays.status).toBe(400);
    expect(fieldError(blankDays.text, "keepDaysAfterClose")).toBe("This field is required.");
    expect(await t.deps.db.watchedRepository.count()).toBe(0);

    const ok = await admin.submit("/admin/watched-repositories/add", {
      repository: "Acme/edx-platform", templateInstanceId: String(templateId), authors: "org_members", allowedAuthors: "", branchField: "edx_platform",
      relaunchOnPush: "true", keepDaysAfterClose: "3", webhookSecret: SECRET,
    });
    expect(visibleText(ok.text)).toContain("acme/edx-platform");
    const repo = await t.deps.db.watchedRepository.findFirstOrThrow();
    repoId = repo.id;
    expect(repo).toMatchObject({ owner: "acme", name: "edx-platform", keepDaysAfterClose: 3, relaunchOnPush: true });
    // The secret is stored encrypted, and neither the page nor the audit trail shows it.
    expect(repo.webhookSecretEncrypted).not.toContain(SECRET);
    const page = await admin.get(`/admin/watched-repositories/${repo.id}`);
    expect(visibleText(page.text)).toContain("set (encrypted)");
    expect(page.text).not.toContain(SECRET);
    const history = await admin.get(`/admin/watched-repositories/${repo.id}/history`);
    expect(history.text).not.toContain(SECRET);
    // The template by its name, as the form's select shows it, not by its id.
    expect(visibleText(history.text)).toContain("Template instance — Acme main");

    // The same repository again (in another case): refused once, on the Repository field.
    const again = await admin.submit("/admin/watched-repositories/add", {
      repository: "ACME/edx-platform", templateInstanceId: String(templateId), authors: "org_members", allowedAuthors: "", branchField: "edx_platform", keepDaysAfterClose: "3", webhookSecret: "",
    });
    expect(again.status).toBe(400);
    expect(fieldError(again.text, "repository")).toBe("This repository is watched already.");
    expect(visibleText(again.text).split("This repository is watched already.")).toHaveLength(2);
    expect(await t.deps.db.watchedRepository.count()).toBe(1);
  });

  it("refuses to delete the template instance while a repository makes sandboxes from it", async () => {
    const page = await admin.get(`/admin/instances/${templateId}/delete`);
    expect(visibleText(page.text)).toContain("It is the sandbox template of acme/edx-platform");
    const res = await admin.submit(`/admin/instances/${templateId}/delete`, {}, `/admin/instances/${templateId}`);
    expect(res.status).toBe(409);
    expect(visibleText(res.text)).toContain("Sandbox templates cannot be deleted: Acme main (of acme/edx-platform)");
    expect(await t.deps.db.instance.findUnique({ where: { id: templateId } })).not.toBeNull();
  });

  it("answers 401 to a delivery with a wrong or missing signature, and makes nothing", async () => {
    t.github.openPull(REPO, { author: "mia", headRef: "mia/forged", number: 90 });
    t.github.openPull("other/repo", { author: "mia", headRef: "x", number: 1 });
    const forged = await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 90, action: "opened", secret: SECRET, signWith: "another-secret-0123456789" });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain("X-Hub-Signature-256 signature could not be verified");
    // No signature, or only GitHub's legacy SHA-1 one: said so, the same for any repository.
    const missing = [
      await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 90, action: "opened", secret: SECRET, signWith: null }),
      await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 90, action: "opened", secret: SECRET, sha1Only: true }),
      await t.github.sendWebhook(webhookUrl(), { repo: "other/repo", number: 1, action: "opened", secret: SECRET, signWith: null }),
    ];
    for (const res of missing) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        "The delivery has no X-Hub-Signature-256 header: give the webhook a secret on GitHub. Only SHA-256 signatures are accepted, not the legacy SHA-1 X-Hub-Signature; nothing was done.",
      );
    }
    expect(await runQueuedSyncs()).toEqual([]);
    expect(await t.deps.db.instance.count({ where: { watchedRepositoryId: repoId } })).toBe(0);
    t.github.close(REPO, 90);
  });

  it("tells an unauthenticated caller nothing of which repositories are watched or have a secret, and logs why", async () => {
    const noSecret = await t.deps.db.watchedRepository.create({ data: { owner: "acme", name: "nosecret", templateInstanceId: templateId } });
    t.github.openPull("acme/nosecret", { author: "mia", headRef: "x", number: 1 });
    logged.length = 0;
    const answers = [];
    for (const delivery of [
      { repo: REPO, number: 90, action: "opened", secret: "another-secret-0123456789" }, // watched, wrong signature
      { repo: "other/repo", number: 1, action: "opened", secret: SECRET }, // not watched
      { repo: "acme/nosecret", number: 1, action: "opened", secret: SECRET }, // watched, no secret here
    ]) {
      const res = await t.github.sendWebhook(webhookUrl(), delivery);
      answers.push({ status: res.status, body: await res.json() });
    }
    expect(answers[0]).toEqual({ status: 401, body: { error: { code: "unauthenticated", message: expect.stringContaining("could not be verified") } } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(JSON.stringify(answers)).not.toMatch(/other\/repo|nosecret|watch/);
    // The operator finds the reason in the log, with the delivery's id.
    const refusals = logged.filter((l) => l.msg === "sandbox.webhook_refused");
    expect(refusals.map((l) => [l.repository, l.reason])).toEqual([
      [REPO, `the signature does not match ${REPO}'s webhook secret`],
      ["other/repo", "this console does not watch other/repo"],
      ["acme/nosecret", "no webhook secret is set for acme/nosecret in this console (Admin → Watched repositories)"],
    ]);
    expect(refusals.every((l) => typeof l.delivery === "string" && l.delivery.length > 0)).toBe(true);
    expect(await runQueuedSyncs()).toEqual([]);
    await t.deps.db.watchedRepository.delete({ where: { id: noSecret.id } });
  });

  it("answers 200 'repository not watched' to an organization webhook's delivery for another of its repositories, and does nothing", async () => {
    // An organization's webhook sends every repository's pull requests, signed with its one secret
    // (docs/pr-sandboxes.md: the secret of the organization's watched repositories); GitHub lists
    // any answer but a 2xx as a failed delivery.
    t.github.openPull("acme/website", { author: "mia", headRef: "mia/typo", number: 5 });
    const org = await t.github.sendWebhook(webhookUrl(), { repo: "acme/website", number: 5, action: "opened", secret: SECRET });
    expect(org.status).toBe(200);
    expect(await org.json()).toEqual({ ignored: "repository not watched" });
    // Not verified (another secret, or none): the same 401 as for a watched repository.
    const forged = await t.github.sendWebhook(webhookUrl(), { repo: "acme/website", number: 5, action: "opened", secret: "another-secret-0123456789" });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain("X-Hub-Signature-256 signature could not be verified");
    const unsigned = await t.github.sendWebhook(webhookUrl(), { repo: "acme/website", number: 5, action: "opened", secret: SECRET, signWith: null });
    expect(unsigned.status).toBe(401);
    expect(await runQueuedSyncs()).toEqual([]);
    expect(await t.deps.db.watchedRepository.count({ where: { owner: "acme", name: "website" } })).toBe(0);
    expect(await t.deps.db.instance.count({ where: { pullRequestUrl: { contains: "acme/website" } } })).toBe(0);
    t.github.close("acme/website", 5);
  });

  it("answers a repository webhook's ping with 200", async () => {
    const ping = await t.github.sendPing(webhookUrl(), { repo: REPO }, SECRET);
    expect(ping.status).toBe(200);
    expect(await runQueuedSyncs()).toEqual([]);
  });

  it("answers an organization webhook's ping, which names no repository, with 200 without a secret", async () => {
    // docs/pr-sandboxes.md says to add the webhook to the repository or its organization; GitHub
    // shows a webhook whose ping was refused as failing.
    for (const secret of [SECRET, null]) {
      const ping = await t.github.sendPing(webhookUrl(), { org: "acme" }, secret);
      expect(ping.status).toBe(200);
      expect(((await ping.json()) as { ignored: string }).ignored).toContain("ping without a repository");
    }
    expect(await runQueuedSyncs()).toEqual([]);
  });

  it("makes a sandbox from the template for an org member's pull request, launches it and comments its link", async () => {
    const pr = t.github.openPull(REPO, { author: "mia", headRef: "mia/better-grading", title: "Better grading", number: 12 });
    const res = await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "opened", secret: SECRET });
    expect(res.status).toBe(202);
    expect(await sandboxOf(12)).toBeNull(); // the work is the job's, not the request's
    expect(await runQueuedSyncs()).toEqual(["created"]);

    const sandbox = (await sandboxOf(12))!;
    expect(sandbox).toMatchObject({
      name: "edx-platform PR #12: Better grading",
      internalLmsDomain: "pr12.lms.acme.test",
      studioDomain: "studio.pr12.lms.acme.test",
      edxPlatformRepoUrl: "https://github.com/mia/edx-platform.git",
      edxPlatformBranch: "mia/better-grading",
      pullRequestUrl: "https://github.com/acme/edx-platform/pull/12",
      pullRequestNumber: 12,
      pullRequestState: "open",
      pullRequestHeadSha: pr.headSha,
      recipe: "custom",
    });
    expect(sandbox.appServers.map((a) => [a.name, a.status])).toEqual([["AppServer 1", "new"]]);
    // The launch went through the lifecycle: its provisioning is queued in the outbox.
    expect(await t.deps.db.outboxMessage.count({ where: { kind: "provision-appserver", payload: { equals: { appServerId: sandbox.appServers[0]!.id } } } })).toBe(1);

    const page = await admin.get(`/instances/${sandbox.id}`);
    expect(page.text).toContain('href="https://github.com/acme/edx-platform/pull/12"');
    expect(visibleText(page.text)).toContain(`Sandbox of pull request #12 in acme/edx-platform`);

    expect(t.github.comments).toHaveLength(1);
    expect(t.github.comments[0]).toMatchObject({ repo: REPO, number: 12 });
    expect(t.github.comments[0]!.body).toContain(`${t.url}/instances/${sandbox.id}`);
    // The template has no balancer with a certificate: its sites answer on HTTP, not HTTPS.
    expect(t.github.comments[0]!.body).toContain("answers at http://pr12.lms.acme.test (Studio: http://studio.pr12.lms.acme.test)");
    expect(t.github.comments[0]!.body).toContain("terminated 3 days later");
  });

  it("makes nothing for an author who is not allowed", async () => {
    t.github.openPull(REPO, { author: "stranger", headRef: "drive-by", number: 13 });
    const res = await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 13, action: "opened", secret: SECRET });
    expect(res.status).toBe(202);
    expect(await runQueuedSyncs()).toEqual([`skipped: stranger is not a member of ${TEST_ORG}`]);
    expect(await sandboxOf(13)).toBeNull();
    expect(t.github.comments.filter((c) => c.number === 13)).toEqual([]);
  });

  it("launches a new appserver for a new commit when the repository says so, and not otherwise", async () => {
    const pushed = t.github.push(REPO, 12);
    await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "synchronize", secret: SECRET });
    expect(await runQueuedSyncs()).toEqual(["relaunched"]);
    let sandbox = (await sandboxOf(12))!;
    expect(sandbox.appServers.map((a) => a.name)).toEqual(["AppServer 1", "AppServer 2"]);
    expect(sandbox.pullRequestHeadSha).toBe(pushed.headSha);
    // The same delivery twice (GitHub's redelivery) or a label change launch nothing more.
    await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "synchronize", secret: SECRET });
    const labeled = await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "labeled", secret: SECRET });
    expect(labeled.status).toBe(200);
    expect(await runQueuedSyncs()).toEqual(["unchanged"]);

    await t.deps.db.watchedRepository.update({ where: { id: repoId }, data: { relaunchOnPush: false } });
    t.github.push(REPO, 12);
    await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "synchronize", secret: SECRET });
    expect(await runQueuedSyncs()).toEqual(["unchanged"]);
    sandbox = (await sandboxOf(12))!;
    expect(sandbox.appServers).toHaveLength(2);
    await t.deps.db.watchedRepository.update({ where: { id: repoId }, data: { relaunchOnPush: true } });
  });

  it("asks for a sandbox's appserver to be activated, the others deactivated, once it runs; not an ordinary instance's", async () => {
    const sandbox = (await sandboxOf(12))!;
    const ordinary = await makeAppServer(t.deps, templateId, { status: "configuring" });
    const newest = sandbox.appServers.at(-1)!;
    await t.deps.db.appServer.update({ where: { id: newest.id }, data: { status: "configuring" } });
    for (const appServerId of [newest.id, ordinary.id]) await moveAppServerNow(t.deps, "succeeded", { appServerId });
    const activations = await t.deps.db.outboxMessage.findMany({ where: { kind: "activate-appserver" } });
    expect(activations.map((m) => m.payload)).toEqual([{ appServerId: newest.id, actorId: null, deactivateOthers: true }]);
    // The relay makes it the activation job the console's button queues (PAYLOADS checks its shape).
    expect(PAYLOADS[JOB.activateAppServer].parse(activations[0]!.payload)).toEqual({ appServerId: newest.id, actorId: null, deactivateOthers: true });
  });

  it("polling finds a pull request whose webhook was missed, and never makes a second sandbox", async () => {
    t.github.openPull(REPO, { author: "mia", headRef: "mia/missed", number: 14 });
    const first = await pollPullRequests(t.deps);
    expect(first.failed).toEqual([]);
    expect(first.synced).toEqual(expect.arrayContaining([
      { repository: REPO, pullRequest: 14, outcome: "created" },
      // The commit pushed while relaunching was off is launched now that it is on again.
      { repository: REPO, pullRequest: 12, outcome: "relaunched" },
      { repository: REPO, pullRequest: 13, outcome: `skipped: stranger is not a member of ${TEST_ORG}` },
    ]));
    expect((await sandboxOf(14))!.edxPlatformBranch).toBe("mia/missed");
    // A webhook arriving late for the same pull request, and the next poll, find it made.
    await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 14, action: "opened", secret: SECRET });
    expect(await runQueuedSyncs()).toEqual(["unchanged"]);
    const second = await pollPullRequests(t.deps);
    expect(second.synced.find((s) => s.pullRequest === 14)?.outcome).toBe("unchanged");
    expect(await t.deps.db.instance.count({ where: { watchedRepositoryId: repoId, pullRequestNumber: 14 } })).toBe(1);
    expect((await sandboxOf(14))!.appServers).toHaveLength(1);
    expect(t.github.comments.filter((c) => c.number === 14)).toHaveLength(1);
    expect((await t.deps.db.watchedRepository.findUniqueOrThrow({ where: { id: repoId } })).lastPolledAt).toEqual(clock);
  });

  it("on close, keeps the sandbox N days, then the cleanup deactivates, terminates and archives it", async () => {
    const sandbox = (await sandboxOf(12))!;
    // Its first appserver ran and serves; the later ones failed.
    const [one, ...others] = sandbox.appServers;
    expect(others).toHaveLength(2);
    await t.deps.db.appServer.update({ where: { id: one!.id }, data: { status: "running", isActive: true, lastActivatedAt: clock } });
    await t.deps.db.appServer.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { status: "failed" } });
    t.github.close(REPO, 12, { merged: true });
    await t.github.sendWebhook(webhookUrl(), { repo: REPO, number: 12, action: "closed", secret: SECRET });
    expect(await runQueuedSyncs()).toEqual(["closed"]);
    expect(await sandboxOf(12)).toMatchObject({ pullRequestState: "merged", pullRequestClosedAt: clock, isArchived: false });
    expect(visibleText((await admin.get(`/instances/${sandbox.id}`)).text)).toContain("its pull request closed; archived and its appservers terminated by the cleanup from");

    // Two days later (of the three kept) nothing of it goes.
    clock = new Date(clock.getTime() + 2 * DAY);
    let outcome = await runCleanup(t.deps);
    expect(outcome.terminated).not.toContain(one!.id);
    expect((await sandboxOf(12))!.isArchived).toBe(false);

    // The plan page says when; then, past the third day, the cleanup removes it.
    clock = new Date(clock.getTime() + 1 * DAY + 60_000);
    const plan = visibleText((await admin.get("/cleanup")).text);
    expect(plan).toContain("sandbox of a closed pull request, due 2026-12-05");
    // The home page's "cleanup due today" counts it too, its active appserver included.
    const home = visibleText((await admin.get("/")).text);
    expect(home).toContain("edx-platform PR #12: Better grading · AppServer 1 running sandbox of a closed pull request, due 2026-12-05");
    outcome = await runCleanup(t.deps);
    expect(outcome.failed).toEqual([]);
    expect(outcome.terminated.sort()).toEqual(sandbox.appServers.map((a) => a.id).sort());
    expect(outcome.archived).toEqual([sandbox.id]);
    const after = (await sandboxOf(12))!;
    expect(after.isArchived).toBe(true);
    expect(after.appServers.map((a) => [a.status, a.isActive])).toEqual([["terminated", false], ["terminated", false], ["terminated", false]]);
    // Its page says so, and launches nothing more.
    const page = await admin.get(`/instances/${sandbox.id}`);
    expect(page.text).toMatch(/<h1>[^<]*<span class="badge">archived<\/span><\/h1>/);
    expect(page.text).toContain("Archived instances cannot launch appservers");
    // The other sandboxes, whose pull requests are open, are untouched.
    expect((await sandboxOf(14))!.isArchived).toBe(false);
  });

  it("polling sees a pull request closed while its webhook was missed", async () => {
    t.github.close(REPO, 14);
    const outcome = await pollPullRequests(t.deps);
    expect(outcome.synced.find((s) => s.pullRequest === 14)?.outcome).toBe("closed");
    expect(await sandboxOf(14)).toMatchObject({ pullRequestState: "closed", pullRequestClosedAt: clock });
  });

  it("keeps a pinned appserver of a closed sandbox, and archives the sandbox only once nothing is left", async () => {
    const sandbox = (await sandboxOf(14))!;
    await t.deps.db.appServer.update({ where: { id: sandbox.appServers[0]!.id }, data: { status: "running", isPinned: true } });
    clock = new Date(clock.getTime() + 4 * DAY);
    const outcome = await runCleanup(t.deps);
    expect(outcome.archived).not.toContain(sandbox.id);
    expect((await sandboxOf(14))!.isArchived).toBe(false);
    // Unpinned, it goes at the next run, and the sandbox with it.
    await t.deps.db.appServer.update({ where: { id: sandbox.appServers[0]!.id }, data: { isPinned: false } });
    expect((await runCleanup(t.deps)).archived).toEqual([sandbox.id]);
  });

  it("comments the address the balancer serves the sandbox on, and says 1 day, not 1 days", async () => {
    // HTTPS off (no ACME_DIRECTORY_URL, no certificate): the local balancer answers on http, on LB_HTTP_PORT.
    const lb = await t.deps.db.loadBalancer.create({ data: { name: "local", kind: "local", configPath: "/x", mapPath: "/y", reloadCommand: "", fragmentName: "prlocal" } });
    await t.deps.db.instance.update({ where: { id: templateId }, data: { loadBalancerId: lb.id } });
    await t.deps.db.watchedRepository.update({ where: { id: repoId }, data: { keepDaysAfterClose: 1 } });
    t.github.openPull(REPO, { author: "mia", headRef: "mia/one-day", number: 16 });
    expect(await syncPullRequest(t.deps, { watchedRepositoryId: repoId, pullRequestNumber: 16 })).toBe("created");
    const body = t.github.comments.find((c) => c.number === 16)!.body;
    expect(body).toContain(`answers at http://pr16.lms.acme.test:${t.deps.config.LB_HTTP_PORT} (Studio: http://studio.pr16.lms.acme.test:${t.deps.config.LB_HTTP_PORT})`);
    expect(body).toContain("terminated 1 day later");
    // Once a certificate is served, the same address is HTTPS, on the balancer's HTTPS port.
    const config = { LB_HTTP_PORT: 80, LB_HTTPS_PORT: 443 };
    const certificate = { certificatePem: "-----BEGIN CERTIFICATE-----" };
    expect(siteUrl(config, { loadBalancer: { kind: "local", httpsBind: "" }, certificate }, "pr16.lms.acme.test")).toBe("https://pr16.lms.acme.test");
    expect(siteUrl({ ...config, LB_HTTPS_PORT: 8443 }, { loadBalancer: { kind: "local", httpsBind: "" }, certificate }, "a.test")).toBe("https://a.test:8443");
    expect(siteUrl(config, { loadBalancer: { kind: "ssh", httpsBind: "[::]:4443" }, certificate }, "a.test")).toBe("https://a.test:4443");
    // An ssh balancer without an HTTPS bind serves no certificate, whatever the instance has.
    expect(siteUrl(config, { loadBalancer: { kind: "ssh", httpsBind: "" }, certificate }, "a.test")).toBe("http://a.test");
  });
});

describe("watched repositories without GITHUB_ORG", () => {
  let deps: TestDeps;
  let served: Awaited<ReturnType<typeof serveAs>>;
  beforeAll(async () => {
    deps = await createTestDeps(); // no GitHub app, so no GITHUB_ORG
    served = await serveAs(deps);
  });
  afterAll(async () => {
    await served.close();
    await deps.close();
  });

  it("refuses the organization members rule, saying what to set, and takes a list of logins", async () => {
    expect(deps.config.GITHUB_ORG).toBeUndefined();
    const template = await makeInstance(deps, { name: "Template" });
    const values = { repository: "acme/theme", templateInstanceId: String(template.id), branchField: "configuration", allowedAuthors: "", keepDaysAfterClose: "7", webhookSecret: "" };
    const refused = await served.agent.submit("/admin/watched-repositories/add", { ...values, authors: "org_members" });
    expect(refused.status).toBe(400);
    expect(fieldError(refused.text, "authors")).toBe(
      "GITHUB_ORG is not set, so there is no organization to check authors against: set GITHUB_ORG to the GitHub organization and restart Ocim, or choose the logins listed below.",
    );
    expect(await deps.db.watchedRepository.count()).toBe(0);
    await served.agent.submit("/admin/watched-repositories/add", { ...values, authors: "list", allowedAuthors: "mia" });
    expect(await deps.db.watchedRepository.findFirstOrThrow()).toMatchObject({ owner: "acme", name: "theme", authors: "list", allowedAuthors: ["mia"] });
  });
});
