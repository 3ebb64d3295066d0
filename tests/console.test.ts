import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer, removeLoadBalancerFiles } from "./helpers/lb.js";
import { SIDEBAR_LIMIT } from "../src/web/routes/console.js";

/** The sidebar's rows as a person reads them, top to bottom. */
function sidebarRows(html: string): string[] {
  const list = html.match(/<ul class="instance-list">([\s\S]*?)<\/ul>/)?.[1] ?? "";
  return [...list.matchAll(/<li[\s\S]*?<\/li>/g)].map((m) => visibleText(m[0]));
}

function mainText(html: string): string {
  return visibleText(html.match(/<main class="content"[^>]*>([\s\S]*?)<\/main>/)?.[1] ?? "");
}

describe("console", () => {
  let t: TestApp;
  let operator: Agent;
  let admin: Agent;
  beforeAll(async () => {
    // A fixed clock: the appservers' launch times read as "1 day ago" etc. from it.
    t = await startTestApp({}, { now: () => new Date("2026-02-05T12:00:00Z") });
    operator = await t.loginAs("olive");
    admin = await t.loginAs("adam", { admin: true });
  });
  afterAll(() => t.close());

  describe("empty", () => {
    it("greets an operator with an empty state and no admin link", async () => {
      const page = await operator.get("/");
      expect(page.status).toBe(200);
      expect(mainText(page.text)).toContain("No instances yet");
      expect(mainText(page.text)).toContain("Ask an admin to add the first instance.");
      expect(page.text).not.toContain("/admin/instances/add");
    });

    it("offers an admin the link to add an instance", async () => {
      const page = await admin.get("/");
      expect(mainText(page.text)).toContain("No instances yet");
      expect(page.text).toContain('href="/admin/instances/add"');
    });

    it("says when every instance is archived, with the way to see them", async () => {
      const archived = await makeInstance(t.deps, { name: "Old Site", isArchived: true });
      const page = await operator.get("/");
      expect(mainText(page.text)).toContain("All 1 instances are archived.");
      expect(page.text).toContain('href="/?archived=1"');
      await t.deps.db.instance.delete({ where: { id: archived.id } });
    });
  });

  describe("instance list", () => {
    let alpha: Awaited<ReturnType<typeof makeInstance>>;
    beforeAll(async () => {
      alpha = await makeInstance(t.deps, { name: "Alpha University", internalLmsDomain: "alpha.example.test" });
      await makeAppServer(t.deps, alpha.id, { status: "running", isActive: true, createdAt: new Date("2026-01-01T10:00:00Z") });
      await makeAppServer(t.deps, alpha.id, { status: "configuring", createdAt: new Date("2026-01-02T10:00:00Z") });
      const beta = await makeInstance(t.deps, { name: "Beta College", internalLmsDomain: "beta.example.test", externalDomains: ["courses.beta-college.org"] });
      await makeAppServer(t.deps, beta.id, { status: "failed", createdAt: new Date("2026-01-03T10:00:00Z") });
      await makeInstance(t.deps, { name: "Charlie Academy", internalLmsDomain: "charlie.example.test" });
      await makeInstance(t.deps, { name: "Delta Archive", internalLmsDomain: "delta.example.test", isArchived: true });
    });

    it("lists instances by name with their LMS domain, active count and newest appserver's status", async () => {
      const rows = sidebarRows((await operator.get("/")).text);
      expect(rows).toEqual([
        "Alpha University 1 active configuring alpha.example.test",
        "Beta College 0 active failed beta.example.test",
        "Charlie Academy 0 active none charlie.example.test",
      ]);
    });

    it("hides archived instances unless 'show archived' is ticked", async () => {
      const page = await operator.get("/?archived=1");
      expect(sidebarRows(page.text)).toContain("Delta Archive 0 active none delta.example.test · archived");
      expect(page.text).toMatch(/name="archived" value="1" data-autosubmit checked/);
    });

    it("searches the name and every domain, ignoring case", async () => {
      const names = async (q: string, extra = "") =>
        sidebarRows((await operator.get(`/?q=${encodeURIComponent(q)}${extra}`)).text).map((r) => r.split(" ")[0]);
      expect(await names("ALPHA")).toEqual(["Alpha"]);
      expect(await names("studio.beta")).toEqual(["Beta"]);
      expect(await names("Beta-College.ORG")).toEqual(["Beta"]);
      expect(await names("academy")).toEqual(["Charlie"]);
      expect(await names("archive")).toEqual([]);
      expect(await names("archive", "&archived=1")).toEqual(["Delta"]);
    });

    it("finds an instance by a domain added later, and no longer by one removed", async () => {
      const names = async (q: string) => sidebarRows((await operator.get(`/?q=${encodeURIComponent(q)}`)).text).map((r) => r.split(" ")[0]);
      await t.deps.db.instance.update({ where: { id: alpha.id }, data: { externalDomains: ["Learn.Alpha-Online.org"] } });
      expect(await names("alpha-online")).toEqual(["Alpha"]);
      await t.deps.db.instance.update({ where: { id: alpha.id }, data: { externalDomains: [] } });
      expect(await names("alpha-online")).toEqual([]);
    });

    it("treats % and _ in the search as plain characters", async () => {
      const page = await operator.get("/?q=%25");
      expect(sidebarRows(page.text)).toEqual([]);
      expect(visibleText(page.text)).toContain("No instance matches “%”.");
    });

    it("keeps the search in the links to instances", async () => {
      const page = await operator.get("/?q=alpha&archived=1");
      expect(page.text).toContain(`href="/instances/${alpha.id}?q=alpha&amp;archived=1"`);
      expect(visibleText(page.text)).toContain("1 instance matching “alpha”");
    });

    it("refuses a search that is too long or a bad archived value, with a message", async () => {
      const long = await operator.get(`/?q=${"x".repeat(201)}`);
      expect(long.status).toBe(400);
      expect(visibleText(long.text)).toContain("q: at most 200 characters");
      const bad = await operator.get("/?archived=yes");
      expect(bad.status).toBe(400);
      expect(visibleText(bad.text)).toContain("use archived=1 to show archived instances");
    });

    it(`shows ${SIDEBAR_LIMIT} by name per page, with the way to the next page, the search kept`, async () => {
      await t.deps.db.instance.createMany({
        data: Array.from({ length: SIDEBAR_LIMIT + 3 }, (_, i) => {
          const domain = `bulk${i}.example.test`;
          return {
            name: `Bulk ${String(i).padStart(3, "0")}`, slug: `bulk-${i}`, internalLmsDomain: domain,
            studioDomain: `studio.${domain}`, previewDomain: `preview.${domain}`, ecommerceDomain: `ecommerce.${domain}`,
            discoveryDomain: `discovery.${domain}`, appsDomain: `apps.${domain}`, edxPlatformRepoUrl: "r", edxPlatformBranch: "b",
            configurationRepoUrl: "r", configurationBranch: "b", playbookPath: "p", openedxRelease: "o", secretKeyEncrypted: "x",
          };
        }),
      });
      const page = await operator.get("/?q=bulk");
      const rows = sidebarRows(page.text);
      expect(rows).toHaveLength(SIDEBAR_LIMIT);
      expect(rows[0]).toMatch(/^Bulk 000 /);
      expect(rows.at(-1)).toMatch(new RegExp(`^Bulk ${String(SIDEBAR_LIMIT - 1).padStart(3, "0")} `));
      expect(visibleText(page.text)).toContain(`${SIDEBAR_LIMIT + 3} instances matching “bulk”`);
      expect(visibleText(page.text)).toContain(`1–${SIDEBAR_LIMIT} of ${SIDEBAR_LIMIT + 3} Next ›`);
      const next = page.text.match(/<a rel="next" href="([^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
      expect(next).toBe("/?q=bulk&page=2");
      const second = await operator.get(next!);
      expect(sidebarRows(second.text).map((r) => r.split(" ").slice(0, 2).join(" "))).toEqual(["Bulk 100", "Bulk 101", "Bulk 102"]);
      expect(visibleText(second.text)).toContain(`‹ Previous ${SIDEBAR_LIMIT + 1}–${SIDEBAR_LIMIT + 3} of ${SIDEBAR_LIMIT + 3}`);
      expect(second.text).not.toContain('rel="next"');
      // Without a search too: every instance is reachable, page by page.
      const all = await operator.get("/?page=2");
      expect(sidebarRows(all.text).length).toBeGreaterThan(0);
      expect(visibleText(all.text)).toMatch(/‹ Previous 101–\d+ of \d+/);
      const bad = await operator.get("/?page=0");
      expect(bad.status).toBe(400);
      expect(visibleText(bad.text)).toContain("page: pages start at 1");
      await t.deps.db.instance.deleteMany({ where: { name: { startsWith: "Bulk " } } });
    });

    it("sorts by name whatever the case of its letters", async () => {
      const lower = await makeInstance(t.deps, { name: "aardvark college", internalLmsDomain: "aardvark.example.test" });
      const upper = await makeInstance(t.deps, { name: "BETA Lab", internalLmsDomain: "beta-lab.example.test" });
      const names = sidebarRows((await operator.get("/")).text).map((r) => r.split(" ").slice(0, 2).join(" "));
      expect(names).toEqual(["aardvark college", "Alpha University", "Beta College", "BETA Lab", "Charlie Academy"]);
      await t.deps.db.instance.deleteMany({ where: { id: { in: [lower.id, upper.id] } } });
    });

    it("filters by state: failing, provisioning, no active appserver, keeping the search in the links", async () => {
      const names = async (query: string) => sidebarRows((await operator.get(`/?${query}`)).text).map((r) => r.split(" ")[0]);
      expect(await names("state=failing")).toEqual(["Beta"]);
      expect(await names("state=provisioning")).toEqual(["Alpha"]);
      expect(await names("state=no-active")).toEqual(["Beta", "Charlie"]);
      expect(await names("state=no-active&q=charlie")).toEqual(["Charlie"]);
      expect(await names("state=failing&q=alpha")).toEqual([]);
      const page = await operator.get("/?state=no-active&q=a");
      expect(visibleText(page.text)).toContain("2 instances matching “a” · No active appserver");
      expect(page.text).toContain(`href="/?q=a&amp;state=failing"`);
      expect(page.text).toMatch(/<a href="\/\?q=a&amp;state=no-active" aria-current="true">No active appserver<\/a>/);
      expect(visibleText((await operator.get("/?state=failing&q=alpha")).text)).toContain("No instance matches “alpha”.");
      const bad = await operator.get("/?state=broken");
      expect(bad.status).toBe(400);
      expect(visibleText(bad.text)).toContain("state: one of failing, provisioning, no-active");
    });

    it("escapes what an instance's name contains", async () => {
      const odd = await makeInstance(t.deps, { name: "<script>alert(1)</script> Odd" });
      const page = await operator.get("/?q=odd");
      expect(page.text).not.toContain("<script>alert(1)</script>");
      expect(sidebarRows(page.text)[0]).toContain("<script>alert(1)</script> Odd");
      await t.deps.db.instance.delete({ where: { id: odd.id } });
    });
  });

  describe("instance page", () => {
    let site: Awaited<ReturnType<typeof makeInstance>>;
    beforeAll(async () => {
      const lb = await t.deps.db.loadBalancer.create({
        data: { name: "haproxy-eu-1", configPath: "/etc/haproxy/haproxy.cfg", mapPath: "/etc/haproxy/ocim.map", reloadCommand: "true", fragmentName: "eu1" },
      });
      site = await makeInstance(t.deps, {
        name: "Echo Institute", internalLmsDomain: "echo.example.test", externalDomains: ["learn.echo.org"],
        edxPlatformRepoUrl: "https://github.com/echo/edx-platform.git", edxPlatformBranch: "echo/main",
        configurationBranch: "echo/config", playbookPath: "playbooks/echo.yml", openedxRelease: "sumac.1",
        extraAnsibleVars: "# site tweaks\nEDXAPP_PLATFORM_NAME: Echo\nEDXAPP_EMAIL_HOST_PASSWORD: hunter2-secret\n",
        appserverCount: 2, loadBalancerId: lb.id,
        pullRequestUrl: "https://github.com/echo/edx-platform/pull/42", pullRequestNumber: 42, pullRequestState: "open",
      });
      const olive = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "olive" } });
      await makeAppServer(t.deps, site.id, { status: "terminated", vmStatus: "terminated", createdAt: new Date("2026-02-01T08:00:00Z") });
      await makeAppServer(t.deps, site.id, {
        status: "running", vmStatus: "ready", isActive: true, publicIp: "10.0.0.7", createdById: olive.id, createdByLogin: olive.githubLogin, createdAt: new Date("2026-02-03T09:30:00Z"), lastActivatedAt: new Date("2026-02-03T11:00:00Z"),
      });
      await makeAppServer(t.deps, site.id, { status: "failed", vmStatus: "ready", publicIp: "10.0.0.8", createdAt: new Date("2026-02-04T12:00:00Z") });
    });

    it("shows every domain and setting read-only, with secrets in the variables masked", async () => {
      const page = await operator.get(`/instances/${site.id}`);
      expect(page.status).toBe(200);
      const text = mainText(page.text);
      for (const domain of ["echo.example.test", "studio.echo.example.test", "preview.echo.example.test", "ecommerce.echo.example.test",
        "discovery.echo.example.test", "apps.echo.example.test", "External learn.echo.org"]) expect(text).toContain(domain);
      expect(text).toContain("edx-platform https://github.com/echo/edx-platform.git @ echo/main");
      expect(text).toContain("@ echo/config");
      expect(text).toContain("Playbook playbooks/echo.yml");
      expect(text).toContain("Open edX release sumac.1");
      expect(text).toContain("AppServer count 2");
      expect(text).toContain("Load balancer haproxy-eu-1");
      expect(text).toContain("Pull request https://github.com/echo/edx-platform/pull/42 (#42) open");
      expect(text).toContain("EDXAPP_PLATFORM_NAME: Echo");
      expect(text).toContain("EDXAPP_EMAIL_HOST_PASSWORD: ••••••");
      expect(page.text).not.toContain("hunter2-secret");
    });

    it("lists its appservers newest first, each linking to its page", async () => {
      const page = await operator.get(`/instances/${site.id}`);
      const rows = [...page.text.matchAll(/<tr>\s*<td><a href="\/instances\/\d+\/appservers\/(\d+)">[\s\S]*?<\/tr>/g)].map((m) => visibleText(m[0]));
      expect(rows).toEqual([
        "AppServer 3 failed — ready 10.0.0.8 1 day ago —",
        "AppServer 2 running serving traffic since 2026-02-03 11:00 UTC ready 10.0.0.7 2 days ago olive",
        "AppServer 1 terminated — terminated — 4 days ago —",
      ]);
      expect(mainText(page.text)).toContain("3 total, 1 active");
    });

    it("says the active appserver shows the maintenance page while the site is in maintenance", async () => {
      await t.deps.db.instance.update({ where: { id: site.id }, data: { maintenanceSince: new Date("2026-02-05T09:00:00Z"), maintenanceBy: "olive" } });
      try {
        const page = await operator.get(`/instances/${site.id}`);
        const row = visibleText(page.text.match(/<tr>\s*<td><a href="\/instances\/\d+\/appservers\/2">[\s\S]*?<\/tr>/)![0]);
        expect(row).toContain("AppServer 2 running active (maintenance page shown)");
        expect(row).not.toContain("serving traffic");
        // Activated during maintenance, it has never served: leaving sends the domains to it, not "again".
        const leave = visibleText(page.text.match(/<dialog id="confirm-instances-\d+-decommission-maintenance-off"[\s\S]*?<\/p>/)![0]);
        expect(leave).toBe("The load balancer sends the domains to AppServer 2; the maintenance page goes away.");
      } finally {
        await t.deps.db.instance.update({ where: { id: site.id }, data: { maintenanceSince: null, maintenanceBy: null } });
      }
    });

    it("has the launch button, posting a form with the security token", async () => {
      const page = await operator.get(`/instances/${site.id}`);
      expect(page.text).toMatch(new RegExp(`<form method="post" action="/instances/${site.id}/launch" class="inline">\\s*<input type="hidden" name="_csrf" value="[^"]+">`));
      expect(visibleText(page.text)).toContain("Launch new AppServer");
    });

    it("links admins, and only admins, to the admin form", async () => {
      const link = `href="/admin/instances/${site.id}"`;
      expect((await admin.get(`/instances/${site.id}`)).text).toContain(link);
      expect((await operator.get(`/instances/${site.id}`)).text).not.toContain(link);
    });

    it("marks the instance as selected in the list", async () => {
      const page = await operator.get(`/instances/${site.id}?q=echo`);
      expect(page.text).toContain(`<li class="selected"><a href="/instances/${site.id}?q=echo" aria-current="page">`);
    });

    it("answers an unknown or malformed id with the 404 page", async () => {
      for (const id of ["999999", "abc", "0", "12abc", "99999999999", "-1"]) {
        const page = await operator.get(`/instances/${id}`);
        expect(page.status, id).toBe(404);
        expect(visibleText(page.text), id).toContain("Instance not found.");
      }
    });

    it("sends a visitor who is not logged in to the login page", async () => {
      const res = await t.agent().get(`/instances/${site.id}`, { follow: false });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`/login?next=%2Finstances%2F${site.id}`);
    });
  });
});

describe("console with the sidebar reused (SIDEBAR_CACHE_MS)", () => {
  let t: TestApp;
  let operator: Agent;
  // A clock that stands still until the test moves it: "within the interval" holds however slow
  // the machine is, and no test waits for real time to pass.
  let clock = Date.now();
  beforeAll(async () => {
    // Admin pages of five rows (the least), so that a list fills its page (its count is shared only then).
    t = await startTestApp({ SIDEBAR_CACHE_MS: "1500", ADMIN_PAGE_SIZE: "5" }, { now: () => new Date(clock) });
    operator = await t.loginAs("olive");
  });
  afterAll(() => t.close());

  it("shows the list it read within the interval, a new instance after it, and a search at once", async () => {
    const first = await makeInstance(t.deps, { name: "Echo First", internalLmsDomain: "echo-first.example.test" });
    const names = async (path: string) => sidebarRows((await operator.get(path)).text).map((r) => r.split(" ").slice(0, 2).join(" "));
    clock += 1600; // what the login's redirect read is out of date now
    expect(await names("/")).toEqual(["Echo First"]);
    const second = await makeInstance(t.deps, { name: "Echo Second", internalLmsDomain: "echo-second.example.test" });
    // The same list on every page within the interval, for everyone...
    expect(await names("/")).toEqual(["Echo First"]);
    expect(await names(`/instances/${first.id}`)).toEqual(["Echo First"]);
    // ...but the page's own content and a search are read each time.
    expect(mainText((await operator.get(`/instances/${second.id}`)).text)).toContain("echo-second.example.test");
    expect(await names("/?q=echo")).toEqual(["Echo First", "Echo Second"]);
    clock += 1499;
    expect(await names("/")).toEqual(["Echo First"]); // the interval's last millisecond
    clock += 1;
    expect(await names("/")).toEqual(["Echo First", "Echo Second"]);
  });

  /** The admin's appserver list filtered by `status`: its count ("2 appservers") and its rows' names. */
  const appServerList = async (admin: Agent, status: string) => {
    const html = (await admin.get(`/admin/app-servers?status=${status}`)).text;
    return { count: visibleText(html.match(/<span class="muted result-count">([^<]*)<\/span>/)![1]!), rows: [...html.matchAll(/<td><a href="\/admin\/app-servers\/\d+">([^<]+)<\/a><\/td>/g)].map((m) => m[1]) };
  };

  it("shows an admin list's count as read within the interval on a full page, by filter, and its rows as they are", async () => {
    const admin = await t.loginAs("root", { admin: true });
    const site = await makeInstance(t.deps, { name: "Golf" });
    const list = (status: string) => appServerList(admin, status);
    const make = async (n: number, status: "failed" | "error") => { for (let i = 0; i < n; i++) await makeAppServer(t.deps, site.id, { status }); };
    // "AppServer 7" … "AppServer 3": the list's order, newest first.
    const named = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => `AppServer ${from - i}`);
    await make(5, "failed");
    clock += 1500;
    expect(await list("failed")).toEqual({ count: "5 appservers", rows: named(5, 1) });
    await make(1, "failed");
    await make(1, "error");
    clock += 1499;
    // A full page: the count read 1,499 ms ago, the rows read now; another filter's page, not full, says its count itself.
    expect(await list("failed")).toEqual({ count: "5 appservers", rows: named(6, 2) });
    expect(await list("error")).toEqual({ count: "1 appserver", rows: ["AppServer 7"] });
    await make(5, "error");
    // Within the interval again, but this filter's count was never read (its page was not full): counted now.
    expect(await list("error")).toEqual({ count: "6 appservers", rows: named(12, 8) });
    clock += 1;
    expect(await list("failed")).toEqual({ count: "6 appservers", rows: named(6, 2) });
  });

  it("shows the rows and the count that go together on a page that is not full, right after an add and a delete", async () => {
    const admin = await t.loginAs("root", { admin: true });
    const site = await makeInstance(t.deps, { name: "Kilo" });
    const list = () => appServerList(admin, "configuring");
    const one = await makeAppServer(t.deps, site.id, { status: "configuring" });
    clock += 1500;
    expect(await list()).toEqual({ count: "1 appserver", rows: ["AppServer 1"] });
    await t.deps.db.appServer.delete({ where: { id: one.id } });
    expect(await list()).toEqual({ count: "0 appservers", rows: [] });
    await makeAppServer(t.deps, site.id, { status: "configuring" });
    expect(await list()).toEqual({ count: "1 appserver", rows: ["AppServer 1"] }); // the name is free again
  });

  it("shows the fleet home's panels as read within the interval, like the sidebar", async () => {
    const launches = async () => {
      const html = (await operator.get("/")).text;
      const section = html.match(/<section class="panel fleet-panel" aria-labelledby="fleet-launches">([\s\S]*?)<\/section>/);
      return visibleText(section?.[1] ?? "(no panel)");
    };
    const site = await makeInstance(t.deps, { name: "Foxtrot" });
    clock += 1500;
    expect(await launches()).not.toContain("Foxtrot");
    await makeAppServer(t.deps, site.id, { status: "waiting", createdAt: new Date(clock) });
    clock += 1499;
    expect(await launches()).not.toContain("Foxtrot"); // read 1,499 ms ago: shared
    clock += 1;
    expect(await launches()).toContain("Foxtrot · AppServer 1 waiting");
  });

  it("offers the admin list's tag choices as read within the interval", async () => {
    const admin = await t.loginAs("root", { admin: true });
    const tagChoices = async () => [...(await admin.get("/admin/instances")).text.matchAll(/href="\/admin\/instances\?tag=([^"&]+)"/g)].map((m) => m[1]);
    await makeInstance(t.deps, { name: "Golf", tags: ["pilot"] });
    clock += 1500;
    expect(await tagChoices()).toEqual(["pilot"]);
    await makeInstance(t.deps, { name: "Hotel", tags: ["customer-x"] });
    clock += 1499;
    expect(await tagChoices()).toEqual(["pilot"]);
    clock += 1;
    expect(await tagChoices()).toEqual(["customer-x", "pilot"]);
  });

  it("serves a user as read within the interval: a demotion and a deactivation take effect at its end", async () => {
    const quinn = await t.loginAs("quinn", { admin: true });
    clock += 1500; // the login's own pages read quinn before the role was set
    expect((await quinn.get("/admin/instances")).status).toBe(200);
    await t.deps.db.user.update({ where: { githubLogin: "quinn" }, data: { role: "operator" } });
    clock += 1499;
    expect((await quinn.get("/admin/instances")).status).toBe(200); // read 1,499 ms ago: shared
    clock += 1;
    expect((await quinn.get("/admin/instances")).status).toBe(403);
    await t.deps.db.user.update({ where: { githubLogin: "quinn" }, data: { isActive: false } });
    clock += 1499;
    expect((await quinn.get("/", { follow: false })).status).toBe(200);
    clock += 1;
    const refused = await quinn.get("/", { follow: false });
    expect(refused.status).toBe(302);
    expect(refused.headers.get("location")).toBe("/login");
  });

  it("offers a form's choices as read within the interval, and the object's own values as they are now", async () => {
    const admin = await t.loginAs("root", { admin: true });
    const site = await makeInstance(t.deps, { name: "India" });
    const form = async () => {
      const html = (await admin.get(`/admin/instances/${site.id}`)).text;
      const select = html.match(/<select[^>]*name="loadBalancerId"[\s\S]*?<\/select>/)?.[0] ?? "(no select)";
      return { balancers: [...select.matchAll(/<option value="\d+"[^>]*>([^<]*)</g)].map((m) => m[1]), name: html.match(/name="name"[^>]*value="([^"]*)"/)?.[1] };
    };
    clock += 1500;
    const before = (await form()).balancers;
    const added = await makeLoadBalancer(t.deps, { name: "Juliett balancer" });
    await t.deps.db.instance.update({ where: { id: site.id }, data: { name: "India renamed" } });
    clock += 1499;
    expect(await form()).toEqual({ balancers: before, name: "India renamed" });
    clock += 1;
    expect((await form()).balancers).toContain(added.name);
    removeLoadBalancerFiles(added);
  });
});
