// Small formatting helpers available in every view as `h`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ejs from "ejs";

// The admin's table cell, compiled once and called as a function: an include() per cell copied
// the whole render context each time (a 100-row change list has hundreds of cells; bench/pages).
const cellFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../views/admin/_cell.ejs");
const cellTemplate = ejs.compile(readFileSync(cellFile, "utf8"), { filename: cellFile, _with: false, destructuredLocals: ["c", "h"], compileDebug: false });

export const viewHelpers = {
  /** One admin value (text, date, yes/no, link, badge, block), as HTML. */
  cell(c: unknown): string {
    return cellTemplate({ c, h: viewHelpers });
  },
  date(d: Date | string | null | undefined): string {
    if (!d) return "—";
    const date = typeof d === "string" ? new Date(d) : d;
    return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  },
  ago(d: Date | string | null | undefined, now: Date = new Date()): string {
    if (!d) return "—";
    const s = Math.round((now.getTime() - new Date(d).getTime()) / 1000);
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m ago`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
    return `${Math.floor(s / 86400)}d ago`;
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
