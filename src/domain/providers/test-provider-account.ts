// "Test connection" of a provider account: for OpenStack, signs in with Keystone and looks up the
// flavor, image, networks, external network and key pair the settings name (as a launch would, but
// creating nothing); for the local provider, checks what its VMs need on this host. The outcome is
// audited; neither it nor the audit row ever carries a credential.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { createLocalProvider } from "../../adapters/provider/local.js";
import { localProviderOptions, openstackOptions } from "../../adapters/provider/factory.js";
import { checkOpenstackAccount } from "../../adapters/provider/openstack-check.js";
import { ProviderError, type ConnectionCheck } from "../../adapters/provider/port.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

export async function testProviderAccount(
  deps: Pick<Deps, "db" | "secrets" | "config" | "log" | "now">,
  input: { actor: Actor; id: number },
): Promise<ConnectionCheck & { name: string }> {
  const account = await deps.db.providerAccount.findUnique({ where: { id: input.id }, select: { id: true, name: true, kind: true, settings: true, credentialsEncrypted: true } });
  if (!account) throw notFound("Provider account");
  let check: ConnectionCheck;
  try {
    check = account.kind === "local"
      ? await createLocalProvider(localProviderOptions(deps)).check()
      : await checkOpenstackAccount(openstackOptions(deps, account));
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    check = { ok: false, lines: [err.message] };
  }
  await recordAuditEvent(deps.db, {
    actor: input.actor, action: "provider_account.connection_tested", subjectType: "ProviderAccount", subjectId: account.id, subjectName: account.name,
    after: { result: check.ok ? "works" : "failed", findings: check.lines.join("\n") },
  });
  deps.log.info({ event: "provider_account.connection_tested", account: account.name, ok: check.ok }, "provider_account.connection_tested");
  return { name: account.name, ...check };
}
