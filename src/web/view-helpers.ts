// Small formatting helpers available in every view as `h`.
export const viewHelpers = {
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
