// The watched-repository form and a sandbox's page in a real Chromium: a wrong repository comes back
// with its message next to the field and the input kept; the sandbox made for a pull request shows
// the pull request's link. The screenshots are for a person to check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestApp, TEST_ORG, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { makeInstance } from "../helpers/factories.js";
import { syncPullRequest } from "../../src/domain/sandboxes/sync-pull-request.js";

describe("pull-request sandboxes in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    // The app's token: it checks that the author is a member of the organization.
    t = await startTestApp({ GITHUB_TOKEN: "ghp_app_token" });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("refuses a wrong repository next to its field, saves a right one, and the sandbox's page links its pull request", async () => {
    const template = await makeInstance(t.deps, { name: "Acme main", internalLmsDomain: "lms.acme.test" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    await page.goto(`${t.url}/admin/watched-repositories/add`);
    await page.fill("#id_repository", "acme edx-platform");
    await page.selectOption("#id_templateInstanceId", String(template.id));
    await page.fill("#id_keepDaysAfterClose", "2");
    await page.click("button[value=list]");
    await page.waitForSelector(".errornote");
    expect(await page.textContent("#field-repository .field-error")).toContain('Enter the repository as owner/name, like "my-org/edx-platform".');
    expect(await page.inputValue("#id_repository")).toBe("acme edx-platform");
    expect(await t.deps.db.watchedRepository.count()).toBe(0);
    await screenshot(page, "watched-repository-form-errors");

    await page.fill("#id_repository", "acme/edx-platform");
    await page.click("button[value=list]");
    await page.waitForURL(`${t.url}/admin/watched-repositories`);
    expect(await page.textContent("main")).toContain("acme/edx-platform");
    await screenshot(page, "watched-repositories");

    t.github.addUser({ login: "mia" }, TEST_ORG);
    t.github.openPull("acme/edx-platform", { author: "mia", headRef: "mia/grading", title: "Better grading", number: 7 });
    const repo = await t.deps.db.watchedRepository.findFirstOrThrow();
    expect(await syncPullRequest(t.deps, { watchedRepositoryId: repo.id, pullRequestNumber: 7 })).toBe("created");
    const sandbox = await t.deps.db.instance.findFirstOrThrow({ where: { watchedRepositoryId: repo.id } });
    await page.goto(`${t.url}/instances/${sandbox.id}`);
    expect(await page.getAttribute("a[href='https://github.com/acme/edx-platform/pull/7']", "href")).toBe("https://github.com/acme/edx-platform/pull/7");
    expect(await page.textContent(".sandbox-info")).toContain("removed 2 days after the pull request closes");
    await screenshot(page, "sandbox-instance");
  });
});
