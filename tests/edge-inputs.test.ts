// Inputs at the edges: a NUL byte (PostgreSQL cannot store it in text), a body the API cannot read,
// a body over the size limit, YAML whose aliases expand to megabytes. Each gets a clear refusal
// with the status that says why, and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";

const NUL = "\u0000";
const NUL_MESSAGE = "contains a NUL character (\\0)";

/** Extra variables of 99 aliases to one 50 KB value: under 2 KB as typed, about 5 MB once expanded. */
function aliasBomb(): string {
  return `BIG: &big "${"x".repeat(50_000)}"\nMANY:\n${Array.from({ length: 99 }, () => "  - *big").join("\n")}\n`;
}

describe("edge inputs", () => {
  let t: TestApp;
  let admin: Agent;
  let auth: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("edgar", { admin: true });
    const { token } = await createApiToken(t.deps, { githubLogin: "edgar", actor: { id: null, login: "test" } });
    auth = { authorization: `Bearer ${token}` };
  });
  afterAll(() => t.close());

  describe("a NUL byte", () => {
    it("in the console's search is a 400 page that says what is wrong", async () => {
      const res = await admin.get(`/?q=a${encodeURIComponent(NUL)}b`);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(visibleText(res.text)).toContain(`q: ${NUL_MESSAGE}`);
    });

    it("in the admin's search is a 400 page", async () => {
      const res = await admin.get(`/admin/instances?q=${encodeURIComponent(NUL)}`);
      expect(res.status).toBe(400);
      expect(visibleText(res.text)).toContain(`The search text ${NUL_MESSAGE}`);
    });

    it("in the API's search is a 400 naming the parameter", async () => {
      const res = await t.agent().get(`/api/v1/instances?q=${encodeURIComponent(NUL)}`, { headers: auth });
      expect(res.status).toBe(400);
      expect(res.json<{ error: { fields: Record<string, string> } }>().error.fields).toEqual({ q: NUL_MESSAGE });
    });

    it("in an instance's name is refused next to the field, and nothing is saved", async () => {
      const before = await t.deps.db.instance.count();
      const res = await admin.submit("/admin/instances/add", { name: `Evil${NUL}`, internalLmsDomain: "lms.nul.example.com", providerKind: "local", appserverCount: "1" });
      expect(res.status).toBe(400);
      const field = res.text.match(/id="field-name">[\s\S]*?<p class="field-error"[^>]*>([^<]*)<\/p>/);
      expect(field?.[1]).toContain("Remove the NUL character (\\0)");
      expect(await t.deps.db.instance.count()).toBe(before);
    });

    it("in an API token's name is refused next to the field, and no token is made", async () => {
      const me = await t.loginAs("nora");
      const res = await me.submit("/account/tokens", { name: `deploy${NUL}` }, "/account/tokens");
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/<div class="field-error">Remove the NUL character \(\\0\)/);
      expect(await t.deps.db.apiToken.count({ where: { user: { githubLogin: "nora" } } })).toBe(0);
    });
  });

  describe("the API's request bodies", () => {
    it("refuses a body that is not JSON with 415, and launches nothing", async () => {
      const inst = await makeInstance(t.deps);
      // A content type with no body is no body: the launch goes ahead.
      const empty = await fetch(`${t.url}/api/v1/instances/${inst.id}/appservers`, { method: "POST", headers: { ...auth, "content-type": "text/plain" } });
      expect(empty.status).toBe(202);
      await t.deps.db.appServer.deleteMany({ where: { instanceId: inst.id } });
      const form = await t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers: auth, form: { deactivateOthers: "true" } });
      expect(form.status).toBe(415);
      expect(form.json<{ error: { code: string; message: string } }>().error).toEqual({
        code: "unsupported_media_type",
        message: "The request body must be JSON sent with the header Content-Type: application/json (this one was application/x-www-form-urlencoded), or the request must have no body.",
      });
      const text = await fetch(`${t.url}/api/v1/instances/${inst.id}/appservers`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "{}" });
      expect(text.status).toBe(415);
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(0);
    });

    it("refuses a body typed application/*+json with 415, as the docs say, instead of acting as if none was sent", async () => {
      const inst = await makeInstance(t.deps);
      const first = await makeAppServer(t.deps, inst.id, { status: "running", isActive: true });
      const second = await makeAppServer(t.deps, inst.id, { status: "running" });
      const vnd = { ...auth, "content-type": "application/vnd.api+json" };
      const launch = await fetch(`${t.url}/api/v1/instances/${inst.id}/appservers`, { method: "POST", headers: vnd, body: '{"x":1}' });
      expect(launch.status).toBe(415);
      expect(((await launch.json()) as { error: { message: string } }).error.message).toContain("(this one was application/vnd.api+json)");
      const activate = await fetch(`${t.url}/api/v1/appservers/${second.id}/activate`, { method: "POST", headers: vnd, body: '{"deactivateOthers":true}' });
      expect(activate.status).toBe(415);
      expect(await t.deps.db.appServer.findMany({ where: { instanceId: inst.id }, select: { id: true, isActive: true }, orderBy: { id: "asc" } }))
        .toEqual([{ id: first.id, isActive: true }, { id: second.id, isActive: false }]);
    });

    it("answers a body over the limit with 413 'The request is too large'", async () => {
      const inst = await makeInstance(t.deps);
      const res = await t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers: auth, json: { padding: "x".repeat(300_000) } });
      expect(res.status).toBe(413);
      expect(res.json<{ error: { code: string; message: string } }>().error).toEqual({ code: "too_large", message: expect.stringMatching(/^The request is too large \(\d+ kB; at most 256 kB\): nothing was saved\./) });
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(0);
    });
  });

  describe("extra variables whose aliases expand to megabytes", () => {
    it("are refused at save, next to the field", async () => {
      const before = await t.deps.db.instance.count();
      const res = await admin.submit("/admin/instances/add", {
        name: "Aliases", internalLmsDomain: "lms.aliases.example.com", providerKind: "local", appserverCount: "1", extraAnsibleVars: aliasBomb(),
      });
      expect(res.status).toBe(400);
      const field = res.text.match(/id="field-extraAnsibleVars">[\s\S]*?<p class="field-error"[^>]*>([^<]*)<\/p>/);
      expect(visibleText(field?.[1] ?? "")).toMatch(/^These variables expand to 5\.\d MB once their aliases are resolved; at most 1 MB is allowed/);
      expect(await t.deps.db.instance.count()).toBe(before);
    });

    it("saved before the cap existed are refused at launch with the reason, and nothing is launched", async () => {
      const inst = await makeInstance(t.deps, { extraAnsibleVars: aliasBomb() });
      const res = await t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers: auth, json: {} });
      expect(res.status).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/^The playbook variables of this instance expand to 5\.\d MB; at most 1 MB is allowed\. Shorten the extra ansible variables in the admin, then launch again\.$/);
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(0);
    });
  });
});
