// renderView (view-helpers.ts) compiles a view once for each set of local names it is given, with
// those names declared instead of EJS's `with (locals)`. A name must mean what it meant under `with`,
// in pages and in include()s, whichever page compiled a partial first.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderView } from "../src/web/view-helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "ocim-views-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function view(name: string, text: string): string {
  const file = path.join(dir, `${name}.ejs`);
  writeFileSync(file, text);
  return file;
}

// The partial both pages include.
view(
  "_badge",
  `<%= typeof instance !== 'undefined' ? instance.name : 'no instance' %>|<%= typeof liveList !== 'undefined' && liveList ? 'live' : 'still' %>|<%= label %>`,
);
const instancePage = view("instance", `<%- include('./_badge', { label: 'on the instance page' }) %>`);
const homePage = view("home", `<%- include('./_badge', { label: 'at home', liveList: true }) %>`);

describe("renderView", () => {
  it("gives a partial the names of the page that includes it, not of the page that compiled it first", () => {
    expect(renderView(instancePage, { instance: { name: "Site 42" }, title: "Site 42" })).toBe("Site 42|still|on the instance page");
    expect(renderView(homePage, { title: "Fleet" })).toBe("no instance|live|at home");
    expect(renderView(instancePage, { instance: { name: "Site 7" }, title: "Site 7" })).toBe("Site 7|still|on the instance page");
  });

  it("escapes what <%= %> writes, past Latin-1 too, and leaves <%- %> as it is", () => {
    const page = view("escape", `<%= text %> <%- html %>`);
    expect(renderView(page, { text: `<b>Tom & Jerry</b> — ok`, html: "<i>kept</i>" })).toBe("&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &#8212; ok <i>kept</i>");
  });

  it("reads only the locals' own names: a global of the same name is shadowed, a missing one is the global", () => {
    const page = view("globals", `<%= typeof JSON %> <%= Math.max(1, 2) %> <%= name %>`);
    expect(renderView(page, { JSON: "a local", name: "n" })).toBe("string 2 n");
    expect(renderView(page, { name: "n" })).toBe("object 2 n");
  });

  it("names the template when a local it needs is missing", () => {
    const page = view("needs", `<%= instance.name %>`);
    expect(() => renderView(page, {})).toThrow(/instance is not defined/);
    expect(() => renderView(page, {})).toThrow(expect.objectContaining({ stack: expect.stringContaining("at needs") }));
  });
});
