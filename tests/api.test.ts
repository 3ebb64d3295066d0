import { readFileSync } from "node:fs";
import { COMMANDS } from "../src/bin/cli-commands.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { createApiToken, revokeApiToken } from "../src/domain/auth/api-tokens.js";

interface ApiError {
  error: { code: string; message: string; fields?: Record<string, string> };
}

describe("API v1", () => {
  let t: TestApp;
  let client: Agent;
  let token: string;
  let auth: { headers: Record<string, string> };
  let alphaId: number;
  let runningId: number;

  beforeAll(async () => {
    t = await startTestApp();
    await t.loginAs("robot");
    token = (await createApiToken(t.deps, { githubLogin: "robot", name: "ci", actor: { id: null, login: "test" } })).token;
    auth = { headers: { authorization: `Bearer ${token}` } };
    client = t.agent();
    const alpha = await makeInstance(t.deps, { name: "Alpha", internalLmsDomain: "alpha.example.test", externalDomains: ["www.alpha.org"], extraAnsibleVars: "SMTP_PASSWORD: s3cr3t-value\nFOO: bar\n" });
    alphaId = alpha.id;
    await makeAppServer(t.deps, alpha.id, { status: "failed", failureSummary: "TASK [edxapp : migrate] fatal: boom", createdAt: new Date("2026-03-01T00:00:00Z") });
    runningId = (await makeAppServer(t.deps, alpha.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "10.1.2.3", createdAt: new Date("2026-03-02T00:00:00Z") })).id;
    await makeInstance(t.deps, { name: "Bravo", internalLmsDomain: "bravo.example.test" });
    await makeInstance(t.deps, { name: "Charlie", internalLmsDomain: "charlie.example.test", isArchived: true });
  });
  afterAll(() => t.close());

  describe("authentication", () => {
    it("refuses a request without a token, saying how to send one", async () => {
      const res = await client.get("/api/v1/instances");
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      const body = res.json<ApiError>();
      expect(body.error.code).toBe("unauthenticated");
      expect(body.error.message).toContain("Authorization: Bearer <token>");
    });

    it("refuses an unknown token and a session cookie alone", async () => {
      const bad = await client.get("/api/v1/instances", { headers: { authorization: "Bearer ocim_not-a-real-token" } });
      expect(bad.status).toBe(401);
      expect(bad.json<ApiError>().error.message).toBe("This API token is unknown or has been revoked.");
      const browser = await t.loginAs("cookie-only");
      const res = await browser.get("/api/v1/instances");
      expect(res.status).toBe(401);
    });

    it("refuses a revoked token", async () => {
      const other = await createApiToken(t.deps, { githubLogin: "robot", actor: { id: null, login: "test" } });
      const headers = { authorization: `Bearer ${other.token}` };
      expect((await client.get("/api/v1/instances", { headers })).status).toBe(200);
      const robot = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "robot" } });
      await revokeApiToken(t.deps, { id: other.id, user: { id: robot.id, githubLogin: "robot", name: "", avatarUrl: "", role: "operator" } });
      const res = await client.get("/api/v1/instances", { headers });
      expect(res.status).toBe(401);
    });

    it("refuses the token of a deactivated user, saying so (and not who)", async () => {
      await t.loginAs("leaver");
      const leaver = await createApiToken(t.deps, { githubLogin: "leaver", actor: { id: null, login: "test" } });
      await t.deps.db.user.update({ where: { githubLogin: "leaver" }, data: { isActive: false } });
      const res = await client.get("/api/v1/instances", { headers: { authorization: `Bearer ${leaver.token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="ocim", error="invalid_token"');
      expect(res.json<ApiError>().error).toEqual({ code: "unauthenticated", message: "The user this API token belongs to has been deactivated, so the token is refused." });
    });

    it("refuses a malformed Authorization header, saying the form it must have", async () => {
      for (const authorization of [`Bearer ${token} extra`, `Basic ${token}`, "Bearer", `${token}`]) {
        const res = await client.get("/api/v1/instances", { headers: { authorization } });
        expect(res.status, authorization).toBe(401);
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
        expect(res.json<ApiError>().error, authorization).toEqual({
          code: "unauthenticated",
          message: 'The Authorization header is malformed: it must be "Bearer <token>", the word Bearer, a space and the token, nothing after it.',
        });
      }
    });

    it("records when a token was last used", async () => {
      await client.get("/api/v1/instances", auth);
      const row = await t.deps.db.apiToken.findFirstOrThrow({ where: { name: "ci" } });
      expect(row.lastUsedAt).not.toBeNull();
    });
  });

  describe("GET /api/v1/instances", () => {
    it("lists instances that are not archived, by name, with their badges", async () => {
      const res = await client.get("/api/v1/instances", auth);
      expect(res.status).toBe(200);
      const body = res.json<{ instances: Record<string, unknown>[]; total: number; limit: number; offset: number }>();
      expect(body).toMatchObject({ total: 2, limit: 50, offset: 0 });
      expect(body.instances).toEqual([
        { id: alphaId, name: "Alpha", domain: "alpha.example.test", isArchived: false, activeAppServers: 1, latestAppServerStatus: "running", url: `/api/v1/instances/${alphaId}` },
        expect.objectContaining({ name: "Bravo", activeAppServers: 0, latestAppServerStatus: null }),
      ]);
    });

    it("searches, filters archived and pages", async () => {
      const names = async (query: string) =>
        (await client.get(`/api/v1/instances?${query}`, auth)).json<{ instances: { name: string }[] }>().instances.map((i) => i.name);
      expect(await names("q=WWW.ALPHA")).toEqual(["Alpha"]);
      expect(await names("archived=true")).toEqual(["Charlie"]);
      expect(await names("archived=all")).toEqual(["Alpha", "Bravo", "Charlie"]);
      expect(await names("archived=all&limit=1&offset=1")).toEqual(["Bravo"]);
      const far = (await client.get("/api/v1/instances?offset=10", auth)).json<{ instances: unknown[]; total: number }>();
      expect(far).toMatchObject({ instances: [], total: 2 });
      const farSearch = (await client.get("/api/v1/instances?q=example.test&offset=10", auth)).json<{ instances: unknown[]; total: number }>();
      expect(farSearch).toMatchObject({ instances: [], total: 2 });
      const search = (await client.get("/api/v1/instances?q=EXAMPLE.test&limit=1", auth)).json<{ instances: { name: string }[]; total: number }>();
      expect(search).toMatchObject({ instances: [{ name: "Alpha" }], total: 2 });
    });

    it.each([
      ["limit=0", "limit", "an integer from 1 to 200"],
      ["limit=201", "limit", "an integer from 1 to 200"],
      ["limit=ten", "limit", "an integer from 1 to 200"],
      ["limit=1.5", "limit", "an integer from 1 to 200"],
      ["offset=-1", "offset", "an integer from 0 to 100000000"],
      ["offset=1&offset=2", "offset", "an integer from 0 to 100000000"],
      ["archived=yes", "archived", 'one of "false"'],
      [`q=${"x".repeat(201)}`, "q", "at most 200 characters"],
      ["page=2", "page", "unknown query parameter"],
    ])("answers %s with 400 naming the parameter", async (query, field, problem) => {
      const res = await client.get(`/api/v1/instances?${query}`, auth);
      expect(res.status).toBe(400);
      const body = res.json<ApiError>();
      expect(body.error.code).toBe("validation");
      expect(body.error.fields?.[field]).toContain(problem);
      expect(body.error.message).toContain(`${field}: `);
    });
  });

  describe("GET /api/v1/instances/:id", () => {
    it("gives the domains, settings (secrets masked) and appservers newest first", async () => {
      const res = await client.get(`/api/v1/instances/${alphaId}`, auth);
      expect(res.status).toBe(200);
      const body = res.json<Record<string, any>>();
      expect(body.domain).toBe("alpha.example.test");
      expect(body.domains).toMatchObject({ lms: "alpha.example.test", studio: "studio.alpha.example.test", external: ["www.alpha.org"] });
      expect(body.allDomains).toEqual(expect.arrayContaining(["alpha.example.test", "apps.alpha.example.test", "www.alpha.org"]));
      expect(body.allDomains).toHaveLength(7);
      expect(body.settings).toMatchObject({ edxPlatformBranch: "master", playbookPath: "playbooks/openedx_native.yml", appserverCount: 1, loadBalancer: null, pullRequest: null });
      expect(body.settings.extraAnsibleVars).toBe("SMTP_PASSWORD: ••••••\nFOO: bar\n");
      expect(res.text).not.toContain("s3cr3t-value");
      expect(res.text).not.toContain("secretKeyEncrypted");
      expect(body.appServers).toMatchObject({ total: 2, active: 1 });
      expect(body.appServers.newest.map((a: { name: string; status: string }) => `${a.name} ${a.status}`)).toEqual(["AppServer 2 running", "AppServer 1 failed"]);
    });

    it("gives the recipe, and for tutor the Tutor version of its release and the plugins", async () => {
      const tutor = await makeInstance(t.deps, { name: "Tutor Site", recipe: "tutor", openedxRelease: "redwood", tutorPlugins: ["mfe", "tutor-indigo"] });
      try {
        const body = (await client.get(`/api/v1/instances/${tutor.id}`, auth)).json<Record<string, any>>();
        expect(body.settings).toMatchObject({ recipe: "tutor", openedxRelease: "redwood", tutorVersion: "Tutor 18", tutorPlugins: ["mfe", "tutor-indigo"] });
        const custom = (await client.get(`/api/v1/instances/${alphaId}`, auth)).json<Record<string, any>>();
        expect(custom.settings).toMatchObject({ recipe: "custom", tutorVersion: null, tutorPlugins: [] });
      } finally {
        await t.deps.db.instance.delete({ where: { id: tutor.id } });
      }
    });

    it("answers an unknown id with 404 and a non-numeric one with 400", async () => {
      const missing = await client.get("/api/v1/instances/987654", auth);
      expect(missing.status).toBe(404);
      expect(missing.json<ApiError>().error).toEqual({ code: "not_found", message: "Instance not found." });
      const bad = await client.get("/api/v1/instances/alpha", auth);
      expect(bad.status).toBe(400);
      expect(bad.json<ApiError>().error.message).toBe("The instance id must be a positive integer.");
    });

    it("refuses query parameters it does not know", async () => {
      const res = await client.get(`/api/v1/instances/${alphaId}?expand=all`, auth);
      expect(res.status).toBe(400);
      expect(res.json<ApiError>().error.fields).toEqual({ expand: "unknown query parameter" });
    });
  });

  describe("GET /api/v1/appservers/:id", () => {
    it("gives the appserver's status fields", async () => {
      const res = await client.get(`/api/v1/appservers/${runningId}`, auth);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        id: runningId, instanceId: alphaId, name: "AppServer 2", status: "running", vmStatus: "ready", publicIp: "10.1.2.3",
        isActive: true, failureSummary: "", createdAt: "2026-03-02T00:00:00.000Z", lastActivatedAt: null, terminatedAt: null,
        // an operator's token: the link carries the basic-auth password, for admins only
        authenticatedLink: null,
      });
      expect(res.text).not.toContain("configSnapshot");
    });

    it("answers an unknown id with 404 and a malformed one with 400", async () => {
      expect((await client.get("/api/v1/appservers/424242", auth)).json<ApiError>().error).toEqual({ code: "not_found", message: "AppServer not found." });
      expect((await client.get("/api/v1/appservers/0", auth)).status).toBe(400);
      expect((await client.get("/api/v1/appservers/99999999999", auth)).status).toBe(400);
    });
  });

  it("refuses with the same 409 code, wrong_state, every action the appserver's status or active flag does not allow", async () => {
    // Archived: out of the instance lists the other tests count.
    const inst = await makeInstance(t.deps, { name: "Delta", isArchived: true });
    const ended = await makeAppServer(t.deps, inst.id, { status: "terminated", terminatedAt: new Date() });
    const cases = [
      [`${ended.id}/terminate`, {}, "AppServer 1 is terminated; only running, failed or error appservers can be terminated."],
      [`${ended.id}/activate`, {}, "Only a running appserver can be activated; AppServer 1 is terminated."],
      [`${ended.id}/activate`, { deactivateOthers: true }, "Only a running appserver can be activated; AppServer 1 is terminated."],
      [`${ended.id}/deactivate`, {}, "AppServer 1 is not active."],
      [`${runningId}/activate`, {}, "AppServer 2 is already active."],
      [`${runningId}/terminate`, {}, "AppServer 2 is active: deactivate it before terminating it."],
    ] as const;
    for (const [path, json, message] of cases) {
      const res = await client.request("POST", `/api/v1/appservers/${path}`, { ...auth, json });
      expect(res.status, path).toBe(409);
      expect(res.json<ApiError>().error, path).toEqual({ code: "wrong_state", message });
    }
    expect(await t.deps.db.appServer.findUniqueOrThrow({ where: { id: runningId }, select: { status: true, isActive: true } })).toEqual({ status: "running", isActive: true });
  });

  it("answers unknown endpoints with a JSON 404", async () => {
    for (const [method, path] of [["GET", "/api/v1/nothing"], ["DELETE", "/api/v1/nothing"], ["GET", "/api/v1/instances/1/extra"]] as const) {
      const res = await client.request(method, path, auth);
      expect(res.status, path).toBe(404);
      expect(res.json<ApiError>().error).toEqual({ code: "not_found", message: `There is no API endpoint ${method} ${path}.` });
    }
  });

  it("answers a known endpoint called with another method with a JSON 405, its methods in Allow, and changes nothing", async () => {
    const cases = [
      ["GET", `/api/v1/instances/${alphaId}/appservers`, "POST"],
      ["DELETE", `/api/v1/instances/${alphaId}`, "GET, HEAD"],
      ["POST", "/api/v1/instances", "GET, HEAD"],
      ["PUT", `/api/v1/appservers/${runningId}/activate`, "POST"],
      ["DELETE", `/api/v1/appservers/${runningId}`, "GET, HEAD"],
      ["POST", `/api/v1/appservers/${runningId}/logs`, "GET, HEAD"],
      ["DELETE", `/api/v1/appservers/${runningId}/logs.txt`, "GET, HEAD"],
    ] as const;
    for (const [method, path, allow] of cases) {
      const res = await client.request(method, path, auth);
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(res.json<ApiError>().error).toEqual({ code: "method_not_allowed", message: `${method} is not allowed on ${path}: it accepts ${allow}.` });
    }
    expect(await t.deps.db.instance.count({ where: { id: alphaId } })).toBe(1);
    expect(await t.deps.db.appServer.count({ where: { instanceId: alphaId } })).toBe(2);
    // A token is still needed to learn that much.
    expect((await client.request("DELETE", `/api/v1/instances/${alphaId}`)).status).toBe(401);
    expect((await client.request("POST", `/api/v1/appservers/${runningId}/logs`)).status).toBe(401);
  });

  it("answers a body that is not a JSON object with a JSON 400 saying what is wrong, and launches nothing", async () => {
    const cases = [
      ['{"a":', "Invalid request body. Not valid JSON: "],
      ["{oops", "Invalid request body. Not valid JSON: "],
      ["null", 'Invalid request body. Must be a JSON object ({"key": "value", …}), not a single value.'],
      ['"hi"', 'Invalid request body. Must be a JSON object ({"key": "value", …}), not a single value.'],
      ["[]", 'Invalid request body. Must be a JSON object ({"key": "value", …}), not a list.'],
    ];
    for (const [body, message] of cases) {
      const res = await fetch(`${t.url}/api/v1/instances/${alphaId}/appservers`, { method: "POST", headers: { ...auth.headers, "content-type": "application/json" }, body });
      expect(res.status, body).toBe(400);
      const { error } = (await res.json()) as ApiError;
      expect(error.code, body).toBe("bad_request");
      expect(error.message, body).toContain(message);
    }
    expect(await t.deps.db.appServer.count({ where: { instanceId: alphaId } })).toBe(2);
  });

  describe("docs/api-and-cli.md", () => {
    const doc = readFileSync(new URL("../docs/api-and-cli.md", import.meta.url), "utf8");

    it("lists endpoints that all exist: each answers for a known id, and an unknown id is the object's 404, not the unknown-endpoint one", async () => {
      // A row's first cell: "`POST /api/v1/appservers/:id/activate`, `/deactivate`, `/terminate`".
      const endpoints = [...doc.matchAll(/^\| `(GET|POST) (\/api\/v1\/[^|]+?) \|/gm)].flatMap((m) => {
        const [first, ...more] = m[2]!.split(", ").map((p) => p.replaceAll("`", ""));
        return [first!, ...more.map((tail) => first!.replace(/\/[a-z]+$/, tail))].map((p) => [m[1]!, p] as const);
      });
      expect(endpoints.map(([method, p]) => `${method} ${p}`)).toEqual([
        "GET /api/v1/instances", "GET /api/v1/instances/:id", "POST /api/v1/instances/:id/appservers",
        "POST /api/v1/appservers/:id/activate", "POST /api/v1/appservers/:id/deactivate", "POST /api/v1/appservers/:id/terminate",
        "GET /api/v1/appservers/:id", "GET /api/v1/appservers/:id/logs", "GET /api/v1/appservers/:id/logs/search",
        "GET /api/v1/appservers/:id/logs/outline", "GET /api/v1/appservers/:id/logs.txt",
      ]);
      // The search needs what to search for.
      const query = (p: string) => (p.endsWith("/search") ? "?q=boom" : "");
      expect((await client.get("/api/v1/instances", auth)).status).toBe(200);
      for (const [method, p] of endpoints.filter(([, p]) => p.includes(":id"))) {
        const unknown = await client.request(method, p.replace(":id", "999999") + query(p), { ...auth, ...(method === "POST" ? { json: {} } : {}) });
        expect(unknown.status, `${method} ${p}`).toBe(404);
        expect(unknown.json<{ error: { message: string } }>().error.message).toMatch(/^(Instance|AppServer) not found/);
        if (method === "GET") expect((await client.get(p.replace(":id", String(p.includes("appservers") ? runningId : alphaId)) + query(p), auth)).status, p).toBe(200);
      }
      // Each answers another method with 405 naming its own (a route added without .all(methodNotAllowed) would 404).
      for (const [method, p] of endpoints) {
        const other = await client.request(method === "GET" ? "DELETE" : "GET", p.replace(":id", "999999"), auth);
        expect(other.status, `${method} ${p}`).toBe(405);
        expect(other.headers.get("allow"), `${method} ${p}`).toContain(method);
      }
    });

    it("describes every CLI command and no other", () => {
      const cli = doc.slice(doc.indexOf("## CLI"));
      expect([...cli.matchAll(/^- `([a-z-]+(?: [a-z-]+)?)[ `]/gm)].map((m) => m[1]).sort()).toEqual(Object.keys(COMMANDS).sort());
    });
  });

  describe("the API tokens page", () => {
    const tokenRows = (html: string) =>
      [...(html.match(/<table class="list tokens">[\s\S]*?<\/table>/)?.[0] ?? "").matchAll(/<tr>\s*<td[\s\S]*?<\/tr>/g)].map((m) => visibleText(m[0]));

    it("creates a token, shows it once after a redirect, and a reload neither shows it again nor makes another", async () => {
      const me = await t.loginAs("tina");
      expect(visibleText((await me.get("/account/tokens")).text)).toContain("You have no API tokens.");
      const posted = await me.post("/account/tokens", { _csrf: await me.csrf("/account/tokens"), name: "deploy script" }, { follow: false });
      expect(posted.status).toBe(303);
      expect(posted.headers.get("location")).toBe("/account/tokens");
      const created = await me.get("/account/tokens");
      expect(created.headers.get("cache-control")).toBe("no-store");
      const shown = created.text.match(/<code class="token" id="new-token" tabindex="0">(ocim_[A-Za-z0-9_-]+)<\/code>/)?.[1];
      expect(shown).toBeDefined();
      expect(visibleText(created.text)).toContain("Copy it now. It is shown only this once");
      // The row ends with its Revoke confirmation (a dialog, closed).
      expect(tokenRows(created.text)).toEqual([expect.stringMatching(new RegExp(`^${shown!.slice(0, 11)}… deploy script just now never Revoke…`))]);
      expect(created.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">just now<\/time>/);

      const api = await client.get("/api/v1/instances", { headers: { authorization: `Bearer ${shown}` } });
      expect(api.status).toBe(200);

      // The browser's reload repeats the GET the POST redirected to, not the POST.
      const again = await me.get("/account/tokens");
      expect(again.text).not.toContain(shown!);
      expect(visibleText(again.text)).not.toContain("Copy it now");
      expect(tokenRows(again.text)).toEqual([expect.stringMatching(new RegExp(`^${shown!.slice(0, 11)}… deploy script just now just now Revoke…`))]);
      expect(await t.deps.db.apiToken.count({ where: { user: { githubLogin: "tina" } } })).toBe(1);
    });

    it("revokes a token: it leaves the list and the API refuses it", async () => {
      const me = await t.loginAs("uma");
      const created = await me.submit("/account/tokens", { name: "" });
      const shown = created.text.match(/id="new-token" tabindex="0">([^<]+)</)![1]!;
      const row = await t.deps.db.apiToken.findFirstOrThrow({ where: { user: { githubLogin: "uma" } } });
      const revoked = await me.submit(`/account/tokens/${row.id}/revoke`, {}, "/account/tokens");
      expect(revoked.url).toBe(`${t.url}/account/tokens`);
      expect(visibleText(revoked.text)).toContain(`Token ${shown.slice(0, 11)}… revoked: scripts using it are now refused.`);
      expect(visibleText(revoked.text)).toContain("You have no API tokens.");
      expect((await client.get("/api/v1/instances", { headers: { authorization: `Bearer ${shown}` } })).status).toBe(401);
    });

    it("revoking a token already revoked (a second tab, a double submit) goes back to the list, saying so", async () => {
      const me = await t.loginAs("yuri");
      await me.submit("/account/tokens", { name: "twice" });
      const row = await t.deps.db.apiToken.findFirstOrThrow({ where: { user: { githubLogin: "yuri" } } });
      const csrf = await me.csrf("/account/tokens");
      expect((await me.post(`/account/tokens/${row.id}/revoke`, { _csrf: csrf })).status).toBe(200);
      const again = await me.post(`/account/tokens/${row.id}/revoke`, { _csrf: csrf });
      expect(again.status).toBe(200);
      expect(again.url).toBe(`${t.url}/account/tokens`);
      expect(visibleText(again.text)).toContain("This token was already revoked or no longer exists; nothing changed.");
      expect(visibleText(again.text)).toContain("You have no API tokens.");
    });

    it("does not let one user revoke another's token, nor tell them it exists", async () => {
      const robotToken = await t.deps.db.apiToken.findFirstOrThrow({ where: { name: "ci" } });
      const me = await t.loginAs("vic");
      const res = await me.submit(`/account/tokens/${robotToken.id}/revoke`, {}, "/account/tokens");
      expect(res.url).toBe(`${t.url}/account/tokens`);
      expect(visibleText(res.text)).toContain("This token was already revoked or no longer exists; nothing changed.");
      expect((await client.get("/api/v1/instances", auth)).status).toBe(200);
    });

    it("lets the name field take what the server accepts: 100 characters", async () => {
      const me = await t.loginAs("walt");
      expect((await me.get("/account/tokens")).text).toMatch(/<input type="text" id="token-name" name="name" value="" maxlength="100"/);
      await me.submit("/account/tokens", { name: "n".repeat(100) });
      expect((await t.deps.db.apiToken.findFirstOrThrow({ where: { user: { githubLogin: "walt" } } })).name).toBe("n".repeat(100));
      await t.deps.db.apiToken.deleteMany({ where: { user: { githubLogin: "walt" } } });
    });

    it("refuses a name that is too long, keeping what was typed, and creates nothing", async () => {
      const me = await t.loginAs("walt");
      const res = await me.submit("/account/tokens", { name: "n".repeat(101) });
      expect(res.status).toBe(400);
      expect(visibleText(res.text)).toContain("At most 100 characters.");
      expect(res.text).toContain(`value="${"n".repeat(101)}"`);
      expect(await t.deps.db.apiToken.count({ where: { user: { githubLogin: "walt" } } })).toBe(0);
    });

    it("refuses a revoke without the form's CSRF token", async () => {
      const me = await t.loginAs("xena");
      await me.submit("/account/tokens", { name: "keep" });
      const row = await t.deps.db.apiToken.findFirstOrThrow({ where: { user: { githubLogin: "xena" } } });
      const res = await me.post(`/account/tokens/${row.id}/revoke`, {});
      expect(res.status).toBe(403);
      expect(await t.deps.db.apiToken.count({ where: { id: row.id } })).toBe(1);
    });
  });
});
