// The release table (src/domain/recipes/releases.ts) against what Tutor itself says, read from
// overhangio/tutor at f9c2a3916959d57ea1e40202f4e385f3d988bf34 (v21.0.8):
//  - CHANGELOG.md: each vN.0.0 "Upgrade to <Release>" (v19.0.0's entry is "Upgrade to Sumac");
//  - tutor/templates/config/defaults.yml at each tag vN.0.0: OPENEDX_COMMON_VERSION, the tag of
//    every Open edX repository that Tutor N builds. Its prefix is the release's branch scheme:
//    `open-release/<name>.N` tags sit on `open-release/<name>.master` branches up to Sumac, and
//    `release/<name>.N` on `release/<name>` from Teak on (Tutor's docs/configuration.rst: "the
//    release/ulmo branch").
// openedx/configuration's last release branch is open-release/quince.master (the repository is
// archived): only releases up to Quince have one.
import { describe, expect, it } from "vitest";
import { LATEST_RELEASE, OPENEDX_RELEASES, findRelease, releaseBranch } from "../src/domain/recipes/releases.js";

const TUTOR: { major: number; release: string; commonVersion: string }[] = [
  { major: 13, release: "Maple", commonVersion: "open-release/maple.1" },
  { major: 14, release: "Nutmeg", commonVersion: "open-release/nutmeg.1" },
  { major: 15, release: "Olive", commonVersion: "open-release/olive.1" },
  { major: 16, release: "Palm", commonVersion: "open-release/palm.1" },
  { major: 17, release: "Quince", commonVersion: "open-release/quince.1" },
  { major: 18, release: "Redwood", commonVersion: "open-release/redwood.1" },
  { major: 19, release: "Sumac", commonVersion: "open-release/sumac.1" },
  { major: 20, release: "Teak", commonVersion: "release/teak.1" },
  { major: 21, release: "Ulmo", commonVersion: "release/ulmo.1" },
];

/** The branch a release tag sits on, by the scheme of its name. */
function branchOfTag(tag: string): string {
  const old = /^open-release\/([a-z]+)\.\d+$/.exec(tag);
  if (old) return `open-release/${old[1]}.master`;
  const renamed = /^release\/([a-z]+)\.\d+$/.exec(tag);
  if (renamed) return `release/${renamed[1]}`;
  throw new Error(`not a release tag: ${tag}`);
}

describe("Open edX releases", () => {
  it("pairs each release with the Tutor major that installs it, oldest first", () => {
    expect(OPENEDX_RELEASES.map((r) => [r.name, r.tutorMajor])).toEqual(TUTOR.map((t) => [t.release.toLowerCase(), t.major]));
    expect(LATEST_RELEASE.name).toBe("ulmo");
  });

  it("names each release's branch as its Open edX repositories do (release/<name> from Teak on)", () => {
    for (const t of TUTOR) expect(releaseBranch(findRelease(t.release)!), t.release).toBe(branchOfTag(t.commonVersion));
    expect(releaseBranch(findRelease("ulmo")!)).toBe("release/ulmo");
    expect(releaseBranch(findRelease("sumac")!)).toBe("open-release/sumac.master");
  });

  it("gives openedx/configuration branches only to the releases it has (up to Quince)", () => {
    expect(OPENEDX_RELEASES.filter((r) => r.configurationBranch).map((r) => r.configurationBranch)).toEqual(
      ["maple", "nutmeg", "olive", "palm", "quince"].map((n) => `open-release/${n}.master`),
    );
  });

  it("finds a release by its name in any case and with spaces around, and nothing else", () => {
    expect(findRelease(" Ulmo ")?.name).toBe("ulmo");
    expect(findRelease("master")).toBeUndefined();
  });
});
