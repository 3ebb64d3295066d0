// The port between "apply a load balancer" and the haproxy it configures. Two steps, so the caller
// can check it still holds the balancer's lock between validating and replacing the live files.
import type { RenderedFragment } from "../../domain/loadbalancer/render-config.js";

export interface HaproxyTarget {
  /**
   * Writes the candidate files beside the live ones and checks them with `haproxy -c`. The live
   * files and the running haproxy are untouched; a rejected candidate throws HaproxyRejected.
   */
  stage(fragment: RenderedFragment): Promise<StagedConfig>;
  /** Whether a haproxy serves this balancer's config now (false after the host rebooted, say). */
  isRunning(): Promise<boolean>;
}

export interface StagedConfig {
  /** Replaces the live files (atomic renames) and reloads haproxy, confirming it took the new config. */
  commit(): Promise<void>;
  /** Removes the candidate files; harmless after commit. */
  discard(): Promise<void>;
}

/** haproxy refused the candidate; `output` is its trimmed message (paths shown as the live ones, secrets masked). */
export class HaproxyRejected extends Error {
  constructor(readonly output: string) {
    super(output);
    this.name = "HaproxyRejected";
  }
}

