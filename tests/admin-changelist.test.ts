// The generic change list (on instances and the read-only models), bulk delete, and who may enter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer, removeLoadBalancerFiles } from "./helpers/lb.js";
import { instanceAdmin } from "../src/web/admin/models/instances.js";
import { appServerAdmin } from "../src/web/admin/models/app-servers.js";
import type { AdminModel } from "../src/web/admin/types.js";
import { loadChangeList, parseListQuery } from "../src/web/admin/change-list.js";
import { ADMIN_MODELS, modelBySlug } from "../src/web/admin/registry.js";

/** The names in the first column of the change list, in order. */
function names(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/admin\/instances\/\d+">([^<]+)<\/a><\/td>/g)].map((m) => m[1]!);
}

describe("admin: change lists", () => {
  let t: TestApp;
  let admin: Agent;

  beforeAll(async () => {
    t = await startTestApp({ ADMIN_PAGE_SIZE: "5" });
    admin = await t.loginAs("root", { admin: true });
    // 12 instances: Site 01 … Site 12; every third archived; Site 07 has an external domain.
    for (let n = 1; n <= 12; n++) {
      const nn = String(n).padStart(2, "0");
      await makeInstance(t.deps, {
        name: `Site ${nn}`, slug: `site-${nn}`, internalLmsDomain: `lms.site${nn}.test`,
        isArchived: n % 3 === 0, providerKind: n > 10 ? "openstack" : "local",
        externalDomains: n === 7 ? ["courses.seven.org"] : [],
      });
    }
  });
  afterAll(() => t.close());

  it("pages through the list, sorted by name, with the count and page links", async () => {
    const first = await admin.get("/admin/instances");
    expect(names(first.text)).toEqual(["Site 01", "Site 02", "Site 03", "Site 04", "Site 05"]);
    expect(visibleText(first.text)).toContain("12 instances");
    expect(visibleText(first.text)).toContain("Page 1 of 3");
    const third = await admin.get("/admin/instances?p=3");
    expect(names(third.text)).toEqual(["Site 11", "Site 12"]);
    expect(third.text).toContain('href="/admin/instances?p=2" rel="prev"');
  });

  it("counts each model on the admin's index as its change list does", async () => {
    const index = visibleText((await admin.get("/admin")).text);
    expect(index).toMatch(/Instances\s.*\s12\s+\+ Add/);
  });

  it("sorts by a clicked column header, both ways, and links the header to the other direction", async () => {
    const desc = await admin.get("/admin/instances?o=-name");
    expect(names(desc.text)).toEqual(["Site 12", "Site 11", "Site 10", "Site 09", "Site 08"]);
    expect(desc.text).toContain('href="/admin/instances?o=name"');
    const byDomain = await admin.get("/admin/instances?o=internalLmsDomain&p=2");
    expect(names(byDomain.text)).toEqual(["Site 06", "Site 07", "Site 08", "Site 09", "Site 10"]);
    // Page links keep the order.
    expect(byDomain.text).toContain('href="/admin/instances?o=internalLmsDomain&amp;p=3"');
  });

  it("searches names and every domain, including external ones", async () => {
    expect(names((await admin.get("/admin/instances?q=SITE 1")).text)).toEqual(["Site 10", "Site 11", "Site 12"]);
    expect(names((await admin.get("/admin/instances?q=lms.site04")).text)).toEqual(["Site 04"]);
    expect(names((await admin.get("/admin/instances?q=courses.seven.org")).text)).toEqual(["Site 07"]);
    const none = await admin.get("/admin/instances?q=nothing-like-this");
    expect(visibleText(none.text)).toContain("No instances match.");
  });

  it("searches accents and case aside, as the list sorts: ÉPSILON, épsilon and epsilon find Épsilon", async () => {
    const made = [
      await makeInstance(t.deps, { name: "Épsilon", slug: "epsilon", internalLmsDomain: "lms.epsilon.test" }),
      await makeInstance(t.deps, { name: "Ñandú", slug: "nandu", internalLmsDomain: "lms.nandu.test", externalDomains: ["cours.école.test"] }),
    ];
    for (const q of ["ÉPSILON", "épsilon", "epsilon", "Epsi"]) expect(names((await admin.get(`/admin/instances?q=${encodeURIComponent(q)}`)).text), q).toEqual(["Épsilon"]);
    for (const q of ["ñandú", "NANDU", "ÉCOLE"]) expect(names((await admin.get(`/admin/instances?q=${encodeURIComponent(q)}`)).text), q).toEqual(["Ñandú"]);
    await t.deps.db.instance.deleteMany({ where: { id: { in: made.map((i) => i.id) } } });
  });

  it("filters, combined with search and sort", async () => {
    const archived = await admin.get("/admin/instances?archived=yes");
    expect(names(archived.text)).toEqual(["Site 03", "Site 06", "Site 09", "Site 12"]);
    expect(archived.text).toMatch(/<a class="current" href="\/admin\/instances\?archived=yes">Yes<\/a>/);
    const mixed = await admin.get("/admin/instances?archived=no&provider=openstack&o=-name");
    expect(names(mixed.text)).toEqual(["Site 11"]);
    const searched = await admin.get("/admin/instances?q=site 0&archived=no&p=2");
    // Site 01, 02, 04, 05, 07 on page 1, then Site 08.
    expect(names(searched.text)).toEqual(["Site 08"]);
  });

  it("answers a malformed list query with 400 and a page past the end with 404", async () => {
    const cases: [string, number, string][] = [
      ["/admin/instances?o=secretKeyEncrypted", 400, 'The instances cannot be sorted by "secretKeyEncrypted".'],
      ["/admin/instances?p=abc", 400, '"abc" is not a page number.'],
      ["/admin/instances?p=0", 400, '"0" is not a page number.'],
      ["/admin/instances?archived=sometimes", 400, '"sometimes" is not one of the choices of the filter "Archived".'],
      ["/admin/instances?q=a&q=b", 400, 'The parameter "q" was given more than once.'],
      [`/admin/instances?q=${"x".repeat(201)}`, 400, "The search text is too long (at most 200 characters)."],
      ["/admin/instances?p=4", 404, "Page 4 does not exist: there are 3 pages."],
      ["/admin/nothing-here", 404, 'The admin has no section "nothing-here".'],
    ];
    for (const [path, status, message] of cases) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(status);
      expect(visibleText(res.text), path).toContain(message);
    }
  });

  it("bulk-deletes a selection after a confirmation page, and refuses one that includes a live instance", async () => {
    const a = await makeInstance(t.deps, { name: "Bulk A" });
    const b = await makeInstance(t.deps, { name: "Bulk B" });
    const live = await makeInstance(t.deps, { name: "Bulk Live" });
    await makeAppServer(t.deps, live.id, { status: "running" });

    const blocked = await admin.submit("/admin/instances/bulk", { action: "delete", ids: [String(a.id), String(live.id)] }, "/admin/instances");
    expect(blocked.status).toBe(200);
    expect(visibleText(blocked.text)).toContain("This cannot be deleted now.");
    expect(visibleText(blocked.text)).toContain("AppServer 1 (running)");
    expect(blocked.text).not.toContain("Yes, delete");

    const confirm = await admin.submit("/admin/instances/bulk", { action: "delete", ids: [String(a.id), String(b.id)] }, "/admin/instances");
    const text = visibleText(confirm.text);
    expect(text).toContain("Delete 2 instances?");
    expect(text).toContain("Instance: Bulk A");
    expect(text).toContain("Instance: Bulk B");
    expect(await t.deps.db.instance.count({ where: { name: { startsWith: "Bulk" } } })).toBe(3);

    const done = await admin.submit("/admin/instances/bulk", { action: "delete", confirm: "yes", ids: [String(a.id), String(b.id)] }, "/admin/instances");
    expect(visibleText(done.text)).toContain("Deleted 2 instances.");
    expect((await t.deps.db.instance.findMany({ where: { name: { startsWith: "Bulk" } } })).map((i) => i.name)).toEqual(["Bulk Live"]);
    expect(await t.deps.db.auditEvent.count({ where: { action: "instance.deleted" } })).toBe(2);

    const bogus = await admin.submit("/admin/instances/bulk", { action: "delete", ids: ["1 OR 1=1"] }, "/admin/instances");
    expect(bogus.status).toBe(400);
  });

  it("answers Go with nothing selected with the same list, its query kept, and the message above it, as Django's admin does", async () => {
    const from = "/admin/instances?archived=no&o=-name&p=2";
    const list = await admin.get(from);
    // The list's action form posts with the list's query, so the way back leads to the same rows.
    expect(list.text).toContain('<form method="post" action="/admin/instances/bulk?archived=no&amp;o=-name&amp;p=2" class="bulk-form">');
    const before = await t.deps.db.instance.count();
    const empty = await admin.submit("/admin/instances/bulk?archived=no&o=-name&p=2", { action: "delete" }, from);
    expect(empty.status).toBe(200);
    expect(new URL(empty.url).pathname + new URL(empty.url).search).toBe(from);
    expect(visibleText(empty.text)).toContain("Select at least one instance first; nothing was changed.");
    expect(names(empty.text)).toEqual(names(list.text));
    expect(await t.deps.db.instance.count()).toBe(before);
    // Every model with bulk actions goes through the same form and handler.
    for (const model of ADMIN_MODELS.filter((m) => m.remove)) {
      const res = await admin.submit(`/admin/${model.slug}/bulk`, { action: "delete" }, `/admin/${model.slug}`);
      expect(res.status, model.slug).toBe(200);
      expect(new URL(res.url).pathname, model.slug).toBe(`/admin/${model.slug}`);
      expect(visibleText(res.text), model.slug).toContain(`Select at least one ${model.name.toLowerCase()} first; nothing was changed.`);
    }
  });

  it("keeps the list's query from the confirmation page, back to its first page once deleted", async () => {
    const ids = [String((await makeInstance(t.deps, { name: "Site 98 going" })).id), String((await makeInstance(t.deps, { name: "Site 99 going" })).id)];
    const confirm = await admin.submit("/admin/instances/bulk?archived=no&o=-name&p=2", { action: "delete", ids }, "/admin/instances");
    expect(confirm.text).toContain('<form method="post" action="/admin/instances/bulk?archived=no&amp;o=-name&amp;p=2" class="form-actions">');
    expect(confirm.text).toContain('href="/admin/instances?archived=no&amp;o=-name&amp;p=2">No, go back</a>');
    const done = await admin.submit("/admin/instances/bulk?archived=no&o=-name&p=2", { action: "delete", confirm: "yes", ids }, "/admin/instances");
    expect(new URL(done.url).search).toBe("?archived=no&o=-name");
    expect(visibleText(done.text)).toContain("Deleted 2 instances.");
  });

  it("lists appservers and audit events read-only, with their filters", async () => {
    const site = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Site 01" } });
    const server = await makeAppServer(t.deps, site.id, { status: "failed", failureSummary: "TASK [x] fatal" });
    // The instance's row (Name, LMS domain, Provider, Recipe, Load balancer, Appserver count, PR)
    // shows its appserver count setting, as the Django admin does, not how many appservers it has.
    await t.deps.db.instance.update({ where: { id: site.id }, data: { appserverCount: 3 } });
    expect(visibleText((await admin.get("/admin/instances?q=lms.site01.test")).text)).toContain("Site 01 lms.site01.test local custom — 3 —");
    const lb = await makeLoadBalancer(t.deps, { name: "Edge One" });
    await t.deps.db.instance.update({ where: { id: site.id }, data: { loadBalancerId: lb.id, appserverCount: 1 } });
    expect(visibleText((await admin.get("/admin/instances?q=lms.site01.test")).text)).toContain("Site 01 lms.site01.test local custom Edge One 1 —");
    await t.deps.db.instance.update({ where: { id: site.id }, data: { loadBalancerId: null } });
    await t.deps.db.loadBalancer.delete({ where: { id: lb.id } });
    removeLoadBalancerFiles(lb);
    const list = await admin.get("/admin/app-servers?status=failed");
    expect(visibleText(list.text)).toContain("AppServer 1 Site 01 failed");
    expect(list.text).not.toContain("Add appserver");
    const detail = await admin.get(`/admin/app-servers/${server.id}`);
    expect(visibleText(detail.text)).toContain("Failure summary TASK [x] fatal");
    expect((await admin.submit(`/admin/app-servers/${server.id}`, {}, `/admin/app-servers/${server.id}`)).status).toBe(400);
    expect((await admin.get("/admin/app-servers/add")).status).toBe(400);

    await admin.submit(`/admin/instances/${site.id}`, { name: "Site 01 renamed", internalLmsDomain: site.internalLmsDomain, appserverCount: "1" }, `/admin/instances/${site.id}`);
    const events = await admin.get("/admin/audit-events?type=Instance&action=instance.updated");
    const text = visibleText(events.text);
    expect(text).toContain("1 audit event");
    expect(text).toContain("root Instance settings changed Instance Site 01 renamed Name, Recipe");
    const byUser = visibleText((await admin.get("/admin/audit-events?type=User")).text);
    expect(byUser).toContain("User added at first login User root");
    expect(byUser).not.toContain("Instance Site 01 renamed");
    // The search finds an action by the words the list shows, as well as by its code.
    for (const q of ["Settings CHANGED", "instance.updated"]) {
      const found = visibleText((await admin.get(`/admin/audit-events?q=${encodeURIComponent(q)}`)).text);
      expect(found).toContain("1 audit event");
      expect(found).toContain("root Instance settings changed Instance Site 01 renamed Name, Recipe");
    }
    expect(visibleText((await admin.get("/admin/audit-events?q=added%20at%20first")).text)).toContain("User added at first login User root");
  });

  it("refuses operators on every admin URL with 403, and sends visitors to log in", async () => {
    const operator = await t.loginAs("olga");
    const site = await t.deps.db.instance.findFirstOrThrow();
    const paths = ["/admin", "/admin/instances", "/admin/instances/add", `/admin/instances/${site.id}`, `/admin/instances/${site.id}/history`,
      `/admin/instances/${site.id}/delete`, "/admin/users", "/admin/audit-events", "/admin/no-such-model"];
    for (const path of paths) {
      const res = await operator.get(path);
      expect(res.status, path).toBe(403);
      expect(visibleText(res.text)).toContain("Only admins may use the admin area.");
    }
    const before = await t.deps.db.instance.count();
    const post = await operator.submit("/admin/instances/add", { name: "Sneaky", internalLmsDomain: "sneaky.test" }, "/");
    expect(post.status).toBe(403);
    const del = await operator.submit(`/admin/instances/${site.id}/delete`, {}, "/");
    expect(del.status).toBe(403);
    expect(await t.deps.db.instance.count()).toBe(before);
    const visitor = await t.agent().get("/admin/instances", { follow: false });
    expect(visitor.status).toBe(302);
    expect(visitor.headers.get("location")).toBe("/login?next=%2Fadmin%2Finstances");
  });
});

/** Each query's list (rows, cells, count, or the error) is the same through the model's raw page as through the generic fetch. */
async function expectSameAsGeneric(t: TestApp, model: AdminModel, queries: Record<string, string>[]): Promise<void> {
  const generic = { ...model, list: { ...model.list, page: undefined } };
  for (const raw of queries) {
    const view = (m: AdminModel) => loadChangeList(t.deps, m, parseListQuery(m, raw)).then(
      (list) => ({ total: list.total, pages: list.pages, rows: list.rows.map((r) => [r.id, ...r.cells.map((c) => (c instanceof Date ? c.toISOString() : c))]) }),
      (err: Error) => ({ error: err.message }),
    );
    const [single, twoQueries] = [await view(model), await view(generic)];
    expect(single, JSON.stringify(raw)).toEqual(twoQueries);
  }
}

describe("the instance change list's single query", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_PAGE_SIZE: "5" });
    const lb = await makeLoadBalancer(t.deps, { name: "Edge Two" });
    // Names that sort differently by case, equal update times, PRs, balancers, archived ones, appserver counts.
    for (let n = 1; n <= 14; n++) {
      const nn = String(n).padStart(2, "0");
      await makeInstance(t.deps, {
        name: n % 4 === 0 ? `alpha ${nn}` : `Site ${nn}`, slug: `q-site-${nn}`, internalLmsDomain: `lms.q${nn}.test`,
        isArchived: n % 3 === 0, providerKind: n % 5 === 0 ? "openstack" : "local", recipe: (["tutor", "native", "custom"] as const)[n % 3],
        externalDomains: n % 6 === 0 ? [`courses.q${nn}.org`] : [], loadBalancerId: n % 2 === 0 ? lb.id : null,
        pullRequestUrl: n % 7 === 0 ? `https://github.com/o/r/pull/${n}` : null, pullRequestNumber: n % 7 === 0 ? n : null,
        appserverCount: 1 + (n % 4),
      });
    }
    await t.deps.db.instance.updateMany({ where: { slug: { in: ["q-site-02", "q-site-05"] } }, data: { updatedAt: new Date("2026-01-01T00:00:00Z") } });
    removeLoadBalancerFiles(lb);
  });
  afterAll(() => t.close());

  it("gives the same rows, cells and count as the generic fetch and count, for every filter, search, order and page", async () => {
    const generic = { ...instanceAdmin, list: { ...instanceAdmin.list, page: undefined } };
    const queries: Record<string, string>[] = [
      {}, { o: "-name" }, { o: "internalLmsDomain", p: "2" }, { o: "-providerKind" }, { o: "isArchived", p: "3" }, { o: "-updatedAt" },
      { archived: "yes" }, { archived: "no", o: "-name", p: "2" }, { provider: "openstack" }, { pr: "yes" }, { pr: "no", provider: "local", p: "2" }, { recipe: "tutor" }, { recipe: "native", archived: "no", o: "-name" },
      { q: "ALPHA" }, { q: "q-site-1" }, { q: "lms.q07" }, { q: "COURSES.Q06.ORG" }, { q: "courses.q06" }, { q: "%" }, { q: "_" }, { q: "site", archived: "no", o: "-updatedAt", p: "2" },
      { p: "9" },
    ];
    await expectSameAsGeneric(t, instanceAdmin, queries);
    expect(await loadChangeList(t.deps, instanceAdmin, parseListQuery(instanceAdmin, { p: "9" })).catch((e: Error) => e.message)).toMatch(/Page 9 does not exist/);
    // % and _ are plain characters in both (Prisma's `contains` alone would make them wildcards).
    expect((await loadChangeList(t.deps, generic, parseListQuery(generic, { q: "%" }))).total).toBe(0);
    expect((await loadChangeList(t.deps, generic, parseListQuery(generic, { q: "q_site" }))).total).toBe(0);
  });
});

describe("the appserver change list's single query", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_PAGE_SIZE: "5" });
    // Equal creation times across instances, every status, active ones, IPs with and without a match.
    const statuses = ["new", "waiting", "configuring", "running", "failed", "error", "terminated"] as const;
    const at = new Date("2026-11-01T10:00:00Z");
    for (let n = 1; n <= 4; n++) {
      const site = await makeInstance(t.deps, { name: n === 2 ? "Alpha_Site" : `Site ${n}`, slug: `as-site-${n}` });
      for (let k = 0; k < 4; k++) {
        const status = statuses[(n * 4 + k) % statuses.length]!;
        await makeAppServer(t.deps, site.id, {
          status, isActive: status === "running" && k % 2 === 0, vmStatus: status === "new" ? "pending" : "ready",
          publicIp: k === 3 ? null : `10.0.${n}.${k + 7}`, createdAt: k === 1 ? at : new Date(at.getTime() + (n * 4 + k) * 60_000),
        });
      }
    }
  });
  afterAll(() => t?.close());

  it("gives the same rows, cells and count as the generic fetch and count, for every filter, search, order and page", async () => {
    const queries: Record<string, string>[] = [
      {}, { p: "2" }, { o: "createdAt", p: "3" }, { o: "number" }, { o: "-number", p: "2" }, { o: "status" }, { o: "-vmStatus", p: "2" }, { o: "isActive" }, { o: "-isActive", p: "4" },
      { status: "running" }, { status: "terminated", o: "number" }, { active: "yes" }, { active: "no", p: "2" }, { status: "running", active: "no" },
      { q: "appserver 2" }, { q: "ALPHA_" }, { q: "10.0.3" }, { q: "site 4", o: "-status" }, { q: "%" }, { q: "_site" }, { q: "nothing like it" },
      { p: "9" }, { status: "bogus" },
    ];
    await expectSameAsGeneric(t, appServerAdmin, queries);
    const running = await loadChangeList(t.deps, appServerAdmin, parseListQuery(appServerAdmin, { status: "running" }));
    expect(running.total).toBe(await t.deps.db.appServer.count({ where: { status: "running" } }));
    expect(running.rows.map((r) => r.cells[2])).toEqual(running.rows.map(() => ({ text: "running", badge: "status-running" })));
    expect(running.rows[0]!.cells[1]).toMatchObject({ href: expect.stringMatching(/^\/admin\/instances\/\d+$/) });
  });
});

describe("the audit trail's single query", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_PAGE_SIZE: "5" });
    const at = new Date("2026-11-01T10:00:00Z");
    const events = [
      { actorLogin: "alice", action: "instance.updated", subjectType: "Instance", subjectId: "7", subjectName: "Site 7", diff: { name: ["a", "b"], internalLmsDomain: ["x", "y"], tags: [[], ["t"]] } },
      { actorLogin: "bob", action: "instance.created", subjectType: "Instance", subjectId: "8", subjectName: "Alpha_Site", diff: {} },
      { actorLogin: "", action: "appserver.succeeded", subjectType: "AppServer", subjectId: "12", subjectName: "AppServer 3", diff: { status: ["configuring", "running"] } },
      { actorLogin: "alice", action: "appserver.activated", subjectType: "AppServer", subjectId: "12", subjectName: "", diff: ["not", "an", "object"] },
      { actorLogin: "carol%", action: "instance.deleted", subjectType: "Instance", subjectId: "9", subjectName: "Gone", diff: { name: ["Gone", null] } },
      { actorLogin: "bob", action: "load_balancer.created", subjectType: "LoadBalancer", subjectId: "2", subjectName: "Edge", diff: { name: [null, "Edge"], host: [null, "lb.test"] } },
    ];
    for (let n = 0; n < 14; n++) {
      const e = events[n % events.length]!;
      await t.deps.db.auditEvent.create({ data: { ...e, createdAt: n % 4 === 0 ? at : new Date(at.getTime() + n * 60_000) } });
    }
  });
  afterAll(() => t?.close());

  it("gives the same rows, cells and count as the generic fetch and count, for every filter, search, order and page", async () => {
    const queries: Record<string, string>[] = [
      {}, { p: "2" }, { o: "createdAt", p: "3" }, { o: "actorLogin" }, { o: "-actorLogin", p: "2" }, { o: "action" }, { o: "-action", p: "3" },
      { type: "Instance" }, { type: "AppServer", o: "action" }, { action: "instance.updated" }, { action: "appserver.activated", type: "AppServer" },
      { q: "ALICE" }, { q: "alpha_" }, { q: "settings changed" }, { q: "status → running" }, { q: "instance." }, { q: "%" }, { q: "_site" }, { q: "nothing like it" },
      { p: "9" }, { type: "Nothing" },
    ];
    const auditEventAdmin = modelBySlug("audit-events");
    await expectSameAsGeneric(t, auditEventAdmin, queries);
    // What the Changed column shows: the diff's fields by their labels in the form's order, as the
    // History page names them (not "name, tags, internalLmsDomain"); nothing for an empty or non-object diff.
    const updated = await loadChangeList(t.deps, auditEventAdmin, parseListQuery(auditEventAdmin, { action: "instance.updated", o: "createdAt" }));
    expect(updated.rows[0]!.cells[4]).toBe("Name, Tags, LMS domain");
    const balancer = await loadChangeList(t.deps, auditEventAdmin, parseListQuery(auditEventAdmin, { action: "load_balancer.created" }));
    expect(balancer.rows[0]!.cells[4]).toMatch(/^Name, \w/);
    const activated = await loadChangeList(t.deps, auditEventAdmin, parseListQuery(auditEventAdmin, { action: "appserver.activated" }));
    expect(activated.rows[0]!.cells[4]).toBeNull();
  });
});

/** A select's options as a person reads them, by the field's name. */
function selectOptions(html: string, name: string): string[] {
  const select = html.match(new RegExp(`<select[^>]*name="${name}"[^>]*>([\\s\\S]*?)</select>`))?.[1];
  if (select === undefined) throw new Error(`no select ${name}`);
  return [...select.matchAll(/<option[^>]*>([^<]*)<\/option>/g)].map((m) => visibleText(m[1]!));
}

describe("instance names in the admin", () => {
  let t: TestApp;
  let admin: Agent;
  // The console's order: case and accents aside ("épsilon" with the e's), equal names by id.
  const ORDER = ["alpha one", "Beta two", "Delta three", "Demo", "épsilon four", "eta five", "gamma six", "Upper", "Upper", "Zeta seven"];

  beforeAll(async () => {
    t = await startTestApp({ ADMIN_PAGE_SIZE: "20" });
    admin = await t.loginAs("root", { admin: true });
    // Added out of order, so that neither the id nor the bytes give the expected order.
    const names: [string, string][] = [
      ["Zeta seven", "zeta.example.com"], ["épsilon four", "epsilon.example.com"], ["Upper", "upper.example.com"], ["gamma six", "gamma.example.com"],
      ["Demo", "demo.example.com"], ["eta five", "eta.example.com"], ["Upper", "upper2.example.com"], ["Beta two", "beta.example.com"],
      ["alpha one", "alpha.example.com"], ["Delta three", "delta.example.com"],
    ];
    for (const [name, domain] of names) await makeInstance(t.deps, { name, internalLmsDomain: domain });
  });
  afterAll(() => t?.close());

  it("sorts the change list as the console's sidebar does, and the other way as its mirror", async () => {
    expect(names((await admin.get("/admin/instances")).text)).toEqual(ORDER);
    expect(names((await admin.get("/admin/instances?o=-name")).text)).toEqual([...ORDER].reverse());
    expect(sidebarNames((await (await t.loginAs("olga")).get("/")).text)).toEqual(ORDER);
    await expectSameAsGeneric(t, instanceAdmin, [{}, { o: "-name" }, { q: "upper", o: "-name" }]);
  });

  it("offers the instances in the same order in the notification channel's and the watched repository's selects, telling equal names apart", async () => {
    const labelled = ["alpha one", "Beta two", "Delta three", "Demo", "épsilon four", "eta five", "gamma six", "Upper (upper.example.com)", "Upper (upper2.example.com)", "Zeta seven"];
    expect(selectOptions((await admin.get("/admin/notification-channels/add")).text, "instanceId")).toEqual(["All instances (fleet-wide)", ...labelled]);
    expect(selectOptions((await admin.get("/admin/watched-repositories/add")).text, "templateInstanceId")).toEqual(["— choose —", ...labelled]);
  });
});

/** The console sidebar's instance names, top to bottom. */
function sidebarNames(html: string): string[] {
  const list = html.match(/<ul class="instance-list">([\s\S]*?)<\/ul>/)?.[1] ?? "";
  return [...list.matchAll(/<span class="name">([^<]*)<\/span>/g)].map((m) => visibleText(m[1]!));
}
