// What provisioning needs from a cloud (DESIGN §6): make a VM under a deterministic name, watch
// it come up, find it again after a crash, and remove it. Only the calls the job really makes.
import { AppError } from "../../errors.js";

export type ProviderKind = "local" | "openstack";

/** Same values as the VmStatus column of an appserver (prisma/schema.prisma). */
export type VmStatus = "pending" | "building" | "booting" | "ready" | "terminated" | "failed" | "unknown";

export interface ServerInfo {
  /** The provider's id; store it, and pass it back to getServer/deleteServer. */
  id: string;
  name: string;
  /** "ready" means the SSH port answers; until then the VM is "building" or "booting". */
  status: VmStatus;
  publicIp: string | null;
  sshPort: number;
  /** Absolute directory on the VM where Ocim keeps its files (vars, repository, playbook log). */
  workDir: string;
  /** Why the provider says a "failed" VM failed (Nova's `fault` message), to show the operator. */
  fault?: string;
}

export interface CreateServerInput {
  /** Deterministic (`<instance-slug>-as<N>`), so findServerByName finds a VM made before a crash. */
  name: string;
  /** Labels kept with the VM (OpenStack metadata), e.g. which appserver it belongs to. */
  metadata?: Record<string, string>;
}

/** How to log in to this provider's VMs. The private key is a secret: never log or store it elsewhere. */
export interface SshLogin {
  username: string;
  privateKey: string;
}

export interface Provider {
  readonly kind: ProviderKind;
  /** False when "VMs" share this host (the local provider): say so to the operator. */
  readonly isolated: boolean;
  /** Creates a VM. Call findServerByName first: names are not unique everywhere (Nova allows twins). */
  createServer(input: CreateServerInput): Promise<ServerInfo>;
  /** Null when the provider has no such VM (deleted, or never existed). */
  getServer(id: string): Promise<ServerInfo | null>;
  findServerByName(name: string): Promise<ServerInfo | null>;
  /**
   * Every VM Ocim made that the provider still has and is not deleting (for the orphan check:
   * VMs the database does not know). Never another tool's VM, even in the same project.
   */
  listServers(): Promise<{ id: string; name: string }[]>;
  /** Removes the VM. Deleting a VM that is already gone is not an error. */
  deleteServer(id: string): Promise<void>;
  sshLogin(): Promise<SshLogin>;
}

/** What "Test connection" found: each thing checked, found or failing, one line each. */
export interface ConnectionCheck {
  ok: boolean;
  lines: string[];
}

/**
 * A provider call that did not work. `transient` problems (5xx, timeouts, refused connections)
 * may go away on a retry with backoff; permanent ones (bad credentials, a rejected request) will
 * not, and retrying only hides them (the worker reads this in src/jobs/retry.ts). Messages never
 * contain credentials or tokens.
 */
export class ProviderError extends AppError {
  constructor(
    message: string,
    public readonly transient: boolean,
    details: Record<string, unknown> = {},
  ) {
    super("unavailable", message, { ...details, transient });
    this.name = "ProviderError";
  }
}

/** Local VM names become directory names, so the allowed set is narrow (it is what Ocim generates). */
export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
