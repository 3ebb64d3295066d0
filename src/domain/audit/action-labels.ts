// What an audit action is called on pages, in the glossary's words (docs/glossary.md): an appserver's
// status changes say the status it reached (the console's badge word), not a third name for it; the
// others name their subject, as the audit trail's Action filter lists them without it.
// Each starts with a capital, as the heading of a history entry or a cell of the audit trail does:
// "AppServer launched" (the glossary's spelling) beside "instance added" read as two conventions.
// The action codes themselves are stored and filtered on, so they never change. Every code written
// is one of these keys (recordAuditEvent takes an AuditAction), so none reaches a page as a code.
const LABELS = {
  "appserver.launched": "AppServer launched",
  "appserver.vm_requested": "Status → waiting (VM requested)",
  "appserver.vm_ready": "Status → configuring (VM ready)",
  "appserver.succeeded": "Status → running",
  "appserver.failed": "Status → failed",
  "appserver.error": "Status → error",
  "appserver.cancelled": "Provisioning cancelled",
  "appserver.activated": "Activated",
  "appserver.activated_exclusively": "Activated, the others deactivated",
  "appserver.deactivated": "Deactivated",
  "appserver.terminated": "Status → terminated",
  "appserver.pinned": "Pinned (cleanup keeps it)",
  "appserver.unpinned": "Unpinned",
  "rollout.started": "Roll-out started",
  "rollout.paused": "Roll-out paused",
  "rollout.resumed": "Roll-out resumed",
  "rollout.cancelled": "Roll-out cancelled",
  "instance.created": "Instance added",
  "instance.updated": "Instance settings changed",
  "instance.archived": "Instance archived",
  "instance.deleted": "Instance deleted",
  "instance.maintenance_entered": "Maintenance on (domains answer 503)",
  "instance.maintenance_left": "Maintenance off",
  "instance.secrets_revealed": "Instance secrets revealed",
  "instance.data_checked": "Instance data checked",
  "instance.data.dropped": "Instance data dropped",
  "instance.data.drop_failed": "Instance data not dropped (failed)",
  "kept_data.dropped": "Kept data dropped",
  "kept_data.drop_failed": "Kept data not dropped (failed)",
  "certificate.uploaded": "HTTPS certificate uploaded",
  "data_service.created": "Data service added",
  "data_service.updated": "Data service changed",
  "data_service.deleted": "Data service deleted",
  "load_balancer.created": "Load balancer added",
  "load_balancer.updated": "Load balancer changed",
  "load_balancer.deleted": "Load balancer deleted",
  "load_balancer.host_key_cleared": "Load balancer host key forgotten",
  "provider_account.created": "Provider account added",
  "provider_account.updated": "Provider account changed",
  "provider_account.deleted": "Provider account deleted",
  "provider_account.connection_tested": "Provider account connection tested",
  "notification_channel.created": "Notification channel added",
  "notification_channel.updated": "Notification channel changed",
  "notification_channel.deleted": "Notification channel deleted",
  "notification_channel.tested": "Notification channel tested",
  "watched_repository.created": "Watched repository added",
  "watched_repository.updated": "Watched repository changed",
  "watched_repository.deleted": "Watched repository deleted",
  "sandbox.pull_request_closed": "Pull request closed",
  "sandbox.pull_request_reopened": "Pull request reopened",
  "user.created": "User added",
  "user.created_on_login": "User added at first login",
  "user.updated": "User changed",
  "user.made_admin": "User made admin",
  "user.deleted": "User deleted",
  "api_token.created": "API token made",
  "api_token.revoked": "API token revoked",
  "job.run_by_hand": "Job run by hand",
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
