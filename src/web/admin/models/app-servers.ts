// Appservers in the admin: read-only. They change only through the console's actions (launch,
// activate, terminate), which enforce the state machine (DESIGN §4, §9).
import { jsonTimestamp, readPage, type Db } from "../../../db.js";
import { Prisma } from "../../../generated/prisma/client.ts";
import { defineModel, type PageArgs } from "../types.js";
import { stepOf } from "../../../domain/appservers/get-appserver-detail.js";
import { describeSteps } from "../../../domain/provisioning/steps.js";
import { appServerPathById } from "../../../domain/appservers/locate-appserver.js";
import { choiceFilter, choiceSql, containsAny, orderedPage, whereAll, yesNoFilter } from "./common.js";

const STATUSES = ["new", "waiting", "configuring", "running", "failed", "error", "terminated"] as const;

const listSelect = {
  id: true, name: true, status: true, vmStatus: true, isActive: true, publicIp: true, createdAt: true,
  instance: { select: { id: true, name: true } },
} as const;
type Row = Prisma.AppServerGetPayload<{ select: typeof listSelect }>;

// The columns the list sorts by (the engine only passes these), as SQL.
const SORT_SQL: Record<string, Prisma.Sql> = {
  number: Prisma.raw("a.number"), status: Prisma.raw("a.status"), vmStatus: Prisma.raw('a."vmStatus"'),
  isActive: Prisma.raw('a."isActive"'), createdAt: Prisma.raw('a."createdAt"'),
};

/**
 * The change list's page in one statement, its instance joined: the same rows as `fetch` (the
 * generic findMany, which a test compares it with), for the filters and the search below. Not the
 * generic way because that costs the page its goal (issue 17): Prisma compiles each model query on
 * the event loop (15 % of this page's profile under load) and reads the instances in a second
 * statement. One web process, wrk -c20, /admin/app-servers?status=running, 4 rounds alternately:
 * findMany 199–264 req/s (web CPU 4.3–5.5 ms a view), a $queryRaw 262–345 (3.3–4.4 ms).
 *
 * Read as JSON rows, and without a search on its first page prepared (readPage): the filters'
 * values are written into the text (choiceSql,
 * true/false, and orderedPage's numbers), so PostgreSQL plans each filter's statement once per
 * connection instead of parsing and planning it on every view (0.2 + 0.4–0.6 ms of its ~1.3 ms in the
 * server log). Two web processes, 20 clients, eight 4-s rounds alternately: 714 → 964 req/s (1.35×),
 * p90 50 → 35 ms (bench/README.md, 2026-12-04 21:25); read through readJson unprepared it had been
 * 0.82× (to_json costs PostgreSQL ~0.17 ms more than plain rows). The count stays the engine's (shared).
 */
async function rawPage(db: Db, args: PageArgs): Promise<{ rows: Row[]; total: null }> {
  const conditions: Prisma.Sql[] = [];
  // Compared as the enum, not as text, so the (status, createdAt) index serves it.
  if (args.filters.status) conditions.push(Prisma.sql`a.status = ${choiceSql(args.filters.status, STATUSES)}::"AppServerStatus"`);
  if (args.filters.active) conditions.push(Prisma.raw(`a."isActive" = ${args.filters.active === "yes"}`));
  if (args.q) conditions.push(containsAny([Prisma.raw("a.name"), Prisma.raw("i.name"), Prisma.raw('a."publicIp"')], args.q));
  const rows = await readPage<Omit<Row, "instance" | "createdAt"> & { createdAt: string; instanceId: number; instanceName: string }>(db, Prisma.sql`
    SELECT a.id, a.name, a.status, a."vmStatus", a."isActive", a."publicIp", a."createdAt", i.id AS "instanceId", i.name AS "instanceName"
    FROM "AppServer" a JOIN "Instance" i ON i.id = a."instanceId" ${whereAll(conditions)}
    ${orderedPage(SORT_SQL, Prisma.raw("a.id"), args)}`, { firstPage: args.skip === 0 });
  // Each field named: `({ instanceId, instanceName, ...row }) => ({ ...row, instance })` cost 80 µs a
  // 100-row page (V8 copies a rest and a spread property by property, generically) against 1 µs.
  return {
    rows: rows.map((r) => ({
      id: r.id, name: r.name, status: r.status, vmStatus: r.vmStatus, isActive: r.isActive, publicIp: r.publicIp, createdAt: jsonTimestamp(r.createdAt),
      instance: { id: r.instanceId, name: r.instanceName },
    })),
    total: null,
  };
}

/**
 * The address the record holds. A terminated appserver's was given back to the cloud, which may
 * have handed it to another VM: said, as the console's appserver page says it, but kept, so a search
 * by IP still finds which appserver had it.
 */
function ipCell(a: { publicIp: string | null; status: string }) {
  if (!a.publicIp) return null;
  return { text: a.status === "terminated" ? `${a.publicIp} (released)` : a.publicIp, mono: true };
}

export const appServerAdmin = defineModel<Row>({
  slug: "app-servers",
  name: "Appserver",
  plural: "Appservers",
  description: "The VMs of each instance (read-only here).",
  titleOf: (row) => `${row.instance.name}: ${row.name}`,
  siteUrl: (deps, id) => appServerPathById(deps, { id }),
  list: {
    columns: [
      { label: "Appserver", sort: "number", cell: (r) => ({ text: r.name, href: `/admin/app-servers/${r.id}` }) },
      { label: "Instance", cell: (r) => ({ text: r.instance.name, href: `/admin/instances/${r.instance.id}` }) },
      { label: "Status", sort: "status", cell: (r) => ({ text: r.status, badge: `status-${r.status}` }) },
      { label: "VM", sort: "vmStatus", cell: (r) => r.vmStatus },
      { label: "Active", sort: "isActive", cell: (r) => r.isActive },
      { label: "IP", cell: (r) => ipCell(r) },
      { label: "Created", sort: "createdAt", cell: (r) => r.createdAt },
    ],
    search: { fields: ["name", "instance.name", "publicIp"], hint: "appserver, instance or IP" },
    filters: [choiceFilter("status", "Status", "status", STATUSES), yesNoFilter("active", "Active", (v) => ({ isActive: v }))],
    defaultOrder: "-createdAt",
    fetch: (db, args) => db.appServer.findMany({ ...(args as Prisma.AppServerFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.appServer.count({ where: where as Prisma.AppServerWhereInput }),
    page: rawPage,
  },
  async detail(deps, id) {
    const a = await deps.db.appServer.findUnique({
      where: { id },
      include: {
        instance: { select: { id: true, name: true } },
        steps: { select: { name: true, position: true, startedAt: true, endedAt: true, outcome: true } },
      },
    });
    if (!a) return null;
    return {
      title: `${a.instance.name}: ${a.name}`,
      items: [
        { label: "Instance", value: { text: a.instance.name, href: `/admin/instances/${a.instance.id}` } },
        { label: "Status", value: { text: a.status, badge: `status-${a.status}` } },
        { label: "VM status", value: a.vmStatus },
        { label: "Active", value: a.isActive },
        { label: "Provider", value: a.providerKind },
        { label: "Provider server id", value: a.providerServerId ? { text: a.providerServerId, mono: true } : null },
        { label: "Public IP", value: ipCell(a) },
        { label: "SSH host key", value: a.hostKeyFingerprint ? { text: a.hostKeyFingerprint, mono: true } : null },
        // The console's words for where provisioning is (one term for each thing, issue 16).
        { label: "Step", value: stepOf(a, describeSteps(a.steps, deps.now())) },
        { label: "Failure summary", value: a.failureSummary ? { text: a.failureSummary, pre: true } : null },
        { label: "Launched by", value: a.createdByLogin || null },
        { label: "Created", value: a.createdAt },
        { label: "Last activated", value: a.lastActivatedAt },
        { label: "Status changed", value: a.statusChangedAt },
        { label: "Terminated", value: a.terminatedAt },
      ],
    };
  },
});
