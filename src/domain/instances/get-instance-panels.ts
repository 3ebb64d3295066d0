// The instance page's panels under its settings (Data, HTTPS, Decommission) in one Prisma query:
// with relationJoins, one statement. Read one query per panel, they were three of the page's six
// Prisma queries, and each costs the web process about 1 ms of CPU (bench/README.md, issue 17).
import type { Deps } from "../../deps.js";
import { CERTIFICATE_SELECT, certificateStateOf, type CertificateState } from "../certificates/get-certificates.js";
import { DATA_PANEL_SELECT, dataPanelOf, type DataPanelService } from "../data/get-instance-data.js";
import { decommissionOf, LIVE_APPSERVERS, type Decommission } from "./get-decommission.js";

export interface InstancePanels {
  data: DataPanelService[];
  certificate: CertificateState | null;
  decommission: Decommission;
}

/** `instance`: as the page read it (getInstance), for the state the Decommission panel starts from. */
export async function getInstancePanels(
  deps: Pick<Deps, "db" | "now">,
  input: { instance: { id: number } & Parameters<typeof decommissionOf>[0] },
): Promise<InstancePanels> {
  const row = await deps.db.instance.findUniqueOrThrow({
    where: { id: input.instance.id },
    select: { ...DATA_PANEL_SELECT, certificate: { select: CERTIFICATE_SELECT }, appServers: LIVE_APPSERVERS },
  });
  return {
    data: dataPanelOf(row),
    certificate: row.certificate ? certificateStateOf(row.certificate, deps.now()) : null,
    decommission: decommissionOf(input.instance, row.appServers),
  };
}
