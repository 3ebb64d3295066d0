// The SSH host key of an `ssh` balancer's host, pinned like an appserver's (provisioning/
// connect-appserver.ts): recorded at Ocim's first connection, required of every later one, so a
// man in the middle (or another machine at that address) never receives Ocim's files or runs its
// reload command. An admin who knows the host was reinstalled clears it; the next connection
// records the new key.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import type { HostKeyPin } from "../../adapters/haproxy/ssh.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

/** The pin the ssh target checks the host against, and records the key with on a first connection. */
export function balancerHostKeyPin(deps: Pick<Deps, "db" | "log">, balancer: { id: number; name: string; host: string; hostKeyFingerprint: string | null }): HostKeyPin {
  return {
    expected: balancer.hostKeyFingerprint,
    changedMessage: (detail) =>
      `Refused to connect to load balancer ${balancer.name}: the SSH host key of ${balancer.host} has changed since Ocim first connected. ${detail} ` +
      "Nothing was uploaded or run. Either someone is intercepting the connection, or the host was reinstalled: compare with " +
      "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host, and if it is the new key, clear the recorded one on this balancer's admin page.",
    async record(fingerprint) {
      // Only where none is recorded: of two first connections at once, the second must see the same key.
      const { count } = await deps.db.loadBalancer.updateMany({ where: { id: balancer.id, hostKeyFingerprint: null }, data: { hostKeyFingerprint: fingerprint } });
      if (count > 0) {
        deps.log.info({ loadBalancerId: balancer.id, fingerprint }, "lb.host_key.recorded");
        return null;
      }
      const row = await deps.db.loadBalancer.findUnique({ where: { id: balancer.id }, select: { hostKeyFingerprint: true } });
      return row?.hostKeyFingerprint ?? null;
    },
  };
}

/** Forgets the recorded key (audited): the next connection records whatever key the host has then. */
export async function clearBalancerHostKey(deps: Pick<Deps, "db">, input: { actor: Actor; id: number }): Promise<{ name: string; cleared: string | null }> {
  return deps.db.$transaction(async (tx) => {
    const before = await tx.loadBalancer.findUnique({ where: { id: input.id }, select: { id: true, name: true, kind: true, hostKeyFingerprint: true } });
    if (!before) throw notFound("Load balancer");
    if (before.kind !== "ssh") throw new AppError("validation", `Load balancer ${before.name} is local: Ocim does not connect to it over SSH.`);
    if (before.hostKeyFingerprint === null) return { name: before.name, cleared: null };
    await tx.loadBalancer.update({ where: { id: before.id }, data: { hostKeyFingerprint: null } });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "load_balancer.host_key_cleared", subjectType: "LoadBalancer", subjectId: before.id, subjectName: before.name,
      before: { hostKeyFingerprint: before.hostKeyFingerprint }, after: { hostKeyFingerprint: null },
    });
    return { name: before.name, cleared: before.hostKeyFingerprint };
  });
}
