// Times on pages read "5 min ago", with the exact time on hover (issue 16): one helper, h.time,
// computed from the request's clock (deps.now), which these tests move instead of waiting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { viewHelpers as h } from "../src/web/view-helpers.js";

describe("h.ago and h.time", () => {
  const now = new Date("2026-12-01T10:00:00Z");
  const before = (s: number) => new Date(now.getTime() - s * 1000);

  it.each([
    [0, "just now"], [9, "just now"], [42, "42 s ago"], [5 * 60 + 59, "5 min ago"], [3 * 3600, "3 h ago"],
    [86400, "1 day ago"], [9 * 86400, "9 days ago"], [-20 * 60, "in 20 min"], [-26 * 3600, "in 1 day"],
  ])("%i s before now reads %s", (s, text) => {
    expect(h.ago(before(s), now)).toBe(text);
  });

  it("wraps the relative time in a <time> whose title is the exact time", () => {
    expect(h.time(before(300), now)).toBe('<time datetime="2026-12-01T09:55:00.000Z" title="2026-12-01 09:55 UTC">5 min ago</time>');
    expect(h.time(null, now)).toBe('<span class="muted">&mdash;</span>');
  });
});

describe("a page's times follow the console's clock", () => {
  let t: TestApp;
  let clock = new Date("2026-12-01T10:00:00Z");
  beforeAll(async () => {
    t = await startTestApp({}, { now: () => clock });
  });
  afterAll(() => t?.close());

  it("shows a token made at 09:55 as 5 min ago at 10:00 and 2 h ago at 11:55, the exact time on hover", async () => {
    const me = await t.loginAs("rita");
    await me.submit("/account/tokens", { name: "ci" });
    await t.deps.db.apiToken.updateMany({ where: { user: { githubLogin: "rita" } }, data: { createdAt: new Date("2026-12-01T09:55:00Z") } });
    const page = await me.get("/account/tokens");
    expect(page.text).toContain('<time datetime="2026-12-01T09:55:00.000Z" title="2026-12-01 09:55 UTC">5 min ago</time>');
    clock = new Date("2026-12-01T11:55:00Z");
    const later = await me.get("/account/tokens");
    expect(visibleText(later.text)).toMatch(/ci 2 h ago never Revoke/);
  });
});
