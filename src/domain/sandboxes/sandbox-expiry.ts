// When a closed pull request's sandbox is removed (archived, its appservers terminated) by the
// cleanup: keepDaysAfterClose days after the pull request closed (docs/pr-sandboxes.md).
const DAY = 86_400_000;

export interface SandboxClosure {
  pullRequestClosedAt: Date | null;
  watchedRepository: { keepDaysAfterClose: number } | null;
}

/** The sandbox's removal date, or null when it is no sandbox or its pull request is open. */
export function sandboxRemoveOn(instance: SandboxClosure): Date | null {
  if (!instance.pullRequestClosedAt || !instance.watchedRepository) return null;
  return new Date(instance.pullRequestClosedAt.getTime() + instance.watchedRepository.keepDaysAfterClose * DAY);
}

/** What getCleanupPlan and getCleanupDue read of an appserver's instance for it. */
export const SANDBOX_CLOSURE_SELECT = { pullRequestClosedAt: true, watchedRepository: { select: { keepDaysAfterClose: true } } } as const;
