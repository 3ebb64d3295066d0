// Local-provider VMs for a test file: a DATA_DIR of its own and a loopback range of its own
// (127.<random>.<random>.N), so files running in parallel never share an address. cleanup()
// deletes every VM under that DATA_DIR (stopping its sshd and what it left running), even those
// a failed test did not get to delete.
import { mkdtempSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { connectVm } from "../../src/adapters/provider/connect-vm.js";
import { localProviderOptions } from "../../src/adapters/provider/factory.js";
import { createLocalProvider } from "../../src/adapters/provider/local.js";
import { readRecord, vmPaths } from "../../src/adapters/provider/local-vm.js";
import type { Provider, ServerInfo } from "../../src/adapters/provider/port.js";
import { tryBind } from "../../src/adapters/provider/tcp.js";
import type { SshSession } from "../../src/adapters/ssh/port.js";
import { createSsh2Client } from "../../src/adapters/ssh/ssh2.js";
import { testConfig } from "./deps.js";

export interface LocalVms {
  dataDir: string;
  addressPrefix: string;
  /** The settings that point Ocim at these VMs (for createTestDeps or a worker process). */
  env: Record<string, string>;
  /** A new provider object on the same DATA_DIR, as after a restart of Ocim. */
  provider(): Provider;
  connect(vm: ServerInfo, deadlineMs?: number): Promise<SshSession>;
  cleanup(): Promise<void>;
}

export async function localVms(): Promise<LocalVms> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-vms-"));
  const rand = () => 64 + Math.floor(Math.random() * 180);
  const addressPrefix = `127.${rand()}.${rand()}`;
  // Port 22 as on a real VM, unless this machine's own sshd holds it on every address.
  const sshPort = (await tryBind(`${addressPrefix}.2`, 22)) === null ? 0 : 22;
  const env = { DATA_DIR: dataDir, LOCAL_VM_ADDRESS_PREFIX: addressPrefix, LOCAL_VM_SSH_PORT: String(sshPort) };
  const config = testConfig(env);
  const provider = () => createLocalProvider(localProviderOptions({ config, log: pino({ level: "silent" }) }));
  const ssh = createSsh2Client({ connectTimeoutMs: 20_000 });
  const sessions: SshSession[] = [];
  return {
    dataDir,
    addressPrefix,
    env,
    provider,
    async connect(vm, deadlineMs = 20_000) {
      const session = await connectVm(ssh, provider(), vm, deadlineMs);
      sessions.push(session);
      return session;
    },
    async cleanup() {
      await Promise.all(sessions.map((s) => s.close().catch(() => {})));
      const p = provider();
      const names = await readdir(path.join(dataDir, "vms")).catch(() => [] as string[]);
      for (const name of names.filter((n) => !n.startsWith("."))) {
        // By the record, not findServerByName: that would first restart an sshd a test killed.
        const record = await readRecord(vmPaths(path.join(dataDir, "vms"), name)).catch(() => null);
        if (record) await p.deleteServer(record.id);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
