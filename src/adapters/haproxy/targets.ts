// Which implementation of the haproxy port a balancer uses, by its kind.
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { createLocalTarget } from "./local.js";
import { createSshTarget, type HostKeyPin, type SshBalancer } from "./ssh.js";
import { localChallengeMap, type ChallengeMap } from "./local-acme.js";
import { sshChallengeMap } from "./ssh-acme.js";
import { createSsh2Client } from "../ssh/ssh2.js";
import type { HaproxyTarget } from "./port.js";

export interface TargetBalancer {
  name: string;
  kind: "local" | "ssh";
  configPath: string;
  mapPath: string;
  host?: string;
  sshUser?: string;
  sshPort?: number;
  reloadCommand?: string;
  fragmentName?: string;
  httpsBind?: string;
}

type TargetDeps = { config: Config; log: Logger };

/** `pin`: the ssh balancer's pinned host key (domain/loadbalancer/host-key.ts). */
export function haproxyTargetFor(deps: TargetDeps, balancer: TargetBalancer, pin?: HostKeyPin): HaproxyTarget {
  if (balancer.kind === "local") return createLocalTarget(deps, balancer);
  return createSshTarget(sshDeps(deps), sshBalancer(balancer), pin);
}

/** Where the ACME challenges of the balancer's instances are answered; `close` ends its connection. */
export function challengeMapFor(deps: TargetDeps, balancer: TargetBalancer, pin?: HostKeyPin): ChallengeMap & { close(): Promise<void> } {
  if (balancer.kind === "local") return { ...localChallengeMap(balancer), close: async () => undefined };
  return sshChallengeMap(sshDeps(deps), sshBalancer(balancer), pin);
}

function sshDeps(deps: TargetDeps) {
  return { ...deps, ssh: createSsh2Client({ connectTimeoutMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 }) };
}

function sshBalancer(balancer: TargetBalancer): SshBalancer {
  if (balancer.host === undefined || balancer.fragmentName === undefined) throw new AppError("internal", `Load balancer ${balancer.name}: its SSH settings were not loaded.`);
  return {
    name: balancer.name, host: balancer.host, sshUser: balancer.sshUser ?? "", sshPort: balancer.sshPort ?? 22, configPath: balancer.configPath, mapPath: balancer.mapPath,
    reloadCommand: balancer.reloadCommand ?? "", fragmentName: balancer.fragmentName, httpsBind: balancer.httpsBind ?? "",
  };
}
