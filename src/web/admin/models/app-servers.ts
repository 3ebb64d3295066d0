// Appservers in the admin: read-only. They change only through the console's actions (launch,
// activate, terminate), which enforce the state machine (DESIGN §4, §9).
import type { Prisma } from "../../../db.js";
import { defineModel } from "../types.js";
import { stepOf } from "../../../domain/appservers/get-appserver-detail.js";
import { describeSteps } from "../../../domain/provisioning/steps.js";
import { appServerPathById } from "../../../domain/appservers/locate-appserver.js";
import { choiceFilter, yesNoFilter } from "./common.js";

const STATUSES = ["new", "waiting", "configuring", "running", "failed", "error", "terminated"] as const;

const listSelect = {
  id: true, name: true, status: true, vmStatus: true, isActive: true, publicIp: true, createdAt: true,
  instance: { select: { id: true, name: true } },
} as const;
type Row = Prisma.AppServerGetPayload<{ select: typeof listSelect }>;

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
      { label: "IP", cell: (r) => (r.publicIp ? { text: r.publicIp, mono: true } : null) },
      { label: "Created", sort: "createdAt", cell: (r) => r.createdAt },
    ],
    search: { fields: ["name", "instance.name", "publicIp"], hint: "appserver, instance or IP" },
    filters: [choiceFilter("status", "Status", "status", STATUSES), yesNoFilter("active", "Active", (v) => ({ isActive: v }))],
    defaultOrder: "-createdAt",
    fetch: (db, args) => db.appServer.findMany({ ...(args as Prisma.AppServerFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.appServer.count({ where: where as Prisma.AppServerWhereInput }),
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
        { label: "Public IP", value: a.publicIp ? { text: a.publicIp, mono: true } : null },
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
