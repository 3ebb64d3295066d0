// escapeHtml (view-helpers.ts) stands in for EJS's own escaping of <%= %>: it must write exactly
// what EJS's escapeXML writes, for every kind of value a view prints.
import ejs from "ejs";
import { describe, expect, it } from "vitest";
import { escapeHtml, viewHelpers } from "../src/web/view-helpers.js";
import { visibleText } from "./helpers/browserless.js";

const values: unknown[] = [
  "site-42.example.com", "", `<script>alert("x")</script>`, "Tom & Jerry's", "a>b", `"'&<>`, "&amp; already",
  0, 42, -1.5, false, true, null, undefined, new Date(Date.UTC(2026, 11, 1)), ["a<b", "c"], { toString: () => "<obj>" },
];

describe("escapeHtml", () => {
  it.each(values.map((v) => [v]))("writes what EJS writes for %o", (value) => {
    expect(escapeHtml(value)).toBe((ejs as unknown as { escapeXML(v: unknown): string }).escapeXML(value));
  });
});

// Past Latin-1 (— … • and any script or emoji), escapeHtml writes character references, so a page
// stays a one-byte string (view-helpers.ts); a reader sees the same text.
describe("escapeHtml past Latin-1", () => {
  it.each([
    ["AppServer 3 — failed…", "AppServer 3 &#8212; failed&#8230;"],
    ["PASSWORD: ••••••", "PASSWORD: &#8226;&#8226;&#8226;&#8226;&#8226;&#8226;"],
    ["Café · naïve", "Café · naïve"],
    ["東京 <b>", "&#26481;&#20140; &lt;b&gt;"],
    ["ok 😀", "ok &#128512;"],
  ])("writes %o as %s, read back as it was", (value, html) => {
    expect(escapeHtml(value)).toBe(html);
    expect(visibleText(escapeHtml(value))).toBe(value);
  });
});

// h.cell writes one admin value (list cells, read-only fields): what each kind looks like, escaped.
describe("h.cell", () => {
  it.each([
    [null, '<span class="muted">&mdash;</span>'],
    ["", '<span class="muted">&mdash;</span>'],
    ["Tom & Jerry's <b>", "Tom &amp; Jerry&#39;s &lt;b&gt;"],
    [42, "42"],
    [true, '<span class="yesno yesno-yes">Yes</span>'],
    [false, '<span class="yesno yesno-no">No</span>'],
    [new Date(Date.UTC(2026, 11, 1, 8, 47, 13)), '<time datetime="2026-12-01T08:47:13.000Z">2026-12-01 08:47 UTC</time>'],
    [{ text: "a: <1>\nb: 2", pre: true }, '<pre class="value-block">a: &lt;1&gt;\nb: 2</pre>'],
    [{ text: "site<1>", href: "/admin/instances/1?x=1&y=\"2\"" }, '<a href="/admin/instances/1?x=1&amp;y=&#34;2&#34;">site&lt;1&gt;</a>'],
    [{ text: "abc123", href: "/h", mono: true }, '<a href="/h" class="mono">abc123</a>'],
    [{ text: "failed", badge: "status-failed\"" }, '<span class="badge status-failed&#34;">failed</span>'],
    [{ text: "ssh-ed25519 AAAA", mono: true }, '<span class="mono">ssh-ed25519 AAAA</span>'],
    [{ text: "plain & simple" }, "<span>plain &amp; simple</span>"],
  ] as const)("writes %o as %s", (value, html) => {
    expect(viewHelpers.cell(value)).toBe(html);
  });
});

describe("h.logLines", () => {
  it("escapes a line's text, and writes its number, level and time as they are", () => {
    const html = viewHelpers.logLines([{ seq: 7, level: "error", text: `TASK [<b>x</b>] & "q"`, at: "2026-12-02T12:44:07.003Z" }]);
    expect(html).toBe(
      '<div class="log-line level-error"><span class="log-no">7</span><time class="log-time" datetime="2026-12-02T12:44:07.003Z">12:44:07</time>' +
        '<span class="log-text">TASK [&lt;b&gt;x&lt;/b&gt;] &amp; &#34;q&#34;</span></div>',
    );
  });
});
