// Sending a notification out: email over SMTP (nodemailer) or an HTTP POST (a webhook). The
// domain builds what to send; these only send it and classify what went wrong.

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
}

export interface OutgoingWebhook {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface NotifySender {
  sendEmail(mail: OutgoingEmail): Promise<void>;
  postWebhook(hook: OutgoingWebhook): Promise<void>;
}

/** A send that did not go through; `transient`: a later attempt may pass (the job retries it). */
export class NotifySendError extends Error {
  constructor(message: string, readonly transient: boolean) {
    super(message);
    this.name = "NotifySendError";
  }
}
