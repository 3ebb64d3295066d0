// Small formatting helpers available in every view as `h`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ejs from "ejs";
import type { Cell } from "./admin/types.js";
import { formatMinute, minuteOfIso } from "../format-minute.js";

export const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../views");

// Characters past Latin-1 (— … › •) are written as character references (&#8212;), so that a page
// stays a one-byte string in V8: one such character makes the whole page two-byte, and copying its
// pieces into that form cost ~1 ms per 70 KB page on this machine, more than rendering it
// (bench/README.md, issue 17). Views write them as entities too (&mdash;); the browser shows the same.
const HTML_SPECIAL = /[&<>"'\u0100-\uffff]/;
const HTML_SPECIALS = /[&<>"']|[^\0-\xff]/gu;
const PAST_LATIN1 = /[\u0100-\uffff]/;
const HTML_ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

/** `c`: one character (a whole code point). */
function entity(c: string): string {
  return HTML_ENTITY[c] ?? `&#${c.codePointAt(0)};`;
}

/**
 * What <%= %> writes: EJS's own escaping (the same entities), and character references past
 * Latin-1 (above). A value with nothing to escape (nearly all: names, domains, dates) is returned as
 * it is instead of going through a replace with a callback. A page has hundreds of them; EJS's took
 * a tenth of the fleet home's CPU (issue 17).
 */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  if (!HTML_SPECIAL.test(text)) return text;
  const escaped = text.replace(HTML_SPECIALS, entity);
  // V8 keeps a replace's result two-byte when its input was, though every character is now below
  // 256: copied once more, it is one-byte.
  return PAST_LATIN1.test(text) ? Buffer.from(escaped, "latin1").toString("latin1") : escaped;
}

/**
 * A partial that runs for every row of a long list, compiled once and called as a function. An
 * include() copied the whole render context at each call, and EJS's default `with (locals)` makes
 * every name in the template a dynamic lookup; here the template names its locals instead
 * (bench/pages: the admin change list's cells, the sidebar's rows, the change form's fields).
 */
function rowPartial<L extends Record<string, unknown>>(file: string, locals: (keyof L & string)[]): (data: L) => string {
  const filename = path.join(viewsDir, file);
  return ejs.compile(readFileSync(filename, "utf8"), { filename, _with: false, destructuredLocals: locals, compileDebug: false, escape: escapeHtml });
}

const adminRowsTemplate = rowPartial<{ rows: unknown[]; bulk: boolean; h: typeof viewHelpers }>("admin/_rows.ejs", ["rows", "bulk", "h"]);
const fieldTemplate = rowPartial<{ f: unknown }>("admin/_field.ejs", ["f"]);
const instanceListTemplate = rowPartial<{ rows: unknown[]; selectedId: number | null; keep: string }>("console/_instance_list.ejs", ["rows", "selectedId", "keep"]);
const logLinesTemplate = rowPartial<{ lines: unknown[] }>("appservers/_log_lines.ejs", ["lines"]);
const fleetTemplate = rowPartial<{ fleet: object; admin: boolean; h: typeof viewHelpers }>("console/_fleet.ejs", ["fleet", "admin", "h"]);
/** Each fleet overview's panels as rendered, per kind of viewer (fleetPanels); dropped with the overview. */
const renderedFleets = new WeakMap<object, { admin?: string; member?: string }>();

/** A size for people: "0 B", "512 B", "1.5 KiB", "20.0 MiB"; "—" when the service reports none. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export const viewHelpers = {
  bytes: formatBytes,
  /**
   * One admin value (text, date, yes/no, link, badge, block), as HTML. A function, not a partial: a
   * change list has 700 of them, and each EJS call copies its locals and builds its own output
   * (a third of the change list's allocations, bench/README.md, issue 17).
   */
  cell(c: Cell | undefined): string {
    if (c === null || c === undefined || c === "") return '<span class="muted">&mdash;</span>';
    if (c instanceof Date) {
      // Written once: a change list has a hundred, and toISOString is most of their cost.
      const iso = c.toISOString();
      return `<time datetime="${iso}">${minuteOfIso(iso)}</time>`;
    }
    if (typeof c === "boolean") return c ? '<span class="yesno yesno-yes">Yes</span>' : '<span class="yesno yesno-no">No</span>';
    if (typeof c !== "object") return escapeHtml(c);
    const text = escapeHtml(c.text);
    if (c.pre) return `<pre class="value-block">${text}</pre>`;
    if (c.href) return `<a href="${escapeHtml(c.href)}"${c.mono ? ' class="mono"' : ""}>${text}</a>`;
    if (c.badge) return `<span class="badge ${escapeHtml(c.badge)}">${text}</span>`;
    return `<span${c.mono ? ' class="mono"' : ""}>${text}</span>`;
  },
  /** The admin change list's table rows (with a checkbox each when bulk actions exist). */
  adminRows(rows: unknown[], bulk: boolean): string {
    return adminRowsTemplate({ rows, bulk, h: viewHelpers });
  },
  /** One form field (label, input, error, help): every admin form has dozens (bench/pages: the change form). */
  field(f: unknown): string {
    return fieldTemplate({ f });
  },
  /** The sidebar's list of instances; `keep` is the query string its links carry. */
  instanceList(rows: unknown[], selectedId: number | null, keep: string): string {
    return instanceListTemplate({ rows, selectedId, keep });
  },
  /**
   * The home page's fleet panels. The overview is a shared read (SIDEBAR_CACHE_MS: one object for
   * every view of that second) and the panels depend only on it and on whether the viewer is an
   * admin, so each overview is rendered once per kind of viewer: it was 66–72 µs of the home page's
   * ~150 µs of rendering, as much as the sidebar's 100 rows (bench/README.md, 2026-12-05).
   */
  fleetPanels(fleet: object, admin: boolean): string {
    let rendered = renderedFleets.get(fleet);
    if (!rendered) renderedFleets.set(fleet, (rendered = {}));
    const viewer = admin ? "admin" : "member";
    return (rendered[viewer] ??= fleetTemplate({ fleet, admin, h: viewHelpers }));
  },
  /** The log lines the appserver page renders with it (PAGE_TAIL_LINES: they were a fifth of its CPU under `with`). */
  logLines(lines: unknown[]): string {
    return logLinesTemplate({ lines });
  },
  date(d: Date | string | null | undefined): string {
    if (!d) return "—";
    return formatMinute(typeof d === "string" ? new Date(d) : d);
  },
  /** A duration for people: "850 ms", "42 s", "3 min 05 s", "1 h 02 min"; "—" when unknown. */
  duration(ms: number | null | undefined): string {
    if (ms === null || ms === undefined) return "—";
    if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
    const s = Math.floor(ms / 1000);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
    return `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, "0")} min`;
  },
  /** How long ago (or how soon) `d` is from `now`, for people: "just now", "5 min ago", "in 3 h", "2 days ago". */
  ago(d: Date | string | null | undefined, now: Date): string {
    if (!d) return "—";
    const s = Math.round((now.getTime() - new Date(d).getTime()) / 1000);
    const n = Math.abs(s);
    if (n < 10) return "just now";
    const amount = n < 60 ? `${n} s` : n < 3600 ? `${Math.floor(n / 60)} min` : n < 86400 ? `${Math.floor(n / 3600)} h`
      : `${Math.floor(n / 86400)} day${Math.floor(n / 86400) === 1 ? "" : "s"}`;
    return s >= 0 ? `${amount} ago` : `in ${amount}`;
  },
  /**
   * A moment as a relative time with the exact one on hover: `<time datetime="…" title="2026-12-01
   * 08:47 UTC">5 min ago</time>`. `now` is the request's clock (res.locals.now, from deps.now).
   */
  time(d: Date | string | null | undefined, now: Date): string {
    if (!d) return '<span class="muted">&mdash;</span>';
    const date = new Date(d);
    const iso = date.toISOString();
    return `<time datetime="${iso}" title="${minuteOfIso(iso)}">${viewHelpers.ago(date, now)}</time>`;
  },
  /** Builds a query string from the current one with some keys replaced (undefined/"" removes). */
  query(current: Record<string, unknown>, changes: Record<string, string | number | undefined>): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...current, ...changes })) {
      if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    }
    const s = params.toString();
    return s ? `?${s}` : "";
  },
};
