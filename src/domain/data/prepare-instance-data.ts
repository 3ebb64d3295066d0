// Makes what an instance keeps on its data services exist (the prepare-data provisioning step):
// for each service the instance uses, ensure its part of the plan and record what the service
// said. Idempotent: the adapters change nothing that exists and the rows are upserted. A service
// that refuses or is unreachable throws its DataServiceError (the caller decides: stop or retry).
import type { Deps } from "../../deps.js";
import { DataServiceError } from "../../adapters/data/port.js";
import { KIND_LABELS, adapterFor, describeReady, serviceLocation, usedServices } from "./instance-services.js";
import { recordDataResources } from "./record-resources.js";

export async function prepareInstanceData(deps: Pick<Deps, "db" | "secrets" | "now" | "config">, input: { instanceId: number; say(line: string): Promise<void> }): Promise<void> {
  const { slug, services } = await usedServices(deps, input.instanceId);
  if (!services.length) {
    await input.say("No MySQL, MongoDB or storage service is chosen for this instance: its data stays on each appserver.");
    return;
  }
  for (const { service, plan } of services) {
    const where = `${KIND_LABELS[service.kind]} ${serviceLocation(service)}`;
    const adapter = adapterFor(deps, service);
    try {
      const states = await adapter.ensure(plan);
      await recordDataResources(deps, input.instanceId, slug, service.id, states);
      const failed = states.find((s) => s.status !== "exists");
      if (failed) throw new DataServiceError(`${where}: ${failed.kind} ${failed.name} is ${failed.status}${failed.detail ? `: ${failed.detail}` : ""}.`, false);
      await input.say(`${where}: ${describeReady(states)}.`);
      for (const s of states) if (s.detail) await input.say(`${where}: ${s.kind} ${s.name}: ${s.detail}.`);
    } catch (err) {
      if (!(err instanceof DataServiceError)) throw err;
      // Name the service as the admin area does, so the operator knows which row to fix.
      throw new DataServiceError(`${KIND_LABELS[service.kind]} service "${service.name}" ${err.transient ? "could not be reached" : "refused"}: ${err.message}`, err.transient);
    } finally {
      await adapter.close();
    }
  }
}
