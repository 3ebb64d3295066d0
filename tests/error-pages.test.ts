// Error pages for people who made a mistake (a stale form, an expired session, a huge post): the
// page renders with the layout whether or not anyone is logged in, and nothing reaches the log at
// error level, since a client's mistake is not something an operator must act on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";

// The layout's brand link: present only when layout.ejs rendered around the error view.
const LAYOUT_LANDMARK = '<a class="brand" href="/">Ocim</a>';

describe("error pages", () => {
  let t: TestApp;
  const logged: { level: number; event?: string; msg?: string; err?: unknown }[] = [];
  beforeAll(async () => {
    const log = pino({ level: "trace" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    t = await startTestApp({}, { log });
  });
  afterAll(() => t.close());

  const errorsLogged = () => logged.filter((l) => l.level >= 50);

  it("answers an anonymous post with a stale security token with a 401 page in the layout", async () => {
    const res = await t.agent().post("/instances/1/launch", { _csrf: "stale-token" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain(LAYOUT_LANDMARK);
    expect(visibleText(res.text)).toContain("Your session has expired. Log in again");
    expect(res.text).toContain('href="/login"');
    expect(errorsLogged()).toEqual([]);
  });

  it("answers a logged-in user's stale form with a 403 page in the layout, with their menu", async () => {
    const agent = await t.loginAs("stella");
    const res = await agent.post("/instances/1/launch", { _csrf: "stale-token" });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain(LAYOUT_LANDMARK);
    expect(visibleText(res.text)).toContain("This form was out of date");
    expect(visibleText(res.text)).toContain("stella");
    expect(errorsLogged()).toEqual([]);
  });

  it("answers a form body over the size limit with a 413 page in the layout", async () => {
    const agent = await t.loginAs("stella");
    const token = await agent.csrf("/");
    const res = await agent.post("/account/tokens", { _csrf: token, name: "x".repeat(300_000) });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain(LAYOUT_LANDMARK);
    expect(visibleText(res.text)).toContain("The request is too large (294 kB; at most 256 kB): nothing was saved. A form's page keeps what you typed: go back, shorten the longest field, and send it again.");
    expect(errorsLogged()).toEqual([]);
  });

  it("logs client mistakes without a stack trace, below error level", async () => {
    await t.agent().post("/instances/1/launch", { _csrf: "stale-token" });
    const refusals = logged.filter((l) => l.msg === "web.request.refused");
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      expect(r.level).toBeLessThan(40);
      expect(JSON.stringify(r)).not.toContain("    at ");
    }
    expect(errorsLogged()).toEqual([]);
  });
});
