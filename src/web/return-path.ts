// Where a login sends the user back to: only a path on this console. Anything else (an absolute
// URL, a scheme-relative `//host`, `/\host` which browsers read as `//host`, control characters
// that browsers strip before reading the URL) would make the login page an open redirect
// (https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html).
const BASE = "http://ocim.invalid";
const LOGIN_PAGES = /^\/(login|logout|auth\/)/;

/** `value` when it is a path on this console (not a login page itself), otherwise null. */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 2000) return null;
  if (!value.startsWith("/") || value.startsWith("//") || /[\\\u0000-\u001f\u007f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE || LOGIN_PAGES.test(url.pathname)) return null;
  return url.pathname + url.search + url.hash;
}

/** `/login`, carrying where to go after it when that is a path on this console. */
export function loginUrl(returnTo: unknown): string {
  const path = safeReturnPath(returnTo);
  return path && path !== "/" ? `/login?next=${encodeURIComponent(path)}` : "/login";
}
