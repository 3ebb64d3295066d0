// In-test receivers for notifications: a real SMTP server (smtp-server, the server side of the
// same project as nodemailer: https://nodemailer.com/extras/smtp-server/) that keeps each message,
// and an HTTP receiver that answers a scripted list of statuses, like a webhook endpoint that is
// down for a while (Slack answers 500 or 503 in an outage, https://api.slack.com/messaging/webhooks#handling_errors).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          this.mails.push(parseMail(Buffer.concat(chunks).toString("utf8"), session.envelope));
          callback();
        });
      },
    });
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Headers unfolded (RFC 5322 §2.2.3) and a quoted-printable body decoded (RFC 2045 §6.7): enough for nodemailer's plain text mails. */
function parseMail(raw: string, envelope: { mailFrom: false | { address: string }; rcptTo: { address: string }[] }): ReceivedMail {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  let body = raw.slice(split + 4);
  const header = (name: string) => head.match(new RegExp(`^${name}: (.*)$`, "im"))?.[1] ?? "";
  if (/quoted-printable/i.test(header("Content-Transfer-Encoding"))) {
    body = Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1").toString("utf8");
  }
  return { from: envelope.mailFrom ? envelope.mailFrom.address : "", to: envelope.rcptTo.map((r) => r.address), subject: header("Subject"), text: body.replace(/\r\n/g, "\n") };
}

export interface ReceivedPost {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

/** Answers each POST with the next status of `script` (then 200), and keeps what it got. */
export class WebhookReceiver {
  readonly posts: ReceivedPost[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = this.script.shift() ?? 200;
      this.posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "receiver is having a bad day");
    });
  });
  port = 0;

  constructor(public script: number[] = []) {}

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The JSON bodies received, parsed. */
  json<T = Record<string, unknown>>(): T[] {
    return this.posts.map((p) => JSON.parse(p.body) as T);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
