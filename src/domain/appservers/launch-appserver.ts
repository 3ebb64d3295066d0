// "Launch new AppServer": freeze the instance's current settings and the final playbook variables
// into a new appserver, whose lifecycle's launch transition queues its provisioning in the same
// transaction (an outbox row the worker's relay sends after the commit: DESIGN §4-5, STYLE 6).
// Later edits to the instance never change the snapshot.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { moveAppServer } from "./lifecycle.js";
import { basicAuthFor } from "../instances/secret.js";
import { mergedVariables, type SshUser } from "../provisioning/variables.js";

export interface ConfigSnapshot {
  instance: Record<string, unknown>;
  playbook: { repoUrl: string; branch: string; path: string; bootstrapCommand: string };
  variables: Record<string, unknown>;
  providerKind: string;
  launchedAt: string;
}

// Every instance setting except the encrypted master key and bookkeeping columns.
const OMIT = new Set(["secretKeyEncrypted", "nextAppServerNumber", "createdAt", "updatedAt"]);

export async function sshUsersFrom(db: Pick<Prisma.TransactionClient, "githubKey">): Promise<SshUser[]> {
  const rows = await db.githubKey.findMany({ orderBy: [{ githubLogin: "asc" }, { id: "asc" }], select: { githubLogin: true, key: true } });
  const byLogin = new Map<string, string[]>();
  for (const r of rows) byLogin.set(r.githubLogin, [...(byLogin.get(r.githubLogin) ?? []), r.key]);
  return [...byLogin].map(([githubLogin, keys]) => ({ githubLogin, keys }));
}

export async function launchAppServer(
  deps: Pick<Deps, "db" | "secrets" | "now" | "config">,
  input: { instanceId: number; actor: Actor; extraVariables?: Record<string, unknown> },
) {
  const appServer = await deps.db.$transaction(async (tx) => {
    const found = await tx.instance.findUnique({ where: { id: input.instanceId }, select: { isArchived: true } });
    if (!found) throw new AppError("not_found", "Instance not found.");
    if (found.isArchived) throw new AppError("rule", "This instance is archived; unarchive it in the admin before launching an appserver.");
    // The increment locks the instance row, so two launches at once get distinct numbers.
    const instance = await tx.instance.update({ where: { id: input.instanceId }, data: { nextAppServerNumber: { increment: 1 } } });
    const number = instance.nextAppServerNumber - 1;
    const sshUsers = await sshUsersFrom(tx);
    let variables: Record<string, unknown>;
    try {
      variables = mergedVariables(instance, basicAuthFor(deps.secrets, instance), sshUsers, input.extraVariables);
    } catch {
      throw new AppError("validation", "The instance's extra ansible variables are not a YAML mapping. Fix them in the admin, then launch again.");
    }
    const snapshot: ConfigSnapshot = {
      instance: Object.fromEntries(Object.entries(instance).filter(([k]) => !OMIT.has(k))),
      playbook: {
        repoUrl: instance.configurationRepoUrl,
        branch: instance.configurationBranch,
        path: instance.playbookPath,
        bootstrapCommand: instance.bootstrapCommand,
      },
      variables,
      providerKind: instance.providerKind,
      launchedAt: deps.now().toISOString(),
    };
    const created = await tx.appServer.create({
      data: {
        instanceId: instance.id,
        number,
        name: `AppServer ${number}`,
        providerKind: instance.providerKind,
        configSnapshot: JSON.parse(JSON.stringify(snapshot)) as Prisma.InputJsonValue,
        createdById: input.actor.id,
      },
    });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "appserver.launched", subjectType: "Instance", subjectId: instance.id,
      subjectName: instance.name, after: { appServer: created.name, appServerId: created.id },
    });
    await moveAppServer(tx, deps, "launch", { appServerId: created.id, actor: input.actor });
    return created;
  });
  return appServer;
}
