// The real sender: nodemailer over SMTP_URL for email, fetch for webhooks, both with a deadline
// (NOTIFY_TIMEOUT_SECONDS). A webhook URL's path often is its secret (Slack's /services/T…/B…/X…):
// its errors name only the origin (maskUrl), and the domain masks whatever they hold again where it
// records them (src/domain/notifications/deliver-notification.ts).
import nodemailer from "nodemailer";
import type { Config } from "../../config.js";
import { maskUrl } from "../../mask-text.js";
import { NotifySendError, type NotifySender } from "./port.js";

type NotifyConfig = Pick<Config, "SMTP_URL" | "NOTIFY_FROM" | "NOTIFY_TIMEOUT_SECONDS">;

export function createNotifySender(config: NotifyConfig): NotifySender {
  const timeoutMs = config.NOTIFY_TIMEOUT_SECONDS * 1000;
  return {
    async sendEmail(mail) {
      if (!config.SMTP_URL) throw new NotifySendError("SMTP_URL is not set, so no email can be sent; set it and restart the workers.", false);
      const transport = nodemailer.createTransport({ url: config.SMTP_URL, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
      try {
        await transport.sendMail({ from: config.NOTIFY_FROM, to: mail.to, subject: mail.subject, text: mail.text });
      } catch (err) {
        throw smtpFailure(err as Error & { code?: string; responseCode?: number; response?: string });
      } finally {
        transport.close();
      }
    },
    async postWebhook(hook) {
      const refusal = unsendable(hook.url);
      if (refusal) throw new NotifySendError(refusal, false);
      let res: Response;
      try {
        res = await fetch(hook.url, { method: "POST", body: hook.body, headers: hook.headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        throw fetchFailure(err as Error & { cause?: { code?: string; message?: string } }, hook.url, config.NOTIFY_TIMEOUT_SECONDS);
      }
      const text = (await res.text().catch(() => "")).slice(0, 200);
      if (res.ok) return;
      // 408 and 429 (Slack's rate limit) and 5xx may pass later; any other refusal (a revoked Slack
      // hook answers 403 or 404, "invalid_token" / "no_service") will be the same on every attempt.
      const transient = res.status === 408 || res.status === 429 || res.status >= 500;
      throw new NotifySendError(`POST ${maskUrl(hook.url)} answered ${res.status}${text ? `: ${text.replace(/\s+/g, " ").trim()}` : ""}.`, transient);
    },
  };
}

/**
 * RFC 5321 §4.2.1: a 5yz reply is permanent (a refused recipient, failed authentication), a 4yz
 * transient; 503 (bad sequence) only says the session was in the wrong state. No reply at all
 * (a refused connection, a timeout) may pass later.
 */
function smtpFailure(err: Error & { code?: string; responseCode?: number; response?: string }): NotifySendError {
  const code = err.responseCode;
  const permanent = (code !== undefined && code >= 500 && code < 600 && code !== 503) || err.code === "EAUTH" || err.code === "ECONFIG";
  const detail = err.response ?? err.message;
  return new NotifySendError(`The SMTP server ${code ? `answered ${code}` : "could not be reached"}: ${detail.replace(/\s+/g, " ").trim().slice(0, 300)}`, !permanent);
}

/**
 * Why fetch will never send to this URL, or null. fetch refuses a URL with a user name or password
 * ("Request cannot be constructed from a URL that includes credentials: <the whole URL>"): the
 * channel form refuses them since, but a channel saved before may have one.
 */
function unsendable(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "The webhook URL is not a valid URL: edit the channel.";
  }
  if (u.username || u.password) {
    return `The webhook URL ${maskUrl(url)} has a user name or password before its host, which is never sent: edit the channel, and put the receiver's token where it gives it (in the URL's path or query, as Slack's do) or set a signing secret.`;
  }
  return null;
}

/**
 * A fetch that threw. Its network errors are TypeError("fetch failed") with the cause: a refused
 * connection, an unknown host, a reset may pass later; a port the Fetch standard blocks ("bad port",
 * https://fetch.spec.whatwg.org/#bad-port) or a scheme it does not know never will. Any other throw
 * is a request fetch could not build (a header value it refuses…): the same on every attempt.
 */
function fetchFailure(e: Error & { cause?: { code?: string; message?: string } }, url: string, timeoutSeconds: number): NotifySendError {
  const post = `POST ${maskUrl(url)}`;
  if (e.name === "TimeoutError") return new NotifySendError(`${post} failed: no answer within ${timeoutSeconds} s.`, true);
  if (e.name === "AbortError") return new NotifySendError(`${post} failed: aborted.`, true);
  if (e.message !== "fetch failed") return new NotifySendError(`${post} could not be made: ${e.message}`, false);
  if (e.cause?.message === "bad port") {
    return new NotifySendError(`${post} is refused before connecting: port ${new URL(url).port} is one of the ports fetch never sends HTTP to (the Fetch standard's "bad ports"); use another port.`, false);
  }
  if (e.cause?.message === "unknown scheme") return new NotifySendError(`${post} is refused: fetch only sends to http:// and https:// URLs.`, false);
  return new NotifySendError(`${post} failed: ${e.cause?.code ?? e.cause?.message ?? e.message}.`, true);
}
