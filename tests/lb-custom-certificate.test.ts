// A certificate an admin uploads for an instance whose domains cannot use ACME HTTP-01: checked
// with node:crypto (parses, key matches, valid now, names every domain), stored with its key
// sealed, served by the real haproxy of the local balancer (curl verifies it against the test's
// own CA), never renewed by the job, and warned about 30 days before it expires.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { allDomains } from "../src/domain/instances/domains.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { renewCertificates } from "../src/domain/certificates/renew-certificates.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "./helpers/lb.js";
import { serveAs } from "./helpers/app.js";
import { fieldError, visibleText } from "./helpers/browserless.js";
import { createTestCa, type TestCa } from "./helpers/test-ca.js";

const run = promisify(execFile);
const DAY_MS = 86_400_000;

describe("custom uploaded certificates", () => {
  let deps: TestDeps;
  let ca: TestCa;
  let port: number;
  let httpsPort: number;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let app: FakeAppServer;
  let web: Awaited<ReturnType<typeof serveAs>>;
  // The injected clock: the real time (the test CA issues from now on), moved by `shiftMs`.
  let shiftMs = 0;
  const page = `/admin/instances/0/certificate`;
  const formPath = () => page.replace("0", String(site.id));

  const curlHttps = (domain: string) =>
    run("curl", ["-sS", "-i", "--cacert", ca.rootFile, "--resolve", `${domain}:${httpsPort}:127.0.0.1`, `https://${domain}:${httpsPort}/`]);
  const stored = () => deps.db.instanceCertificate.findUnique({ where: { instanceId: site.id } });
  const upload = (certificatePem: string, privateKeyPem: string) => web.agent.submit(formPath(), { certificatePem, privateKeyPem });

  beforeAll(async () => {
    [port, httpsPort] = [await freePort(), await freePort()];
    // ACME is configured (to a directory nobody answers): the renewal job must still leave an uploaded certificate alone.
    deps = await createTestDeps(
      { LB_HTTP_PORT: String(port), LB_HTTPS_PORT: String(httpsPort), HAPROXY_TIMEOUT_SECONDS: "20", ACME_DIRECTORY_URL: `https://127.0.0.1:${await freePort()}/dir` },
      { now: () => new Date(Date.now() + shiftMs) },
    );
    ca = createTestCa();
    lb = await makeLoadBalancer(deps);
    site = await makeInstance(deps, { loadBalancerId: lb.id, externalDomains: ["courses.example.org"] });
    app = await new FakeAppServer("A", basicAuthFor(deps.secrets, site)).start();
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: app.port } } });
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    web = await serveAs(deps);
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await app?.stop();
    await disposeLoadBalancer(lb);
    ca?.dispose();
    await deps?.close();
  });

  it("refuses a key of another certificate, a certificate missing a domain, an expired one and garbage, saying why and changing nothing", async () => {
    const domains = allDomains(site);
    const good = ca.issue(domains);
    const other = ca.issue(domains);

    const wrongKey = await upload(good.chainPem, other.keyPem);
    expect(wrongKey.status).toBe(400);
    expect(fieldError(wrongKey.text, "privateKeyPem")).toMatch(/^This private key does not belong to the certificate for CN=/);
    expect(wrongKey.text).not.toContain(other.keyPem.split("\n")[1]!); // the key is never shown back

    const partial = ca.issue(domains.filter((d) => d !== "courses.example.org" && !d.startsWith("studio.")));
    const missing = await upload(partial.chainPem, partial.keyPem);
    expect(fieldError(missing.text, "certificatePem")).toMatch(new RegExp(`^The certificate does not cover studio\\.${site.internalLmsDomain.replace(/\./g, "\\.")}, courses\\.example\\.org;`));

    const short = ca.issue(domains, { days: 1 });
    shiftMs = 2 * DAY_MS;
    try {
      expect(fieldError((await upload(short.chainPem, short.keyPem)).text, "certificatePem")).toMatch(/^The certificate expired on \d{4}-/);
    } finally {
      shiftMs = 0;
    }

    expect(fieldError((await upload("hello", good.keyPem)).text, "certificatePem")).toBe('No PEM certificate found: it starts with "-----BEGIN CERTIFICATE-----".');
    expect(fieldError((await upload(good.chainPem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")).text, "privateKeyPem")).toMatch(/^This is not a readable PEM private key/);

    expect(await stored()).toBeNull();
    expect(await deps.db.auditEvent.count({ where: { action: "certificate.uploaded" } })).toBe(0);
    await expect(curlHttps(site.internalLmsDomain)).rejects.toThrow(); // still no HTTPS at all
  });

  it("serves an uploaded certificate for every domain, shows who uploaded it, and keeps the key out of pages and the audit", async () => {
    const cert = ca.issue(allDomains(site), { keyType: "rsa" });
    const after = await upload(cert.chainPem, cert.keyPem); // redirected back to the form
    expect(visibleText(after.text)).toContain("The certificate is uploaded and served; it expires");

    for (const domain of allDomains(site)) {
      const { stdout } = await curlHttps(domain);
      expect(stdout).toMatch(/^HTTP\/1\.1 200/);
      expect(stdout).toContain("served by A");
    }
    expect((await lbGet(port, site.studioDomain)).status).toBe(301);

    const row = (await stored())!;
    expect(row).toMatchObject({ source: "custom", uploadedBy: "local-admin", issuer: "Ocim Test CA", lastError: "" });
    expect(row.privateKeyEncrypted).not.toContain("PRIVATE KEY");
    const audit = await deps.db.auditEvent.findFirstOrThrow({ where: { action: "certificate.uploaded" } });
    expect(JSON.stringify(audit.diff)).toContain('"custom"');
    expect(JSON.stringify(audit.diff)).not.toMatch(/PRIVATE KEY|privateKey/);

    const instancePage = visibleText((await web.agent.get(`/instances/${site.id}`)).text);
    expect(instancePage).toContain("valid custom, uploaded by local-admin, for every domain above, issued by Ocim Test CA");
    const balancerPage = await web.agent.get(`/admin/load-balancers/${lb.id}`);
    expect(visibleText(balancerPage.text)).toContain(`${site.name}: custom, uploaded by local-admin, valid, issued by Ocim Test CA, expires ${row.notAfter!.toISOString()}`);
    for (const text of [after.text, balancerPage.text, instancePage]) expect(text).not.toContain(cert.keyPem.split("\n")[1]!);
  }, 60_000);

  it("is never renewed by the job, and warns 30 days before it expires", async () => {
    const row = (await stored())!;
    shiftMs = row.notAfter!.getTime() - 20 * DAY_MS - Date.now();
    try {
      expect(await renewCertificates(deps)).toEqual({ renewed: [], failed: [] });
      expect((await stored())!.certificatePem).toBe(row.certificatePem);
      const instancePage = visibleText((await web.agent.get(`/instances/${site.id}`)).text);
      expect(instancePage).toContain("expires soon nobody renews an uploaded certificate: an admin uploads its successor");
      expect(visibleText((await web.agent.get(`/admin/load-balancers/${lb.id}`)).text)).toContain("expires within 30 days and is not renewed: upload its successor");
    } finally {
      shiftMs = 0;
    }
  });

  it("names on the instance page the domains added since the certificate was uploaded, counting those its wildcard covers", async () => {
    const cert = ca.issue([...allDomains(site), "*.wild.example.org"], { keyType: "rsa" });
    await upload(cert.chainPem, cert.keyPem);
    await deps.db.instance.update({ where: { id: site.id }, data: { externalDomains: { push: ["a.wild.example.org", "new.example.net"] } } });
    const instancePage = visibleText((await web.agent.get(`/instances/${site.id}`)).text);
    expect(instancePage).toContain("valid custom, uploaded by local-admin, for every domain above except those below, issued by Ocim Test CA");
    expect(instancePage).toContain(
      "Not covered not covered new.example.net : added since the certificate was uploaded; upload one that names them. Until then it is served over HTTP only (not redirected to HTTPS, where browsers would refuse the certificate).",
    );
    const { stderr } = await curlHttps("new.example.net").catch((e: { stderr: string }) => e);
    expect(stderr).toContain("no alternative certificate subject name matches target host name 'new.example.net'");
    // So the balancer leaves that domain on HTTP instead of sending it to the refused HTTPS; the
    // domains the certificate names (its wildcard too) are still redirected.
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    const plain = await lbGet(port, "new.example.net");
    expect([plain.status, plain.text]).toEqual([200, "served by A"]);
    expect((await lbGet(port, "a.wild.example.org")).status).toBe(301);
    expect((await lbGet(port, site.internalLmsDomain)).status).toBe(301);
  }, 60_000);
});
