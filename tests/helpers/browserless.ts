// A cookie-keeping HTTP client for tests: follows redirects by hand so tests can see each hop.
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  url: string;
  json<T = unknown>(): T;
}

export class Agent {
  private readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  /** `timeoutMs`: the request fails (AbortError) when no reply has come by then. */
  async request(method: string, path: string, opts: { form?: Record<string, string | string[]>; json?: unknown; headers?: Record<string, string>; follow?: boolean; timeoutMs?: number } = {}): Promise<Reply> {
    let url = new URL(path, this.base).toString();
    const signal = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    let init: RequestInit = { method, redirect: "manual", headers: { ...opts.headers }, signal };
    if (opts.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
      init.body = params.toString();
      (init.headers as Record<string, string>)["content-type"] = "application/x-www-form-urlencoded";
    }
    if (opts.json !== undefined) {
      init.body = JSON.stringify(opts.json);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    for (let hop = 0; hop < 10; hop++) {
      const target = new URL(url);
      const cookie = target.origin === new URL(this.base).origin ? this.cookieHeader() : "";
      const res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
      if (target.origin === new URL(this.base).origin) this.store(res.headers.getSetCookie());
      const location = res.headers.get("location");
      if (opts.follow !== false && location && res.status >= 300 && res.status < 400) {
        url = new URL(location, url).toString();
        init = { method: "GET", redirect: "manual", signal };
        continue;
      }
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, url, json: <T>() => JSON.parse(text) as T };
    }
    throw new Error("too many redirects");
  }

  get(path: string, opts?: Parameters<Agent["request"]>[2]) {
    return this.request("GET", path, opts);
  }

  post(path: string, form: Record<string, string | string[]> = {}, opts: Parameters<Agent["request"]>[2] = {}) {
    return this.request("POST", path, { ...opts, form });
  }

  /** The CSRF token of the session, read from any page's form. */
  async csrf(path = "/"): Promise<string> {
    const page = await this.get(path);
    const match = page.text.match(/name="_csrf" value="([^"]+)"/);
    if (!match) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return match[1]!;
  }

  /** Posts a form with the session's CSRF token, like a browser submitting it. */
  async submit(path: string, form: Record<string, string | string[]> = {}, from = path) {
    return this.post(path, { _csrf: await this.csrf(from), ...form });
  }

  clearCookies(): void {
    this.cookies.clear();
  }

  private store(setCookies: string[]): void {
    for (const c of setCookies) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

// The named references the views write (HTML's own names); any other name fails the test that meets it.
const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', mdash: "\u2014", ndash: "\u2013", hellip: "\u2026", rsaquo: "\u203a", lsaquo: "\u2039",
  ldquo: "\u201c", rdquo: "\u201d", lsquo: "\u2018", rsquo: "\u2019", bull: "\u2022", uarr: "\u2191", darr: "\u2193", rarr: "\u2192", larr: "\u2190",
};

/** One character reference (&amp; &#8212; &#x2014;) as the browser reads it. */
function decodeReference(ref: string, body: string): string {
  if (body.startsWith("#x") || body.startsWith("#X")) return String.fromCodePoint(parseInt(body.slice(2), 16));
  if (body.startsWith("#")) return String.fromCodePoint(Number(body.slice(1)));
  const c = NAMED[body];
  if (c === undefined) throw new Error(`visibleText: unknown character reference ${ref}`);
  return c;
}

/** HTML text (an element's content, an attribute's value) with its character references read, as a browser reads it. */
export function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, decodeReference);
}

/** Text content of the page without tags, character references read, whitespace folded: what a person reads. */
export function visibleText(html: string): string {
  return decodeHtml(html
    .replace(/<script[\s\S]*?<\/script>/g, "")
    .replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

/** The message shown under one form field (null when that field shows none): "next to the field", as a person sees it. */
export function fieldError(html: string, field: string): string | null {
  const block = html.match(new RegExp(`<div class="field[^"]*has-error[^"]*" id="field-${field}">[\\s\\S]*?<p class="field-error"[^>]*>([^<]*)</p>`));
  return block ? visibleText(block[1]!) : null;
}

/** What a form field holds as the page arrives (an input's value, a textarea's text): what a person sees in the box. */
export function fieldValue(html: string, field: string): string | null {
  const input = html.match(new RegExp(`<input [^>]*name="${field}" value="([^"]*)"`));
  if (input) return decodeHtml(input[1]!);
  const area = html.match(new RegExp(`<textarea [^>]*name="${field}"[^>]*>([^<]*)</textarea>`));
  return area ? decodeHtml(area[1]!) : null;
}
