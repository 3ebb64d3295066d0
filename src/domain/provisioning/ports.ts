// What provisioning needs from the outside world: a provider to make VMs and a shell on the VM.
// Only the calls the job really makes (STYLE: a port lists only those).
export type VmState = "pending" | "building" | "booting" | "ready" | "terminated" | "failed" | "unknown";

export interface Vm {
  id: string;
  name: string;
  status: VmState;
  publicIp: string | null;
  sshPort: number;
}

export interface VmProvider {
  createServer(input: { name: string }): Promise<Vm>;
  getServer(id: string): Promise<Vm | null>;
  findServerByName(name: string): Promise<Vm | null>;
  deleteServer(id: string): Promise<void>;
}

export interface VmShell {
  exec(command: string, opts?: { timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  uploadFile(path: string, content: string | Buffer, mode?: number): Promise<void>;
  readFrom(path: string, offset: number, maxBytes: number): Promise<{ bytes: Buffer; newOffset: number }>;
  close(): Promise<void>;
}

export interface ProvisioningPorts {
  provider(kind: string): VmProvider;
  connect(vm: Vm, deadlineMs: number): Promise<VmShell>;
}
