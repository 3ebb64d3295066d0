// The demo instance (DESIGN §6): local provider, the demo playbook from playbooks/demo/, so
// launch → log → test link → activate can be tried on one machine. Used by `ocim demo` and by the
// empty console's one-click button. Its data goes to the default MySQL server (the embedded
// MariaDB of `npm start` unless an admin chose another), where the demo page counts visits: the
// count going on across a blue/green switch shows that the data outlives the appservers.
import type { Deps } from "../../deps.js";
import { defaultMysqlService, whyNoMysql } from "../data/why-no-mysql.js";
import { AppError } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { createInstance } from "./create-instance.js";
import { DEMO_BRANCH, DEMO_PLAYBOOK, ensureDemoRepo } from "./demo-repo.js";

/** The demo server's port on each local VM (each VM has its own loopback address). */
export const DEMO_HTTP_PORT = 8000;

/** Where the demo's data goes, in a sentence for the console's message and `ocim demo`'s output. */
export interface DemoData {
  mysqlServiceId: number | null;
  note: string;
}

/** The default MySQL server, or why there is none (`mariadbInstalled`: see whyNoMysql). */
export async function demoData(deps: Pick<Deps, "db">, mariadbInstalled?: () => boolean): Promise<DemoData> {
  const mysql = await defaultMysqlService(deps);
  if (mysql) {
    return { mysqlServiceId: mysql.id, note: `Its data is on the MySQL server "${mysql.name}": the demo page counts visits there, and the count goes on when a new appserver takes over.` };
  }
  return { mysqlServiceId: null, note: `The data panel is off: ${whyNoMysql(mariadbInstalled)}. Each appserver keeps no data, and the demo page says so.` };
}

export async function createDemoInstance(deps: Pick<Deps, "db" | "config" | "secrets">, input: { actor: Actor }) {
  if (deps.config.NODE_ENV === "production") {
    throw new AppError("rule", "The demo instance uses the local provider, which is not available in production.");
  }
  const repoUrl = await ensureDemoRepo(deps.config.dataDir);
  const taken = new Set((await deps.db.instance.findMany({ where: { internalLmsDomain: { endsWith: ".demo.localhost" } }, select: { internalLmsDomain: true } })).map((i) => i.internalLmsDomain));
  let n = 1;
  while (taken.has(`site${n}.demo.localhost`)) n += 1;
  const defaultBalancer = await deps.db.loadBalancer.findFirst({ where: { kind: "local" }, orderBy: { id: "asc" }, select: { id: true } });
  const data = await demoData(deps);
  const instance = await createInstance(deps, {
    actor: input.actor,
    values: {
      name: n === 1 ? "Demo" : `Demo ${n}`,
      // Its own repository and playbook: no Docker, no Open edX download, on any machine.
      recipe: "custom",
      internalLmsDomain: `site${n}.demo.localhost`,
      configurationRepoUrl: repoUrl,
      configurationBranch: DEMO_BRANCH,
      playbookPath: DEMO_PLAYBOOK,
      providerKind: "local",
      extraAnsibleVars: `# The demo playbook serves on this port (Open edX's name for the LMS port).\nEDXAPP_LMS_NGINX_PORT: ${DEMO_HTTP_PORT}\n`,
      loadBalancerId: defaultBalancer ? String(defaultBalancer.id) : "",
      mysqlServiceId: data.mysqlServiceId === null ? "" : String(data.mysqlServiceId),
    },
  });
  return { ...instance, dataNote: data.note };
}
