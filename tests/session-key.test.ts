// The session cookie's signing key comes from SECRET_KEY (issue 10, finding 1): a cookie is good only
// on the install (and the SECRET_KEY) that signed it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecrets } from "../src/crypto.js";
import { createApp } from "../src/web/app.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { Agent } from "./helpers/browserless.js";
import { TEST_SECRET_KEY } from "./helpers/deps.js";

const OTHER_KEY = "another-install-another-secret-key-0123456789";

/** What express-session (cookie-signature) puts after the session id. */
function sign(value: string, secret: string): string {
  return `${value}.${createHmac("sha256", secret).update(value).digest("base64").replace(/=+$/, "")}`;
}

/** The session id inside a signed `ocim.sid` cookie value (`s:<sid>.<signature>`, URL-encoded). */
function sessionIdOf(agent: Agent): string {
  const cookie = (agent as unknown as { cookieHeader(): string }).cookieHeader();
  const value = decodeURIComponent(/ocim\.sid=([^;]+)/.exec(cookie)![1]!);
  return value.slice(2, value.lastIndexOf("."));
}

function withCookie(base: string, sid: string, secret: string): Agent {
  const agent = new Agent(base);
  (agent as unknown as { cookies: Map<string, string> }).cookies.set("ocim.sid", encodeURIComponent(`s:${sign(sid, secret)}`));
  return agent;
}

describe("session cookies", () => {
  let t: TestApp;
  let rotated: http.Server;
  let rotatedUrl: string;
  beforeAll(async () => {
    t = await startTestApp();
    // The same database and Redis, as after an operator changed SECRET_KEY and restarted.
    rotated = http.createServer(createApp({ ...t.deps, secrets: createSecrets(OTHER_KEY) }).app);
    await new Promise<void>((r) => rotated.listen(0, "127.0.0.1", () => r()));
    rotatedUrl = `http://127.0.0.1:${(rotated.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    rotated.closeAllConnections();
    await new Promise<void>((r) => rotated.close(() => r()));
    await t.close();
  });

  it("refuses a cookie signed with the key every install used to share", async () => {
    const admin = await t.loginAsLocalAdmin();
    expect((await admin.get("/")).url).toBe(`${t.url}/`);
    const sid = sessionIdOf(admin);
    const sharedKey = createHmac("sha256", "session").update("cookie-signing").digest("hex");
    const forged = await withCookie(t.url, sid, sharedKey).get("/");
    expect(forged.url).toBe(`${t.url}/login`);
  });

  it("refuses, after SECRET_KEY changed, a cookie made under the old one", async () => {
    const admin = await t.loginAsLocalAdmin();
    expect((await admin.get("/")).url).toBe(`${t.url}/`);
    const replay = new Agent(rotatedUrl);
    const cookies = (agent: Agent) => (agent as unknown as { cookies: Map<string, string> }).cookies;
    cookies(replay).set("ocim.sid", cookies(admin).get("ocim.sid")!);
    const replayed = await replay.get("/");
    expect(replayed.url).toBe(`${rotatedUrl}/login`);
  });

  it("derives different signing keys for installs with different keys, and one per purpose", () => {
    const mine = createSecrets(TEST_SECRET_KEY);
    const theirs = createSecrets(OTHER_KEY);
    expect(mine.derive("session-cookie")).toBe(createSecrets(TEST_SECRET_KEY).derive("session-cookie"));
    expect(mine.derive("session-cookie")).not.toBe(theirs.derive("session-cookie"));
    expect(mine.derive("session-cookie")).not.toBe(mine.derive("something-else"));
    expect(sign("abc", mine.derive("session-cookie"))).not.toBe(sign("abc", theirs.derive("session-cookie")));
  });
});
