// PLACEHOLDER for type-checking only: helper d1 writes the real MySQL adapter; the lead replaces
// this file with d1's at merge.
import { z } from "zod";
import type { DataServiceAdapter } from "./port.js";

export const mysqlSettingsSchema = z.object({}).passthrough();
export const mysqlCredentialsSchema = z.object({}).passthrough();

export function createMysqlAdapter(_settings: unknown, _credentials: unknown): DataServiceAdapter {
  throw new Error("not built yet");
}
