// HTTPS at the balancer, for real: Debian's pebble (Let's Encrypt's test CA) validates HTTP-01
// challenges by fetching them through the haproxy Ocim runs, issues a certificate for every domain
// of the instance, and curl, trusting only pebble's root, reaches the appserver over HTTPS.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { allDomains } from "../src/domain/instances/domains.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { issueCertificate } from "../src/domain/certificates/issue-certificate.js";
import { renewCertificates } from "../src/domain/certificates/renew-certificates.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "./helpers/lb.js";
import { startPebble, type Pebble } from "./helpers/pebble.js";
import { serveAs } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";

const run = promisify(execFile);
const DAY_MS = 86_400_000;

describe("HTTPS for every instance, with certificates from ACME", () => {
  let deps: TestDeps;
  let pebble: Pebble;
  let port: number;
  let httpsPort: number;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let app: FakeAppServer;
  let clock = new Date();
  let dir: string;
  let rootFile: string;

  /** curl over HTTPS to one of the site's domains, trusting pebble's root only. */
  const curlHttps = (domain: string, extra: string[] = []) =>
    run("curl", ["-sS", "-i", "--cacert", rootFile, "--resolve", `${domain}:${httpsPort}:127.0.0.1`, ...extra, `https://${domain}:${httpsPort}/`]);
  /** The serial number of the certificate the balancer presents for `domain`. */
  const servedSerial = (domain: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: httpsPort, servername: domain, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.end();
      });
      socket.on("error", reject);
    });

  beforeAll(async () => {
    [port, httpsPort] = [await freePort(), await freePort()];
    pebble = await startPebble({ httpPort: port });
    deps = await createTestDeps(
      { LB_HTTP_PORT: String(port), LB_HTTPS_PORT: String(httpsPort), HAPROXY_TIMEOUT_SECONDS: "20", ACME_DIRECTORY_URL: pebble.directoryUrl, ACME_CA_FILE: pebble.caFile, ACME_EMAIL: "ops@example.org" },
      { now: () => clock },
    );
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-https-"));
    rootFile = path.join(dir, "root.pem");
    writeFileSync(rootFile, await pebble.rootPem());
    lb = await makeLoadBalancer(deps);
    site = await makeInstance(deps, { loadBalancerId: lb.id, externalDomains: ["courses.example.org"] });
    app = await new FakeAppServer("A", basicAuthFor(deps.secrets, site)).start();
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: app.port } } });
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await disposeLoadBalancer(lb);
    await pebble?.stop();
    await deps?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("issues a certificate for every domain through the balancer, serves HTTPS with it and redirects HTTP", async () => {
    // Before: plain HTTP reaches the site, nothing listens for TLS.
    expect((await lbGet(port, site.internalLmsDomain)).status).toBe(200);

    const result = await issueCertificate(deps, { instanceId: site.id });
    expect(result).toMatchObject({ ok: true });

    for (const domain of allDomains(site)) {
      const { stdout } = await curlHttps(domain);
      expect(stdout).toMatch(/^HTTP\/1\.1 200/);
      expect(stdout).toContain("served by A");
    }
    const { stdout } = await curlHttps(site.internalLmsDomain);
    expect(stdout).toMatch(/^set-cookie: OCIMSRV=[^;]+; path=\/; HttpOnly; Secure/im);
    expect(app.pageRequests().at(-1)!.forwardedProto).toEqual(["https"]);

    const http = await lbGet(port, site.studioDomain, { path: "/courses?x=1" });
    expect(http.status).toBe(301);
    expect(http.headers.location).toBe(`https://${site.studioDomain}/courses?x=1`);

    const row = await deps.db.instanceCertificate.findUniqueOrThrow({ where: { instanceId: site.id } });
    expect(row.issuer).toMatch(/^Pebble Intermediate CA /);
    expect(row.lastError).toBe("");
    expect(row.privateKeyEncrypted).not.toContain("PRIVATE KEY");
    expect(row.domains).toEqual(allDomains(site));

    // What an operator sees: the instance page and the balancer page, never the key.
    const web = await serveAs(deps);
    try {
      const page = visibleText((await web.agent.get(`/instances/${site.id}`)).text);
      expect(page).toMatch(/HTTPS Certificate valid for every domain above, issued by Pebble Intermediate CA [0-9a-f]+ Expires/);
      expect(page).toContain(`Expires ${row.notAfter!.toISOString().slice(0, 10)}`);
      const balancer = await web.agent.get(`/admin/load-balancers/${lb.id}`);
      expect(visibleText(balancer.text)).toContain(`${site.name}: valid, issued by Pebble Intermediate CA`);
      expect(balancer.text).not.toContain("PRIVATE KEY");
    } finally {
      await web.close();
    }
  }, 120_000);

  it("records why an order failed and shows it on the instance page, changing nothing else", async () => {
    const stray = await makeInstance(deps); // on no balancer: nothing can answer the challenge
    const result = await issueCertificate(deps, { instanceId: stray.id });
    expect(result).toEqual({ ok: false, error: "The instance has no load balancer to answer the ACME challenge." });
    const web = await serveAs(deps);
    try {
      const page = visibleText((await web.agent.get(`/instances/${stray.id}`)).text);
      expect(page).toContain("None yet: the domains are served over HTTP only.");
      expect(page).toContain("Last order failed error The instance has no load balancer to answer the ACME challenge.");
    } finally {
      await web.close();
    }
  });

  it("renews a certificate once the clock passes 30 days before it expires, and serves the new one", async () => {
    const before = await deps.db.instanceCertificate.findUniqueOrThrow({ where: { instanceId: site.id } });
    const servedBefore = await servedSerial(site.internalLmsDomain);
    clock = new Date(before.notAfter!.getTime() - 31 * DAY_MS);
    expect(await renewCertificates(deps)).toEqual({ renewed: [], failed: [] });

    clock = new Date(before.notAfter!.getTime() - 29 * DAY_MS);
    expect(await renewCertificates(deps)).toEqual({ renewed: [site.id], failed: [] });
    const after = await deps.db.instanceCertificate.findUniqueOrThrow({ where: { instanceId: site.id } });
    expect(after.certificatePem).not.toBe(before.certificatePem);
    expect(after.lastAttemptAt).toEqual(clock);
    expect(await servedSerial(site.internalLmsDomain)).not.toBe(servedBefore);
    expect((await curlHttps(site.previewDomain)).stdout).toContain("served by A");
  }, 120_000);
});
