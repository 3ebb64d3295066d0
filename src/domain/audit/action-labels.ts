// What an audit action is called on pages, in the glossary's words (docs/glossary.md): an appserver's
// status changes say the status it reached (the console's badge word), not a third name for it; the
// others name their subject, as the audit trail's Action filter lists them without it.
// The action codes themselves are stored and filtered on, so they never change. Every code written
// is one of these keys (recordAuditEvent takes an AuditAction), so none reaches a page as a code.
const LABELS = {
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
  "instance.created": "instance added",
  "instance.updated": "instance settings changed",
  "instance.archived": "instance archived",
  "instance.deleted": "instance deleted",
  "instance.maintenance_entered": "maintenance on (domains answer 503)",
  "instance.maintenance_left": "maintenance off",
  "instance.secrets_revealed": "instance secrets revealed",
  "instance.data_checked": "instance data checked",
  "instance.data.dropped": "instance data dropped",
  "instance.data.drop_failed": "instance data not dropped (failed)",
  "kept_data.dropped": "kept data dropped",
  "kept_data.drop_failed": "kept data not dropped (failed)",
  "certificate.uploaded": "HTTPS certificate uploaded",
  "data_service.created": "data service added",
  "data_service.updated": "data service changed",
  "data_service.deleted": "data service deleted",
  "load_balancer.created": "load balancer added",
  "load_balancer.updated": "load balancer changed",
  "load_balancer.deleted": "load balancer deleted",
  "load_balancer.host_key_cleared": "load balancer host key forgotten",
  "provider_account.created": "provider account added",
  "provider_account.updated": "provider account changed",
  "provider_account.deleted": "provider account deleted",
  "provider_account.connection_tested": "provider account connection tested",
  "notification_channel.created": "notification channel added",
  "notification_channel.updated": "notification channel changed",
  "notification_channel.deleted": "notification channel deleted",
  "notification_channel.tested": "notification channel tested",
  "watched_repository.created": "watched repository added",
  "watched_repository.updated": "watched repository changed",
  "watched_repository.deleted": "watched repository deleted",
  "sandbox.pull_request_closed": "pull request closed",
  "sandbox.pull_request_reopened": "pull request reopened",
  "user.created": "user added",
  "user.created_on_login": "user added at first login",
  "user.updated": "user changed",
  "user.made_admin": "user made admin",
  "user.deleted": "user deleted",
  "api_token.created": "API token made",
  "api_token.revoked": "API token revoked",
  "job.run_by_hand": "job run by hand",
} as const satisfies Record<string, string>;

export type AuditAction = keyof typeof LABELS;

/** The codes whose words contain `text` (any case): the audit trail's search finds what its pages show. */
export function actionsLabelled(text: string): AuditAction[] {
  const wanted = text.toLowerCase();
  return (Object.keys(LABELS) as AuditAction[]).filter((code) => LABELS[code].toLowerCase().includes(wanted));
}

/** The words for an audit action; a code no longer written (an older row) shows as it is. */
export function actionLabel(action: string): string {
  return (LABELS as Record<string, string>)[action] ?? action;
}
