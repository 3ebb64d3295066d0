// The Open edX releases Ocim's recipes know (DESIGN §5, docs/recipes.md). Each named release has a
// branch in every Open edX repository: `open-release/<name>.master` up to Sumac, `release/<name>`
// from Teak on (Tutor 20's and 21's OPENEDX_COMMON_VERSION are `release/teak.N`, `release/ulmo.N`,
// tags on those branches); Tutor's major version N installs
// one release (overhangio/tutor's CHANGELOG and docs: 13 Maple … 21 Ulmo); openedx/configuration
// was archived after Quince, so the native recipe stops there.
// tests/recipe-releases.test.ts checks this table against the real names.

export interface OpenedxRelease {
  /** The release's name as an instance stores it (openedxRelease): lowercase, e.g. "ulmo". */
  name: string;
  /** The major version of Tutor that installs it. */
  tutorMajor: number;
  /** openedx/configuration's branch for it; null after Quince (the repository is archived). */
  configurationBranch: string | null;
}

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

/** The branch every Open edX repository names a release by (renamed from Teak, Tutor 20, on). */
export function releaseBranch(r: OpenedxRelease): string {
  return r.tutorMajor >= 20 ? `release/${r.name}` : `open-release/${r.name}.master`;
}
