// The migration that took webhook URLs out of the audit and the delivery log: audit events of
// notification channels recorded before it keep a URL's origin only, as new ones do (maskUrl), and
// an error that repeated the whole URL (fetch refusing one with credentials) names its origin only.
// A real PostgreSQL database migrated up to the migration before, rows in the old shape, then the migration.
import { describe, expect, it } from "vitest";
import { useDatabaseBefore } from "./helpers/migration-db.js";
import { maskUrl } from "../src/mask-text.js";

const MIGRATION = "20261203110000_webhook_urls_masked";
const SLACK = "https://hooks.slack.com/services/T1/B2/XXXXSLACKSECRET";
const SLACK_NEW = "https://hooks.slack.com/services/T1/B2/YYYYNEWSECRET";
const CREDENTIALS = "http://user:pw@127.0.0.1:1/x/secret?t=1";

describe(`migration ${MIGRATION}`, () => {
  const database = useDatabaseBefore(MIGRATION);

  it("masks the URLs of channels' audit events and the URL in delivery errors, and nothing else", async () => {
    const m = database();
    const audit = (action: string, diff: unknown, subjectType = "NotificationChannel") => m.client.query(
      `INSERT INTO "AuditEvent" (action, "subjectType", "subjectId", diff) VALUES ($1, $2, '1', $3) RETURNING id`, [action, subjectType, JSON.stringify(diff)],
    ).then((r) => r.rows[0].id as number);
    const created = await audit("notification_channel.created", { name: [null, "slack"], kind: [null, "webhook"], target: [null, SLACK] });
    const changed = await audit("notification_channel.updated", { target: [SLACK, SLACK_NEW] });
    const moved = await audit("notification_channel.updated", { target: [SLACK, "https://other.example.com/"] });
    const mail = await audit("notification_channel.updated", { kind: ["webhook", "email"], target: [CREDENTIALS, "ops@example.org"] });
    const deleted = await audit("notification_channel.deleted", { name: ["slack", null], target: [SLACK_NEW, null] });
    const other = await audit("instance.updated", { target: ["https://keep.example.com/path", "x"] }, "Instance");

    const channel = (await m.client.query(
      `INSERT INTO "NotificationChannel" (name, kind, target, "updatedAt") VALUES ('a', 'webhook', $1, now()) RETURNING id`, [CREDENTIALS],
    )).rows[0].id as number;
    const delivery = (lastError: string) => m.client.query(
      `INSERT INTO "NotificationDelivery" ("channelId", event, subject, message, "lastError", "updatedAt") VALUES ($1, 'test', 's', 'm', $2, now()) RETURNING id`, [channel, lastError],
    ).then((r) => r.rows[0].id as number);
    const nodeError = await delivery(`Unexpected error: Request cannot be constructed from a URL that includes credentials: ${CREDENTIALS}`);
    const echoed = await delivery("POST http://127.0.0.1:1/… answered 404: Cannot POST /x/secret?t=1.");
    const plain = await delivery("POST http://127.0.0.1:1/… failed: ECONNREFUSED.");

    await m.apply(MIGRATION);

    const diffOf = async (id: number) => (await m.client.query(`SELECT diff FROM "AuditEvent" WHERE id = $1`, [id])).rows[0].diff;
    expect(await diffOf(created)).toEqual({ name: [null, "slack"], kind: [null, "webhook"], target: [null, "https://hooks.slack.com/••••••"] });
    expect(await diffOf(changed)).toEqual({ target: ["https://hooks.slack.com/••••••", "https://hooks.slack.com/•••••• (changed)"] });
    expect(await diffOf(moved)).toEqual({ target: ["https://hooks.slack.com/••••••", "https://other.example.com/"] });
    expect(await diffOf(mail)).toEqual({ kind: ["webhook", "email"], target: ["http://127.0.0.1:1/••••••", "ops@example.org"] });
    expect(await diffOf(deleted)).toEqual({ name: ["slack", null], target: ["https://hooks.slack.com/••••••", null] });
    expect(await diffOf(other)).toEqual({ target: ["https://keep.example.com/path", "x"] });
    // What the migration wrote is what the code writes now.
    expect(maskUrl(SLACK)).toBe("https://hooks.slack.com/••••••");
    expect(maskUrl(CREDENTIALS)).toBe("http://127.0.0.1:1/••••••");
    expect(maskUrl("https://other.example.com/")).toBe("https://other.example.com/");

    const errorOf = async (id: number) => (await m.client.query(`SELECT "lastError" FROM "NotificationDelivery" WHERE id = $1`, [id])).rows[0].lastError;
    expect(await errorOf(nodeError)).toBe("Unexpected error: Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:1/••••••");
    expect(await errorOf(echoed)).toBe("POST http://127.0.0.1:1/… answered 404: Cannot POST ••••••.");
    expect(await errorOf(plain)).toBe("POST http://127.0.0.1:1/… failed: ECONNREFUSED.");
  });
});
