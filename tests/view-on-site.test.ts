// One numbering and "View on site" (issue 16): "AppServer 2" of an instance lives at
// /instances/<id>/appservers/2, the old /appservers/<database id> redirects there, and admin
// pages and console pages link to each other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";

const hrefOf = (html: string, label: string) => html.match(new RegExp(`<a class="button" href="([^"]+)">${label}</a>`))?.[1];

describe("appserver numbering and View on site", () => {
  let t: TestApp;
  let admin: Agent;
  let operator: Agent;
  let alpha: { id: number };
  let bravo: { id: number };
  let bravoTwo: { id: number };
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("adele", { admin: true });
    operator = await t.loginAs("otto");
    alpha = await makeInstance(t.deps, { name: "Alpha" });
    bravo = await makeInstance(t.deps, { name: "Bravo" });
    // Database ids and numbers differ: Bravo's AppServer 2 has id alpha1 + 3.
    await makeAppServer(t.deps, alpha.id);
    await makeAppServer(t.deps, bravo.id);
    await makeAppServer(t.deps, alpha.id);
    bravoTwo = await makeAppServer(t.deps, bravo.id, { status: "running" });
  });
  afterAll(() => t?.close());

  it("shows AppServer 2 of an instance at /instances/<id>/appservers/2, with that name in the title and heading", async () => {
    const page = await operator.get(`/instances/${bravo.id}/appservers/2`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("<title>AppServer 2 · Bravo · Ocim</title>");
    expect(visibleText(page.text)).toContain("Bravo › AppServer 2 running");
    const list = await operator.get(`/instances/${bravo.id}`);
    expect(list.text).toContain(`<a href="/instances/${bravo.id}/appservers/2">AppServer 2</a>`);
    expect(list.text).not.toContain(`href="/appservers/`);
  });

  it("redirects the old address by database id, and answers a number the instance does not have with 404", async () => {
    const old = await operator.get(`/appservers/${bravoTwo.id}`, { follow: false });
    expect([old.status, old.headers.get("location")]).toEqual([301, `/instances/${bravo.id}/appservers/2`]);
    for (const path of [`/instances/${bravo.id}/appservers/3`, `/instances/${bravo.id}/appservers/0`, `/instances/999999/appservers/1`, `/appservers/999999`]) {
      const res = await operator.get(path);
      expect(res.status, path).toBe(404);
    }
  });

  it("links an instance's admin form to its console page and back", async () => {
    const form = await admin.get(`/admin/instances/${alpha.id}`);
    expect(hrefOf(form.text, "View on site")).toBe(`/instances/${alpha.id}`);
    const site = await admin.get(hrefOf(form.text, "View on site")!);
    expect(visibleText(site.text)).toContain("Alpha");
    const back = await admin.get(hrefOf(site.text, "Edit in admin")!);
    expect(back.url).toBe(`${t.url}/admin/instances/${alpha.id}`);
    expect(visibleText(back.text)).toContain("Change instance: Alpha");
    // The address the console used to link to (Django's) still opens the form.
    expect((await admin.get(`/admin/instances/${alpha.id}/change`)).url).toBe(`${t.url}/admin/instances/${alpha.id}`);
  });

  it("links an appserver's admin page to its console page and back, for admins only", async () => {
    const detail = await admin.get(`/admin/app-servers/${bravoTwo.id}`);
    expect(hrefOf(detail.text, "View on site")).toBe(`/instances/${bravo.id}/appservers/2`);
    const site = await admin.get(hrefOf(detail.text, "View on site")!);
    expect(hrefOf(site.text, "View in admin")).toBe(`/admin/app-servers/${bravoTwo.id}`);
    expect(visibleText((await admin.get(hrefOf(site.text, "View in admin")!)).text)).toContain("Bravo: AppServer 2");
    expect(hrefOf((await operator.get(`/instances/${bravo.id}/appservers/2`)).text, "View in admin")).toBeUndefined();
  });
});
