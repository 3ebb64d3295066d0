// What an audit action is called on pages, in the glossary's words (docs/glossary.md): an appserver's
// status changes say the status it reached (the console's badge word), not a third name for it.
// The action codes themselves are stored and filtered on, so they never change.
const LABELS: Record<string, string> = {
  "appserver.launched": "AppServer launched",
  "appserver.vm_requested": "status → waiting (VM requested)",
  "appserver.vm_ready": "status → configuring (VM ready)",
  "appserver.succeeded": "status → running",
  "appserver.failed": "status → failed",
  "appserver.error": "status → error",
  "appserver.cancelled": "provisioning cancelled",
  "appserver.activated": "activated",
  "appserver.activated_exclusively": "activated, the others deactivated",
  "appserver.deactivated": "deactivated",
  "appserver.terminated": "status → terminated",
  "appserver.pinned": "pinned (cleanup keeps it)",
  "appserver.unpinned": "unpinned",
  "rollout.started": "roll-out started",
  "rollout.paused": "roll-out paused",
  "rollout.resumed": "roll-out resumed",
  "rollout.cancelled": "roll-out cancelled",
};

/** The words for an audit action; an action without its own words shows its code. */
export function actionLabel(action: string): string {
  return LABELS[action] ?? action;
}
