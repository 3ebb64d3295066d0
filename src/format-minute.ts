// A time as people read it on every page and in every message: "2026-12-02 10:45 UTC", never the
// raw ISO string with its seconds and milliseconds.
export function formatMinute(d: Date): string {
  return minuteOfIso(d.toISOString());
}

/** The same, from Date#toISOString's text: for a page that also writes that text (a `<time datetime>`). */
export function minuteOfIso(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
