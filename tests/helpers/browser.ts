// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Screenshots go to
// tests/artifacts/ (ignored by git) so a person can look at what the test saw.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const ARTIFACTS = path.resolve("tests/artifacts");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A page in a fresh context of `browser`, logged in with a session cookie ("name=value") for `url`. */
export async function pageWithCookie(browser: Browser, url: string, cookie: string, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url }]);
  return context.newPage();
}
