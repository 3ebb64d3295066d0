// The health gate (DESIGN §9): the appserver's own /heartbeat must answer 200 through its IP with
// the instance's basic auth and the instance's LMS domain as Host, as the balancer's health check
// sends it (a Tutor appserver's Caddy routes by host name: an IP as Host reaches no site). The
// provisioning job waits for it before `running` (step wait-heartbeat), activation checks it again.
// A failure says exactly what it got.
import http from "node:http";
import type { BasicAuth } from "../instances/secret.js";
import { AppError } from "../../errors.js";
import type { ConfigSnapshot } from "./config-snapshot.js";

export const DEFAULT_APPSERVER_HTTP_PORT = 80;
export const HEARTBEAT_PATH = "/heartbeat";

/**
 * The HTTP port an appserver serves every domain of its instance on, by recipe: Tutor's Caddy
 * (TUTOR_CONFIG.CADDY_HTTP_PORT, 80 unless set), the native recipe's nginx (80: Studio and the MFEs
 * by host name), a custom playbook's Open edX setting EDXAPP_LMS_NGINX_PORT (80 unless set).
 */
export function httpPortOf(snapshot: { recipe: ConfigSnapshot["recipe"]; variables: Record<string, unknown> }): number {
  const { variables } = snapshot;
  const given =
    snapshot.recipe === "tutor" ? tutorConfig(variables).CADDY_HTTP_PORT
    : snapshot.recipe === "native" ? undefined
    : variables.EDXAPP_LMS_NGINX_PORT;
  const port = Number(given ?? DEFAULT_APPSERVER_HTTP_PORT);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_APPSERVER_HTTP_PORT;
}

function tutorConfig(variables: Record<string, unknown>): Record<string, unknown> {
  const config = variables.TUTOR_CONFIG;
  return config && typeof config === "object" && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
}

export interface HeartbeatTarget {
  ip: string;
  port: number;
  auth: BasicAuth;
  /** Sent as Host: the instance's LMS domain. */
  host: string;
  timeoutMs?: number;
}

export type HeartbeatResult = { ok: true; url: string } | { ok: false; url: string; got: string };

/**
 * One GET of /heartbeat, never throwing: what it got, in words ("answered 503 Service Unavailable",
 * "got no answer (ECONNREFUSED)"). node:http rather than fetch: fetch drops a Host header (a
 * forbidden header name in the Fetch standard, which undici follows).
 */
export function probeHeartbeat(target: HeartbeatTarget): Promise<HeartbeatResult> {
  const { ip, port, auth, host, timeoutMs = 10_000 } = target;
  const url = `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}${HEARTBEAT_PATH}`;
  return new Promise((resolve) => {
    const req = http.get({
      host: ip, port, path: HEARTBEAT_PATH, agent: false, timeout: timeoutMs,
      headers: { host, authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? { ok: true, url } : { ok: false, url, got: `answered ${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd() });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const cause = err.code === "TIMEOUT" ? `no answer within ${timeoutMs / 1000} s` : (err.code ?? err.message);
      resolve({ ok: false, url, got: `got no answer (${cause})` });
    });
  });
}

/** Activation's gate: throws AppError("rule") with what the appserver answered. */
export async function checkHeartbeat(ip: string | null, port: number, auth: BasicAuth, host: string, timeoutMs = 10_000): Promise<void> {
  if (!ip) throw new AppError("rule", "Health check failed: the appserver has no IP address yet.");
  const result = await probeHeartbeat({ ip, port, auth, host, timeoutMs });
  if (!result.ok) {
    const got = result.got.startsWith("answered") ? `${result.got}, not 200` : result.got;
    throw new AppError("rule", `Health check failed: GET ${result.url} ${got}. Not activated.`);
  }
}
