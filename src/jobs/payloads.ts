// One schema per job payload; handlers parse with it, so a malformed job fails loudly.
import { z } from "zod";
import { JOB, type JobName } from "./names.js";

const id = z.number().int().positive();
// The actor is an id too: the handler loads the user, so a payload never carries more than ids.
const action = z.object({ appServerId: id, actorId: id.nullable() }).strict();

export const PAYLOADS = {
  [JOB.provisionAppServer]: z.object({ appServerId: id }).strict(),
  [JOB.activateAppServer]: action.extend({ deactivateOthers: z.boolean() }).strict(),
  [JOB.deactivateAppServer]: action,
  [JOB.terminateAppServer]: action,
  [JOB.deleteAppServerVm]: z.object({ appServerId: id }).strict(),
  [JOB.stopPlaybook]: z.object({ appServerId: id }).strict(),
  [JOB.applyLoadBalancer]: z.object({ loadBalancerId: id }).strict(),
  [JOB.sendNotification]: z.object({ deliveryId: id }).strict(),
  [JOB.advanceRollout]: z.object({ rolloutId: id }).strict(),
  // Periodic jobs take nothing: their job id names the time slot, which de-duplicates them.
  [JOB.cleanup]: z.object({}).strict(),
  [JOB.lbSync]: z.object({}).strict(),
  [JOB.logPurge]: z.object({}).strict(),
  [JOB.sshKeysSync]: z.object({}).strict(),
  [JOB.orphans]: z.object({}).strict(),
  [JOB.reconcile]: z.object({}).strict(),
  [JOB.certificateRenewal]: z.object({}).strict(),
  [JOB.dailyNotifications]: z.object({}).strict(),
  [JOB.syncPullRequest]: z.object({ watchedRepositoryId: id, pullRequestNumber: id }).strict(),
  [JOB.pollPullRequests]: z.object({}).strict(),
  [JOB.advanceRollouts]: z.object({}).strict(),
} satisfies Record<JobName, z.ZodType>;

export type Payload<N extends JobName> = z.infer<(typeof PAYLOADS)[N]>;
