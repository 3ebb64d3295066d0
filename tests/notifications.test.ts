// Notifications end to end: channels set in the admin form, events recorded where they happen (a
// real launch that fails on the local provider, activation and termination from the console, a
// balancer apply that fails, the daily check), sent by the real worker to a real SMTP server
// (smtp-server) and an HTTP receiver, with BullMQ's retries and backoff.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeLoadBalancer, disposeLoadBalancer } from "./helpers/lb.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { SmtpSink, WebhookReceiver } from "./helpers/notify-receivers.js";
import { waitFor } from "./helpers/wait.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { createDemoInstance } from "../src/domain/instances/create-demo-instance.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { notifyDaily } from "../src/domain/notifications/notify-daily.js";
import { freePort } from "../src/embedded/processes.js";
import { createLogger } from "../src/logger.js";
import { deliverNotification } from "../src/domain/notifications/deliver-notification.js";
import { NotifySendError } from "../src/adapters/notify/port.js";

const DAY = 86_400_000;

describe("notifications", () => {
  let vms: LocalVms;
  let t: TestApp;
  let workers: RunningWorkers;
  let smtp: SmtpSink;
  let admin: Agent;
  let skewMs = 0;
  const now = () => new Date(Date.now() + skewMs);
  // What the worker writes to the server log (job.failed with its error and stack).
  const logLines: string[] = [];

  beforeAll(async () => {
    vms = await localVms();
    smtp = await new SmtpSink().start();
    t = await startTestApp(
      // Retries 0.2 s, 0.4 s apart: the real backoff, shortened.
      { ...vms.env, SMTP_URL: smtp.url, NOTIFY_FROM: "ocim@example.org", NOTIFY_ATTEMPTS: "3", NOTIFY_RETRY_SECONDS: "0.2", NOTIFY_TIMEOUT_SECONDS: "5", OUTBOX_SWEEP_SECONDS: "0.5" },
      { now, log: createLogger("info", {}, { write: (line: string) => void logLines.push(line) }) },
    );
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    admin = await t.loginAs("ada", { admin: true });
  });
  afterAll(async () => {
    await workers?.close();
    await smtp?.stop();
    await t?.close();
    await vms?.cleanup();
  });

  /** Adds a channel through the admin form, as an admin does; answers the page. */
  async function addChannel(form: Record<string, string | string[]>) {
    const res = await admin.submit("/admin/notification-channels/add", { enabled: "true", _save: "continue", ...form });
    return { status: res.status, text: visibleText(res.text), url: res.url };
  }
  async function channelId(name: string) {
    return (await t.deps.db.notificationChannel.findUniqueOrThrow({ where: { name } })).id;
  }
  const delivery = (channel: number, status: "sent" | "failed") =>
    waitFor(`a ${status} delivery to channel ${channel}`, async () => (await t.deps.db.notificationDelivery.findFirst({ where: { channelId: channel, status } })) ?? undefined, 60_000, 50);

  it("refuses bad input in the admin form with a message next to the field, and saves nothing", async () => {
    const badUrl = await addChannel({ name: "ops hook", kind: "webhook", target: "hooks.example.com/ocim", events: ["launch.failed"] });
    expect(badUrl.status).toBe(400);
    expect(badUrl.text).toContain('"hooks.example.com/ocim" is not a web address: enter the full URL the webhook posts to, starting with https:// (or http:// for a receiver on your own network)');
    expect(badUrl.text).toContain("Nothing was saved.");
    const badEmail = await addChannel({ name: "ops mail", kind: "email", target: "ops@example.org\nbob@", events: ["launch.failed"] });
    expect(badEmail.status).toBe(400);
    expect(badEmail.text).toContain('"bob@" is not an email address (like ops@example.com); enter one address per line.');
    const noEvents = await addChannel({ name: "ops mail", kind: "email", target: "ops@example.org" });
    expect(noEvents.status).toBe(400);
    expect(noEvents.text).toContain("Choose at least one event, or the channel never receives anything.");
    const slackMail = await addChannel({ name: "ops mail", kind: "email", target: "ops@example.org", events: ["launch.failed"], slackFormat: "true" });
    expect(slackMail.text).toContain("The Slack format is for webhooks; an email channel sends plain text.");
    const unknownEvent = await addChannel({ name: "ops mail", kind: "email", target: "ops@example.org", events: ["launch.failed", "everything"] });
    expect(unknownEvent.text).toContain('"everything" is not an event Ocim sends');
    // fetch refuses a URL with credentials on every delivery, and its error repeats the whole URL.
    const credentials = await addChannel({ name: "ops hook", kind: "webhook", target: "http://user:pw@127.0.0.1:1/x/secret?t=1", events: ["launch.failed"] });
    expect(credentials.status).toBe(400);
    expect(credentials.text).toContain("Remove the user name and password (the part before @): a webhook URL cannot carry them, Ocim never sends them. Put the receiver's token where the receiver gives it, in the URL's path or query (as Slack's incoming webhooks do), or set a signing secret below to have each POST signed.");
    // A channel of one instance never gets a balancer's event: with only those it would never receive anything.
    const inst = await makeInstance(t.deps);
    const fleetOnly = await addChannel({ name: "lb of one", kind: "webhook", target: "https://hooks.example.com/lb", instanceId: String(inst.id), events: ["balancer.apply_failed"] });
    expect(fleetOnly.status).toBe(400);
    expect(fleetOnly.text).toContain('A channel of one instance never receives "A load balancer apply failed" (balancer.apply_failed): it has no instance, so only fleet-wide channels get it. Choose an event of the instance as well, or "All instances (fleet-wide)" as the instance.');
    expect(await t.deps.db.notificationChannel.count()).toBe(0);
    expect(await t.deps.db.auditEvent.count({ where: { subjectType: "NotificationChannel" } })).toBe(0);
  });

  it("emails a failed launch with the failing task and a link to the appserver", async () => {
    const saved = await addChannel({ name: "ops mail", kind: "email", target: "Ops@Example.org\nlead@example.org", events: ["launch.failed", "launch.succeeded"] });
    expect(saved.status).toBe(200);
    expect(saved.text).toContain('The notification channel "ops mail" was added.');
    const channel = await channelId("ops mail");
    const demo = await createDemoInstance(t.deps, { actor: { id: null, login: "tester" } });
    await t.deps.db.instance.update({ where: { id: demo.id }, data: { extraAnsibleVars: `${demo.extraAnsibleVars}DEMO_FAIL: true\n` } });
    await launchAppServer(t.deps, { instanceId: demo.id, actor: { id: null, login: "tester" } });
    const mail = await waitFor("the email", async () => smtp.mails.find((m) => m.subject.includes("Launch failed")), 180_000, 200);
    expect(mail.from).toBe("ocim@example.org");
    expect(mail.to).toEqual(["ops@example.org", "lead@example.org"]);
    expect(mail.subject).toBe(`[Ocim] Launch failed: ${demo.name} / AppServer 1`);
    expect(mail.text).toContain('Task "Fail on purpose (DEMO_FAIL)" failed: DEMO_FAIL is set');
    expect(mail.text).toContain(`${t.url}/instances/${demo.id}/appservers/1`);
    expect(smtp.mails.filter((m) => m.subject.includes("Launch succeeded"))).toEqual([]);
    const page = visibleText((await admin.get(`/admin/notification-channels/${channel}`)).text);
    expect(page).toMatch(/launch\.failed\s+Launch failed: .* \/ AppServer 1\s+sent\s+1 attempt/);
  }, 240_000);

  it("retries a webhook that answers 500 twice: delivered on the 3rd attempt, signed, and the log says so", async () => {
    const hook = await new WebhookReceiver([500, 500]).start();
    try {
      await addChannel({ name: "fleet hook", kind: "webhook", target: hook.url("/ocim?token=s3cret"), events: ["appserver.terminated"], secret: "hook-signing-key" });
      const channel = await channelId("fleet hook");
      const inst = await makeInstance(t.deps);
      const as = await makeAppServer(t.deps, inst.id, { status: "failed" });
      const operator = await t.loginAs("oscar");
      const res = await operator.submit(`/appservers/${as.id}/terminate`, {}, `/appservers/${as.id}`);
      expect(res.status).toBe(200);
      const sent = await delivery(channel, "sent");
      expect(sent).toMatchObject({ attempts: 3, event: "appserver.terminated" });
      expect(sent.lastError).toContain("answered 500: receiver is having a bad day");
      // The URL's query (a token) never shows in the log.
      expect(sent.lastError).not.toContain("s3cret");
      expect(hook.posts.map((p) => p.status)).toEqual([500, 500, 200]);
      const last = hook.posts[2]!;
      expect(last.headers["x-ocim-signature"]).toBe(`sha256=${createHmac("sha256", "hook-signing-key").update(last.body).digest("hex")}`);
      expect(JSON.parse(last.body)).toMatchObject({
        event: "appserver.terminated", instance: { id: inst.id, name: inst.name }, appserver: { id: as.id, name: as.name },
        message: `${inst.name} / ${as.name} was terminated by oscar; its VM is being deleted.`, url: `${t.url}/instances/${inst.id}/appservers/${as.number}`,
      });
      const page = await admin.get(`/admin/notification-channels/${channel}`);
      const text = visibleText(page.text);
      expect(text).toMatch(/appserver\.terminated\s+Terminated: .*\s+sent\s+3 attempts/);
      expect(text).toContain("answered 500");
      // The secret is never shown back.
      expect(page.text).not.toContain("hook-signing-key");
      expect(text).toContain("Signing secret set (encrypted)");
    } finally {
      await hook.stop();
    }
  });

  it("activates at once while the receiver is down; the delivery fails after its retries, in the log", async () => {
    const deadPort = await freePort();
    await addChannel({ name: "dead hook", kind: "webhook", target: `http://127.0.0.1:${deadPort}/hook`, events: ["appserver.activated"] });
    const channel = await channelId("dead hook");
    const inst = await makeInstance(t.deps);
    const app = await new FakeAppServer("A", basicAuthFor(t.deps.secrets, inst)).start();
    try {
      const as = await makeAppServer(t.deps, inst.id, { status: "running", publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: app.port } } });
      const operator = await t.loginAs("oscar");
      const res = await operator.submit(`/appservers/${as.id}/activate`, {}, `/appservers/${as.id}`);
      expect(res.status).toBe(200);
      expect(visibleText(res.text)).toContain("Activated");
      expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).isActive).toBe(true);
      const failed = await delivery(channel, "failed");
      expect(failed.attempts).toBe(3);
      expect(failed.lastError).toContain("ECONNREFUSED");
      const text = visibleText((await admin.get(`/admin/notification-channels/${channel}`)).text);
      expect(text).toMatch(/appserver\.activated\s+Activated: .*\s+failed\s+3 attempts/);
    } finally {
      await app.stop();
    }
  });

  it("sends a per-instance channel only its instance's events, a fleet-wide one every instance's, in Slack's format when asked", async () => {
    const mine = await makeInstance(t.deps);
    const other = await makeInstance(t.deps);
    const perInstance = await new WebhookReceiver().start();
    const fleet = await new WebhookReceiver().start();
    try {
      await addChannel({ name: "mine only", kind: "webhook", target: perInstance.url(), instanceId: String(mine.id), events: ["appserver.terminated"], slackFormat: "true" });
      await addChannel({ name: "everyone", kind: "webhook", target: fleet.url(), events: ["appserver.terminated"] });
      const operator = await t.loginAs("oscar");
      for (const inst of [mine, other]) {
        const as = await makeAppServer(t.deps, inst.id, { status: "failed" });
        await operator.submit(`/appservers/${as.id}/terminate`, {}, `/appservers/${as.id}`);
      }
      await waitFor("both fleet-wide posts", async () => fleet.posts.length === 2, 30_000, 50);
      await waitFor("the per-instance post", async () => perInstance.posts.length >= 1, 30_000, 50);
      // Everything queued has been sent by now: the per-instance channel got its one, and no other.
      await waitFor("no pending delivery", async () => (await t.deps.db.notificationDelivery.count({ where: { status: "pending" } })) === 0, 30_000, 50);
      expect(fleet.json().map((b) => (b.instance as { name: string }).name).sort()).toEqual([mine.name, other.name].sort());
      expect(perInstance.posts).toHaveLength(1);
      const slack = perInstance.json<{ text: string }>()[0]!;
      expect(Object.keys(slack)).toEqual(["text"]);
      expect(slack.text).toContain(`*Terminated: ${mine.name} / AppServer 1*`);
      expect(slack.text).toContain(`<${t.url}/instances/${mine.id}/appservers/1|Open in Ocim>`);
    } finally {
      await perInstance.stop();
      await fleet.stop();
    }
  });

  it("tells fleet-wide channels of a failed balancer apply once, not at every retry of the same failure", async () => {
    const hook = await new WebhookReceiver().start();
    const first = await makeLoadBalancer(t.deps);
    const second = await makeLoadBalancer(t.deps);
    try {
      await addChannel({ name: "lb hook", kind: "webhook", target: hook.url(), events: ["balancer.apply_failed"] });
      // Two local balancers cannot both listen on LB_HTTP_PORT: the apply is refused before touching anything.
      for (let i = 0; i < 2; i++) await expect(applyLoadBalancer(t.deps, { loadBalancerId: second.id, force: true })).rejects.toThrow("Only one local load balancer");
      await waitFor("the post", async () => hook.posts.length >= 1, 30_000, 50);
      await waitFor("no pending delivery", async () => (await t.deps.db.notificationDelivery.count({ where: { status: "pending" } })) === 0, 30_000, 50);
      expect(hook.posts).toHaveLength(1);
      expect(hook.json()[0]).toMatchObject({ event: "balancer.apply_failed", instance: null, url: `${t.url}/admin/load-balancers/${second.id}` });
      expect(hook.json()[0]!.message).toContain(`Applying load balancer ${second.name} failed; its previous configuration stays in place.`);
    } finally {
      await hook.stop();
      await disposeLoadBalancer(first);
      await disposeLoadBalancer(second);
    }
  });

  it("the daily check tells of certificates about to expire and of what the cleanup removes within a day", async () => {
    const hook = await new WebhookReceiver().start();
    try {
      await addChannel({ name: "daily hook", kind: "webhook", target: hook.url(), events: ["certificate.expiring", "cleanup.tomorrow"] });
      const site = await makeInstance(t.deps);
      await t.deps.db.instanceCertificate.create({ data: { instanceId: site.id, certificatePem: "-----BEGIN CERTIFICATE-----", notAfter: new Date(now().getTime() + 10 * DAY + 3_600_000), lastError: "urn:ietf:params:acme:error:connection: timeout during connect" } });
      const fresh = await makeInstance(t.deps);
      await t.deps.db.instanceCertificate.create({ data: { instanceId: fresh.id, certificatePem: "-----BEGIN CERTIFICATE-----", notAfter: new Date(now().getTime() + 60 * DAY) } });
      // Failed 6.5 days ago: the cleanup (CLEANUP_FAILED_DAYS = 7) takes it within a day, not today.
      const old = await makeAppServer(t.deps, site.id, { status: "failed", createdAt: new Date(now().getTime() - 6.5 * DAY) });
      const young = await makeAppServer(t.deps, fresh.id, { status: "failed", createdAt: new Date(now().getTime() - 2 * DAY) });
      expect(await notifyDaily(t.deps)).toEqual({ certificates: 1, cleanup: 1 });
      await waitFor("two posts", async () => hook.posts.length >= 2, 30_000, 50);
      const byEvent = Object.fromEntries(hook.json<{ event: string; message: string; url: string }>().map((b) => [b.event, b]));
      expect(byEvent["certificate.expiring"]!.message).toBe(`The HTTPS certificate of ${site.name} expires on ${new Date(now().getTime() + 10 * DAY + 3_600_000).toISOString().slice(0, 10)} (in 10 days). Ocim could not renew it: urn:ietf:params:acme:error:connection: timeout during connect`);
      expect(byEvent["cleanup.tomorrow"]!.message).toContain(`- ${old.name} (failed)`);
      expect(byEvent["cleanup.tomorrow"]!.message).not.toContain(fresh.name);
      expect(byEvent["cleanup.tomorrow"]!.url).toBe(`${t.url}/cleanup`);
      void young;
      // Five days later, the young one is due within a day too (the clock moved, nothing slept).
      skewMs = 5 * DAY;
      hook.posts.length = 0;
      await notifyDaily(t.deps);
      await waitFor("the next day's posts", async () => hook.json<{ event: string }>().filter((b) => b.event === "cleanup.tomorrow").length === 2, 30_000, 50);
      expect(hook.json<{ event: string; message: string }>().filter((b) => b.event === "cleanup.tomorrow").map((b) => b.message).join("\n")).toContain(fresh.name);
    } finally {
      skewMs = 0;
      await hook.stop();
    }
  });

  it("sends a test notification from the channel's page", async () => {
    const hook = await new WebhookReceiver().start();
    try {
      await addChannel({ name: "test hook", kind: "webhook", target: hook.url(), events: ["launch.failed"] });
      const channel = await channelId("test hook");
      const res = await admin.submit(`/admin/notification-channels/${channel}/test`, {}, `/admin/notification-channels/${channel}`);
      expect(visibleText(res.text)).toContain("A test notification to test hook is queued");
      await waitFor("the test post", async () => hook.posts.length === 1, 30_000, 50);
      expect(hook.json()[0]).toMatchObject({ event: "test", subject: "Test notification to test hook", url: `${t.url}/admin/notification-channels/${channel}` });
      await delivery(channel, "sent");
      expect(visibleText((await admin.get(`/admin/notification-channels/${channel}`)).text)).toMatch(/test\s+Test notification to test hook\s+sent\s+1 attempt/);
    } finally {
      await hook.stop();
    }
  });
  it("sends a test to a disabled channel, as it is how a channel is tried before it is enabled, and says so", async () => {
    const hook = await new WebhookReceiver().start();
    try {
      await addChannel({ name: "off hook", kind: "webhook", target: hook.url(), events: ["appserver.terminated"], enabled: "false" });
      const channel = await channelId("off hook");
      expect((await t.deps.db.notificationChannel.findUniqueOrThrow({ where: { id: channel } })).enabled).toBe(false);
      const res = await admin.submit(`/admin/notification-channels/${channel}/test`, {}, `/admin/notification-channels/${channel}`);
      expect(visibleText(res.text)).toContain("A test notification to off hook is queued; its outcome shows in the delivery log below (reload the page). The channel is disabled: a test is sent all the same, its events are not until it is enabled.");
      await waitFor("the test post", async () => hook.posts.length === 1, 30_000, 50);
      expect(hook.json()[0]).toMatchObject({ event: "test", subject: "Test notification to off hook" });
      expect(await delivery(channel, "sent")).toMatchObject({ attempts: 1, lastError: "" });
      // Its events are still not sent while it is disabled.
      const inst = await makeInstance(t.deps);
      const as = await makeAppServer(t.deps, inst.id, { status: "failed" });
      await (await t.loginAs("oscar")).submit(`/appservers/${as.id}/terminate`, {}, `/appservers/${as.id}`);
      expect(await t.deps.db.notificationDelivery.count({ where: { channelId: channel } })).toBe(1);
    } finally {
      await hook.stop();
    }
  });

  it("refuses a name that differs from another channel's only by case; a channel may change the case of its own", async () => {
    const form = { kind: "webhook", target: "https://hooks.example.com/case", events: ["launch.failed"] };
    expect((await addChannel({ name: "Case hook", ...form })).status).toBe(200);
    const again = await addChannel({ name: "case HOOK", ...form });
    expect(again.status).toBe(400);
    expect(again.text).toContain('Another notification channel is named "Case hook": names must differ by more than upper or lower case.');
    expect(await t.deps.db.notificationChannel.count({ where: { name: { equals: "case hook", mode: "insensitive" } } })).toBe(1);
    const id = await channelId("Case hook");
    const renamed = await admin.submit(`/admin/notification-channels/${id}`, { name: "CASE Hook", enabled: "true", _save: "continue", ...form });
    expect(renamed.status).toBe(200);
    expect((await t.deps.db.notificationChannel.findUniqueOrThrow({ where: { id } })).name).toBe("CASE Hook");
  });

  it("fails a URL fetch never sends to at the first attempt, not retried, and no error, delivery log or log line shows the URL's secret", async () => {
    // Saved before the form refused credentials (the form refuses them now: see the first test).
    const withCredentials = (await t.deps.db.notificationChannel.create({
      data: { name: "legacy credentials", kind: "webhook", target: "http://user:pw@127.0.0.1:1/x/secret?t=1", events: ["launch.failed"] },
    })).id;
    // Port 1 is one of the Fetch standard's "bad ports": fetch refuses it before connecting, every time.
    await addChannel({ name: "bad port", kind: "webhook", target: "http://127.0.0.1:1/x/secret?t=1", events: ["launch.failed"] });
    const badPort = await channelId("bad port");
    for (const id of [withCredentials, badPort]) await admin.submit(`/admin/notification-channels/${id}/test`, {}, `/admin/notification-channels/${id}`);

    const credentialsFailed = await delivery(withCredentials, "failed");
    expect(credentialsFailed.attempts).toBe(1);
    expect(credentialsFailed.lastError).toBe("The webhook URL http://127.0.0.1:1/•••••• has a user name or password before its host, which is never sent: edit the channel, and put the receiver's token where it gives it (in the URL's path or query, as Slack's do) or set a signing secret.");
    const portFailed = await delivery(badPort, "failed");
    expect(portFailed.attempts).toBe(1);
    expect(portFailed.lastError).toBe('POST http://127.0.0.1:1/•••••• is refused before connecting: port 1 is one of the ports fetch never sends HTTP to (the Fetch standard\'s "bad ports"); use another port.');

    const jobIds = [credentialsFailed.id, portFailed.id].map((d) => `notify-${d}`);
    type Line = { msg: string; jobId?: string; final?: boolean; err?: { message: string; stack: string } };
    const failures = () => logLines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === "job.failed" && jobIds.includes(l.jobId ?? ""));
    await waitFor("the two job.failed lines", async () => failures().length === 2, 10_000, 50);
    // Each logged once, as final (not retried), with the error as recorded on the delivery.
    expect(failures().map((l) => l.final)).toEqual([true, true]);
    expect(failures().map((l) => l.err!.message).sort()).toEqual([credentialsFailed.lastError, portFailed.lastError].sort());
    for (const id of [withCredentials, badPort]) {
      // The delivery log panel (the edit form above it shows the URL to the admin editing it).
      const page = visibleText((await admin.get(`/admin/notification-channels/${id}`)).text);
      const log = page.slice(page.indexOf("Delivery log"));
      expect(log).toContain("http://127.0.0.1:1/••••••");
      for (const secret of ["user:pw", "pw@", "/x/secret", "secret?", "t=1"]) expect(log).not.toContain(secret);
    }
    const logged = logLines.join("\n");
    for (const secret of ["user:pw", "pw@", "/x/secret", "t=1"]) expect(logged).not.toContain(secret);
  });

  it("masks the channel's URL in whatever a send throws, where the error is recorded and in the error the worker logs", async () => {
    const url = "https://hooks.example.com/services/T1/B2/XXXXSLACKSECRET?token=qwerty123";
    const channel = (await t.deps.db.notificationChannel.create({ data: { name: "raw errors", kind: "webhook", target: url, events: ["launch.failed"] } })).id;
    const attempt = async (error: Error) => {
      const { id } = await t.deps.db.notificationDelivery.create({ data: { channelId: channel, event: "test", subject: "s", message: "m" } });
      const notify = { sendEmail: async () => {}, postWebhook: async () => { throw error; } };
      const thrown = await deliverNotification({ ...t.deps, notify }, { deliveryId: id, lastAttempt: false }).then(() => null, (e: Error & { code: string }) => e);
      return { thrown: thrown!, row: await t.deps.db.notificationDelivery.findUniqueOrThrow({ where: { id } }) };
    };
    // A bug or a library that repeats the whole URL, and a receiver that echoes its path and token.
    const raw = await attempt(new Error(`socket hang up posting to ${url}: Cannot POST /services/T1/B2/XXXXSLACKSECRET (token qwerty123)`));
    const masked = "Unexpected error: socket hang up posting to https://hooks.example.com/••••••: Cannot POST •••••• (token ••••••)";
    expect(raw.row).toMatchObject({ status: "pending", attempts: 1, lastError: masked });
    expect(raw.thrown).toMatchObject({ code: "unavailable", message: masked });
    const permanent = await attempt(new NotifySendError(`POST ${url} answered 404: no_service XXXXSLACKSECRET`, false));
    expect(permanent.row).toMatchObject({ status: "failed", attempts: 1, lastError: "POST https://hooks.example.com/•••••• answered 404: no_service ••••••" });
    expect(permanent.thrown).toMatchObject({ code: "rule" });
    for (const { thrown, row } of [raw, permanent]) {
      for (const text of [thrown.stack!, JSON.stringify(thrown), row.lastError]) {
        for (const secret of ["XXXXSLACKSECRET", "qwerty123", "/services/", "token="]) expect(text).not.toContain(secret);
      }
    }
  });

  it("keeps a webhook URL's secret out of audit events and History: its origin and ••••••, '(changed)' when only the secret changed", async () => {
    const slack = "https://hooks.slack.com/services/T1/B2/XXXXSLACKSECRET";
    const form = { name: "slack audit", kind: "webhook", events: ["launch.failed"], enabled: "true", _save: "continue" };
    await addChannel({ ...form, target: `${slack}?token=tok3n`, secret: "sign-me" });
    const id = await channelId("slack audit");
    await admin.submit(`/admin/notification-channels/${id}`, { ...form, target: "https://hooks.slack.com/services/T1/B2/YYYYOTHERSECRET" });
    await admin.submit(`/admin/notification-channels/${id}`, { ...form, target: "https://other.example.com/" });
    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "NotificationChannel", subjectId: String(id) }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.action, (e.diff as Record<string, unknown>).target])).toEqual([
      ["notification_channel.created", [null, "https://hooks.slack.com/••••••"]],
      ["notification_channel.updated", ["https://hooks.slack.com/••••••", "https://hooks.slack.com/•••••• (changed)"]],
      ["notification_channel.updated", ["https://hooks.slack.com/••••••", "https://other.example.com/"]],
    ]);
    expect(events[0]!.diff).toMatchObject({ secret: [null, "•••••• (new)"] });
    const secrets = ["XXXXSLACKSECRET", "YYYYOTHERSECRET", "tok3n", "/services/", "sign-me"];
    const history = await admin.get(`/admin/notification-channels/${id}/history`);
    expect(visibleText(history.text)).toContain("https://hooks.slack.com/•••••• (changed)");
    const detail = await admin.get(`/admin/audit-events/${events[1]!.id}`);
    expect(visibleText(detail.text)).toContain("https://hooks.slack.com/•••••• (changed)");
    const list = await admin.get("/admin/audit-events?type=NotificationChannel");
    for (const page of [history, detail, list]) for (const secret of secrets) expect(page.text).not.toContain(secret);
    // Nobody but an admin sees a channel, its History or the audit events.
    const operator = await t.loginAs("oscar");
    for (const path of [`/admin/notification-channels/${id}`, `/admin/notification-channels/${id}/history`, `/admin/audit-events/${events[1]!.id}`, "/admin/audit-events"]) {
      const res = await operator.get(path);
      expect(res.status).toBe(403);
      for (const secret of [...secrets, "other.example.com"]) expect(res.text).not.toContain(secret);
    }
    // The deletion's event names the origin only too.
    await admin.submit(`/admin/notification-channels/${id}`, { ...form, target: slack });
    const del = await admin.submit(`/admin/notification-channels/${id}/delete`, { confirm: "yes" }, `/admin/notification-channels/${id}/delete`);
    expect(del.status).toBe(200);
    const deleted = await t.deps.db.auditEvent.findFirstOrThrow({ where: { subjectType: "NotificationChannel", subjectId: String(id), action: "notification_channel.deleted" } });
    expect(deleted.diff).toEqual({ name: ["slack audit", null], kind: ["webhook", null], target: ["https://hooks.slack.com/••••••", null] });
    const all = JSON.stringify(await t.deps.db.auditEvent.findMany({ where: { subjectType: "NotificationChannel" } }));
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
