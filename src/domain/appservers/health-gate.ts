// The activation health gate (DESIGN §9): the appserver's own /heartbeat must answer 200 through
// its IP with the instance's basic auth. A failure says exactly what it got.
import type { BasicAuth } from "../instances/secret.js";
import { AppError } from "../../errors.js";
import type { ConfigSnapshot } from "./config-snapshot.js";

export const DEFAULT_APPSERVER_HTTP_PORT = 80;

/** The HTTP port an appserver serves the LMS on: the Open edX setting, 80 unless overridden. */
export function httpPortOf(snapshot: Pick<ConfigSnapshot, "variables">): number {
  const port = Number(snapshot.variables.EDXAPP_LMS_NGINX_PORT ?? DEFAULT_APPSERVER_HTTP_PORT);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_APPSERVER_HTTP_PORT;
}

export async function checkHeartbeat(ip: string | null, port: number, auth: BasicAuth, timeoutMs = 10_000): Promise<void> {
  if (!ip) throw new AppError("rule", "Health check failed: the appserver has no IP address yet.");
  const url = `http://${ip}:${port}/heartbeat`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new AppError("rule", `Health check failed: GET ${url} got no answer (${cause === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : cause}). Not activated.`);
  }
  await res.body?.cancel();
  if (res.status !== 200) {
    throw new AppError("rule", `Health check failed: GET ${url} answered ${res.status} ${res.statusText}, not 200. Not activated.`);
  }
}
