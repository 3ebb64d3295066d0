// escapeHtml (view-helpers.ts) stands in for EJS's own escaping of <%= %>: it must write exactly
// what EJS's escapeXML writes, for every kind of value a view prints.
import ejs from "ejs";
import { describe, expect, it } from "vitest";
import { escapeHtml } from "../src/web/view-helpers.js";

const values: unknown[] = [
  "site-42.example.com", "", `<script>alert("x")</script>`, "Tom & Jerry's", "a>b", `"'&<>`, "&amp; already",
  0, 42, -1.5, false, true, null, undefined, new Date(Date.UTC(2026, 11, 1)), ["a<b", "c"], { toString: () => "<obj>" },
];

describe("escapeHtml", () => {
  it.each(values.map((v) => [v]))("writes what EJS writes for %o", (value) => {
    expect(escapeHtml(value)).toBe((ejs as unknown as { escapeXML(v: unknown): string }).escapeXML(value));
  });
});
