// The Open edX releases Ocim's recipes know (DESIGN §5, docs/recipes.md). Tutor's major version N
// installs one release (overhangio/tutor's CHANGELOG.md, "Upgrade to <release>" in each vN.0.0:
// 13 Maple … 21 Ulmo); openedx/configuration was archived after Quince, so the native recipe stops
// there. Up to Sumac every Open edX repository names a release's branch `open-release/<name>.master`
// (tags `open-release/<name>.N`); from Teak on the branch is `release/<name>` (tags
// `release/<name>.N`: Tutor 20.0.0 pins `release/teak.1`, 21.0.0 `release/ulmo.1`, and Tutor's
// docs/configuration.rst speaks of "the release/ulmo branch").
// tests/recipe-releases.test.ts checks this table against the real names.

export interface OpenedxRelease {
  /** The release's name as an instance stores it (openedxRelease): lowercase, e.g. "ulmo". */
  name: string;
  /** The major version of Tutor that installs it. */
  tutorMajor: number;
  /** openedx/configuration's branch for it; null after Quince (the repository is archived). */
  configurationBranch: string | null;
}

/** The first release whose branches are `release/<name>` rather than `open-release/<name>.master`. */
const RENAMED_BRANCHES_FROM = 20;

const release = (name: string, tutorMajor: number, native: boolean): OpenedxRelease => ({
  name,
  tutorMajor,
  configurationBranch: native ? `open-release/${name}.master` : null,
});

/** Oldest first. */
export const OPENEDX_RELEASES: readonly OpenedxRelease[] = [
  release("maple", 13, true),
  release("nutmeg", 14, true),
  release("olive", 15, true),
  release("palm", 16, true),
  release("quince", 17, true),
  release("redwood", 18, false),
  release("sumac", 19, false),
  release("teak", 20, false),
  release("ulmo", 21, false),
];

/** The newest release: the default of new instances. */
export const LATEST_RELEASE = OPENEDX_RELEASES[OPENEDX_RELEASES.length - 1]!;

export function findRelease(name: string): OpenedxRelease | undefined {
  return OPENEDX_RELEASES.find((r) => r.name === name.trim().toLowerCase());
}

/** A release as an instance stores it and the console shows it: a named one as the table spells it ("Ulmo " → "ulmo"), any other ref as given. */
export function releaseName(value: string): string {
  return findRelease(value)?.name ?? value;
}

/** The branch every Open edX repository names a release by (renamed from Teak, Tutor 20, on). */
export function releaseBranch(r: OpenedxRelease): string {
  return r.tutorMajor >= RENAMED_BRANCHES_FROM ? `release/${r.name}` : `open-release/${r.name}.master`;
}
