// Which implementation of the haproxy port a balancer uses, by its kind.
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { createLocalTarget } from "./local.js";
import type { HaproxyTarget } from "./port.js";

export interface TargetBalancer {
  name: string;
  kind: "local" | "ssh";
  configPath: string;
  mapPath: string;
}

export function haproxyTargetFor(deps: { config: Config; log: Logger }, balancer: TargetBalancer): HaproxyTarget {
  if (balancer.kind === "local") return createLocalTarget(deps, balancer);
  // The ssh target (SFTP upload, remote `haproxy -c`, reload command) waits for src/adapters/ssh/;
  // port.ts's RemoteHost lists what it needs. Until then it fails loudly instead of pretending.
  throw new AppError("unavailable", `Load balancer ${balancer.name} is reached over SSH, which Ocim cannot apply yet; use a local balancer or apply its files by hand.`);
}
