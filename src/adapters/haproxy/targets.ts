// Which implementation of the haproxy port a balancer uses, by its kind.
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { createLocalTarget } from "./local.js";
import { createSshTarget } from "./ssh.js";
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
}

export function haproxyTargetFor(deps: { config: Config; log: Logger }, balancer: TargetBalancer): HaproxyTarget {
  if (balancer.kind === "local") return createLocalTarget(deps, balancer);
  if (balancer.host === undefined || balancer.fragmentName === undefined) throw new AppError("internal", `Load balancer ${balancer.name}: its SSH settings were not loaded.`);
  return createSshTarget(
    { ...deps, ssh: createSsh2Client({ connectTimeoutMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 }) },
    { name: balancer.name, host: balancer.host, sshUser: balancer.sshUser ?? "", sshPort: balancer.sshPort ?? 22, configPath: balancer.configPath, mapPath: balancer.mapPath, reloadCommand: balancer.reloadCommand ?? "", fragmentName: balancer.fragmentName },
  );
}
