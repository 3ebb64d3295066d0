// Every job handler is registered here (one place to see what the worker does).
import type { Worker } from "bullmq";
import type { Deps } from "../deps.js";

export function startWorkers(_deps: Deps): Worker[] {
  return [];
}
