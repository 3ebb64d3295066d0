// One schema per job payload; handlers parse with it, so a malformed job fails loudly.
import { z } from "zod";
import { JOB, type JobName } from "./names.js";

export const PAYLOADS = {
  [JOB.provisionAppServer]: z.object({ appServerId: z.number().int().positive() }).strict(),
} satisfies Record<JobName, z.ZodType>;

export type Payload<N extends JobName> = z.infer<(typeof PAYLOADS)[N]>;
