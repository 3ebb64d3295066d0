// Builds the provisioning ports from the real adapters (providers, SSH).
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";

export function createProvisioningPorts(_deps: Deps): ProvisioningPorts {
  return {
    provider(kind) {
      throw new AppError("unavailable", `The ${kind} provider is not available yet.`);
    },
    async connect() {
      throw new AppError("unavailable", "SSH is not available yet.");
    },
  };
}
