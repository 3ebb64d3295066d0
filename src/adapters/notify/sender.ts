// The real sender: nodemailer over SMTP_URL for email, fetch for webhooks, both with a deadline
// (NOTIFY_TIMEOUT_SECONDS).
import nodemailer from "nodemailer";
import type { Config } from "../../config.js";
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
      let res: Response;
      try {
        res = await fetch(hook.url, { method: "POST", body: hook.body, headers: hook.headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        const why = e.name === "TimeoutError" ? `no answer within ${config.NOTIFY_TIMEOUT_SECONDS} s` : (e.cause?.code ?? e.message);
        throw new NotifySendError(`POST ${safeUrl(hook.url)} failed: ${why}.`, true);
      }
      const text = (await res.text().catch(() => "")).slice(0, 200);
      if (res.ok) return;
      // 408 and 429 (Slack's rate limit) and 5xx may pass later; any other refusal (a revoked Slack
      // hook answers 403 or 404, "invalid_token" / "no_service") will be the same on every attempt.
      const transient = res.status === 408 || res.status === 429 || res.status >= 500;
      throw new NotifySendError(`POST ${safeUrl(hook.url)} answered ${res.status}${text ? `: ${text.replace(/\s+/g, " ").trim()}` : ""}.`, transient);
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

/** A webhook URL's path often is its secret (Slack's /services/T…/B…/X…): only the origin is shown. */
export function safeUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(the webhook URL)";
  }
}
