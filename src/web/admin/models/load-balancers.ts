// Load balancers in the admin. The version counters and the last error are written by the apply
// job, so they are shown, not edited.
import type { Prisma } from "../../../db.js";
import { saveLoadBalancer } from "../../../domain/loadbalancer/save-load-balancer.js";
import { enqueueBalancerSync } from "../../../jobs/actions.js";
import { deleteLoadBalancer } from "../../../domain/loadbalancer/delete-load-balancer.js";
import { DEFAULT_SSH_PORT, LOAD_BALANCER_FIELDS, LOAD_BALANCER_KINDS } from "../../../domain/loadbalancer/validate-load-balancer.js";
import { defineModel } from "../types.js";
import type { Deps } from "../../../deps.js";
import { loadRenderInput } from "../../../domain/loadbalancer/render-input.js";
import { renderFragment } from "../../../domain/loadbalancer/render-config.js";
import { maskSecrets } from "../../../adapters/haproxy/check-config.js";
import { localFileApplyMessage, localFileProblem } from "../../../adapters/haproxy/local-dir.js";
import { describeBalancerCertificates } from "../../../domain/certificates/get-certificates.js";
import { loadBalancerLockKey } from "../../../domain/loadbalancer/lock.js";
import { choiceFilter, plural, titled } from "./common.js";

const listSelect = {
  id: true, name: true, kind: true, host: true, fragmentName: true, configurationVersion: true, deployedVersion: true, lastError: true,
  _count: { select: { instances: true } },
} as const;

type Row = Prisma.LoadBalancerGetPayload<{ select: typeof listSelect }>;

const sshOnly = "Only for an ssh balancer.";

/** What the next apply would write, as a person reviews it: the map, then the backends. */
async function generatedConfig(deps: Pick<Deps, "db" | "secrets">, id: number): Promise<string> {
  try {
    const { input } = await loadRenderInput(deps, id);
    const fragment = renderFragment(input);
    return maskSecrets(`# map file\n${fragment.map.toString()}\n# backends\n${fragment.backends.toString()}`);
  } catch (err) {
    return `The configuration cannot be generated: ${(err as Error).message}`;
  }
}

/** Why a stored local balancer's files cannot be written (a row older than LOCAL_LB_DIR), shown before any apply says so. */
function filesProblem(deps: Pick<Deps, "config">, lb: { name: string; kind: string; configPath: string; mapPath: string }): string | null {
  if (lb.kind !== "local") return null;
  for (const file of [lb.configPath, lb.mapPath]) {
    const problem = localFileProblem(deps.config.localLbDir, file);
    if (problem) return localFileApplyMessage(lb.name, deps.config.localLbDir, file, problem);
  }
  return null;
}

export const loadBalancerAdmin = defineModel<Row>({
  slug: "load-balancers",
  name: "Load balancer",
  plural: "Load balancers",
  description: "The HAProxy instances that route domains to active appservers.",
  subjectType: "LoadBalancer",
  titleOf: (row) => row.name,
  list: {
    columns: [
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/load-balancers/${r.id}` }) },
      { label: "Kind", sort: "kind", cell: (r) => r.kind },
      { label: "Host", cell: (r) => (r.host ? { text: r.host, mono: true } : null) },
      { label: "Fragment", sort: "fragmentName", cell: (r) => ({ text: r.fragmentName, mono: true }) },
      { label: "Instances", cell: (r) => r._count.instances },
      {
        label: "Version (deployed)",
        cell: (r) => ({
          text: `${r.configurationVersion} (${r.deployedVersion})`,
          badge: r.configurationVersion > r.deployedVersion ? "dirty" : undefined,
        }),
      },
      { label: "Last error", cell: (r) => (r.lastError ? { text: r.lastError.slice(0, 80), badge: "error" } : null) },
    ],
    search: { fields: ["name", "host", "fragmentName"], hint: "name, host or fragment" },
    filters: [choiceFilter("kind", "Kind", "kind", LOAD_BALANCER_KINDS)],
    defaultOrder: "name",
    fetch: (db, args) => db.loadBalancer.findMany({ ...(args as Prisma.LoadBalancerFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.loadBalancer.count({ where: where as Prisma.LoadBalancerWhereInput }),
  },
  form: {
    sections: [
      {
        title: "Load balancer",
        fields: [
          { name: "name", label: "Name", kind: "text", required: true, maxLength: 100 },
          { name: "kind", label: "Kind", kind: "select", options: () => [{ value: "local", label: "local (haproxy on this host)" }, { value: "ssh", label: "ssh (a remote host)" }] },
          { name: "fragmentName", label: "Fragment name", kind: "text", required: true, maxLength: 40, mono: true, help: "Prefix of every haproxy name this console writes: lowercase letters, digits and -." },
        ],
      },
      {
        title: "Files",
        fields: [
          { name: "configPath", label: "Configuration file", kind: "text", required: true, maxLength: 500, mono: true, placeholder: "/etc/haproxy/haproxy.cfg", help: "A local balancer's files must be inside LOCAL_LB_DIR; an ssh balancer's are on its host." },
          { name: "mapPath", label: "Map file", kind: "text", required: true, maxLength: 500, mono: true, placeholder: "/etc/haproxy/ocim.map" },
          { name: "reloadCommand", label: "Reload command", kind: "text", maxLength: 1000, mono: true, placeholder: "sudo systemctl reload haproxy", help: "Required for an ssh balancer; a local one is reloaded by Ocim." },
        ],
      },
      {
        title: "SSH",
        fields: [
          { name: "host", label: "Host", kind: "text", maxLength: 253, mono: true, help: sshOnly },
          { name: "sshUser", label: "SSH user", kind: "text", maxLength: 32, mono: true, help: sshOnly },
          { name: "sshPort", label: "SSH port", kind: "number", placeholder: String(DEFAULT_SSH_PORT), help: `${sshOnly} Empty: ${DEFAULT_SSH_PORT}.` },
          { name: "httpsBind", label: "HTTPS bind", kind: "text", maxLength: 60, mono: true, placeholder: ":443", help: "Only for an ssh balancer: where Ocim's HTTPS frontend listens on the host. Empty: its instances get no certificates." },
        ],
      },
    ],
    initial: () => ({ kind: "local", sshPort: String(DEFAULT_SSH_PORT) }),
    async load(deps, id) {
      const lb = await deps.db.loadBalancer.findUnique({ where: { id }, include: { _count: { select: { instances: true } } } });
      if (!lb) return null;
      return {
        title: lb.name,
        values: Object.fromEntries(LOAD_BALANCER_FIELDS.map((f) => [f, String(lb[f])])),
        readOnly: [
          { label: "Configuration version", value: lb.configurationVersion },
          { label: "Deployed version", value: { text: String(lb.deployedVersion), badge: lb.configurationVersion > lb.deployedVersion ? "dirty" : undefined } },
          { label: "Last applied", value: lb.lastAppliedAt },
          { label: "Files", value: ((problem) => (problem ? { text: problem, badge: "error" } : null))(filesProblem(deps, lb)) },
          {
            label: "Applying now",
            // An apply holds the balancer's lock while it runs (up to HAPROXY_TIMEOUT_SECONDS per step on an ssh host).
            value: (await deps.redis.exists(loadBalancerLockKey(lb.id))) ? { text: "yes: an apply is in progress; an error below is from an earlier one", badge: "dirty" } : null,
          },
          { label: "Last error", value: lb.lastError ? { text: lb.lastError, pre: true } : null },
          { label: "Instances", value: lb._count.instances },
          { label: "SSH host key", value: lb.kind === "ssh" ? { text: lb.hostKeyFingerprint ?? "not recorded yet (the next apply records it)", href: `/admin/load-balancers/${lb.id}/host-key`, mono: true } : null },
          { label: "Certificates (HTTPS)", value: ((text) => (text ? { text, pre: true } : null))(await describeBalancerCertificates(deps, { loadBalancerId: lb.id })) },
          { label: "Generated configuration (secrets masked)", value: { text: await generatedConfig(deps, lb.id), pre: true } },
        ],
      };
    },
    async save(deps, actor, id, values) {
      const saved = await saveLoadBalancer(deps, { actor, id, values });
      await enqueueBalancerSync(deps); // a changed balancer is behind its new version: applied now
      return titled(saved);
    },
  },
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.loadBalancer.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, _count: { select: { instances: true } } }, orderBy: { name: "asc" } });
      return rows.map((r) => ({
        id: r.id,
        title: r.name,
        consequences: ["Its haproxy files are left in place."],
        blocker: r._count.instances ? `It routes ${plural(r._count.instances, "instance")}; move them to another load balancer first.` : undefined,
      }));
    },
    run: (deps, actor, ids) => deleteLoadBalancer(deps, { actor, ids }),
  },
});
