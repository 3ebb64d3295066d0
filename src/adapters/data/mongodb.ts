// PLACEHOLDER for type-checking only: helper d2 writes the real MongoDB adapter; the lead replaces
// this file with d2's at merge.
import { z } from "zod";
import type { DataServiceAdapter } from "./port.js";

export const mongodbSettingsSchema = z.object({}).passthrough();
export const mongodbCredentialsSchema = z.object({}).passthrough();

export function createMongodbAdapter(_settings: unknown, _credentials: unknown): DataServiceAdapter {
  throw new Error("not built yet");
}
