// Small formatting helpers available in every view as `h`, and renderView, which renders every view.
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

/** A JavaScript name, as EJS checks destructuredLocals: a local by any other key cannot be named in a template. */
const JS_NAME = /^[A-Za-z_$][\w$]*$/;
/** Compiled views, by file and the names of the locals they were given. */
const compiledViews = new Map<string, (locals: object) => string>();

/**
 * Renders a view with its locals: every page, include() and row partial goes through here.
 *
 * EJS by default runs a template inside `with (locals)`, where every name it uses, EJS's own
 * __append too, is looked up by name as it runs, and it copies the locals before each template and
 * include. Here a view is compiled once for each set of local names it is given, with those names
 * declared (EJS's destructuredLocals, no `with`), and runs on the locals as they are: the instance
 * page serves 1.15× the views a second (bench/README.md, issue 17). A name means what it did under
 * `with`: the local of that name if there is one, else a global. unsafePrototypeLocals only skips the
 * copy: a template reads the locals' own keys alone, never their prototype.
 * compileDebug off: the template no longer records the line it is on at every line. An error still
 * names the template: the stack has a frame named after the file (at show, at _confirm).
 */
export function renderView(filename: string, locals: object): string {
  const names = Object.keys(locals).filter((name) => JS_NAME.test(name));
  const key = `${filename}\0${names.join(",")}`;
  let render = compiledViews.get(key);
  if (!render) {
    const options = { filename, root: viewsDir, cache: true, _with: false, destructuredLocals: names, unsafePrototypeLocals: true, compileDebug: false, escape: escapeHtml };
    render = ejs.compile(readFileSync(filename, "utf8"), options as ejs.Options) as (locals: object) => string;
    compiledViews.set(key, render);
  }
  return render(locals);
}

// include() asks EJS's cache for the partial's render function (ejs.cache, the documented place to
// plug in another cache): the answer compiles it for the names it is given, as renderView does.
ejs.cache = {
  get: (filename: string) => (locals?: ejs.Data) => renderView(filename, locals ?? {}),
  set: () => undefined,
  reset: () => compiledViews.clear(),
};

/** A partial for every row of a long list, called as a function: an include() copies the page's locals each time. */
function rowPartial<L extends object>(file: string): (data: L) => string {
  const filename = path.join(viewsDir, file);
  return (data) => renderView(filename, data);
}

const adminRowsTemplate = rowPartial<{ rows: unknown[]; bulk: boolean; h: typeof viewHelpers }>("admin/_rows.ejs");
const fieldTemplate = rowPartial<{ f: unknown }>("admin/_field.ejs");
const instanceListTemplate = rowPartial<{ rows: unknown[]; selectedId: number | null; keep: string }>("console/_instance_list.ejs");
const logLinesTemplate = rowPartial<{ lines: unknown[] }>("appservers/_log_lines.ejs");
const fleetTemplate = rowPartial<{ fleet: object; admin: boolean; h: typeof viewHelpers }>("console/_fleet.ejs");
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
