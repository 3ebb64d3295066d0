// A roll-out as the form (or any caller) gives it: the filters that choose the instances, the
// target, the wave size and the failure threshold, read field by field with one message per field.
import { validationError } from "../../errors.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { LIMITS } from "../instances/instance-input.js";
import { checkGitRef } from "../instances/setting-rules.js";
import { releaseName } from "../recipes/releases.js";
import type { RolloutFilter } from "./select-instances.js";

/** A wave of more than this many launches at once would be a fleet-wide outage if it went wrong. */
export const MAX_WAVE_SIZE = 50;

export const FILTER_FIELDS = ["release", "tag", "loadBalancerId", "q"] as const;
const FIELDS = [...FILTER_FIELDS, "target", "targetRelease", "targetEdxPlatformBranch", "targetConfigurationBranch", "waveSize", "failureThreshold"] as const;

/** Relaunch on each instance's current settings, or set a release (and branches) first. */
export type RolloutTarget =
  | { kind: "current" }
  | { kind: "release"; release: string; edxPlatformBranch: string; configurationBranch: string };

export interface RolloutInput {
  filter: RolloutFilter;
  target: RolloutTarget;
  waveSize: number;
  failureThreshold: number;
}

/** The filters alone (the preview reads only these); throws a validation error naming the field. */
export function readRolloutFilter(input: Input): RolloutFilter {
  const r = new FieldReader(pick(input, FILTER_FIELDS), FILTER_FIELDS);
  const filter = filterFrom(r);
  if (!r.ok) throw validationError(r.errors);
  return filter;
}

export function readRolloutInput(input: Input): RolloutInput {
  const r = new FieldReader(input, FIELDS);
  const filter = filterFrom(r);
  const target = targetFrom(r);
  const waveSize = r.int("waveSize", { min: 1, max: MAX_WAVE_SIZE }) ?? 0;
  if (r.hasError("waveSize")) r.errors.waveSize = `The wave size is how many instances are relaunched at once: a whole number from 1 to ${MAX_WAVE_SIZE}.`;
  const failureThreshold = thresholdFrom(r);
  if (!r.ok) throw validationError(r.errors);
  return { filter, target, waveSize, failureThreshold };
}

function pick(input: Input, names: readonly string[]): Input {
  return Object.fromEntries(Object.entries(input).filter(([k]) => names.includes(k)));
}

function filterFrom(r: FieldReader): RolloutFilter {
  // As the instances store it ("TEAK" selects the teak instances); a release Ocim does not know stays as typed.
  const release = releaseName(r.text("release", { max: LIMITS.release }));
  const tag = r.text("tag", { max: LIMITS.tag });
  const q = r.text("q", { max: 200 });
  const loadBalancerId = r.int("loadBalancerId", { min: 1, max: 2_147_483_647, fallback: null });
  return { ...(release && { release }), ...(tag && { tag }), ...(q && { q }), ...(loadBalancerId && { loadBalancerId }) };
}

function targetFrom(r: FieldReader): RolloutTarget {
  const kind = r.text("target", { max: 20 }) || "current";
  if (kind === "current") return { kind };
  if (kind !== "release") {
    r.fail("target", `Choose "current settings" or "a release", not "${kind}".`);
    return { kind: "current" };
  }
  // As each instance will store it (validate-instance.ts), so the review and the roll-out say that.
  const release = releaseName(gitRef(r, "targetRelease", LIMITS.release));
  if (!release && !r.hasError("targetRelease")) r.fail("targetRelease", "Give the release to roll out (e.g. teak), or choose the instances' current settings.");
  const edxPlatformBranch = gitRef(r, "targetEdxPlatformBranch", LIMITS.ref);
  const configurationBranch = gitRef(r, "targetConfigurationBranch", LIMITS.ref);
  return { kind, release, edxPlatformBranch, configurationBranch };
}

/**
 * A release or branch, by the rule the admin form applies to the instance field it will be set on
 * (checkGitRef): a value the form refuses would only fail every instance once the roll-out runs.
 */
function gitRef(r: FieldReader, field: string, max: number): string {
  const value = r.text(field, { max });
  const problem = value && !r.hasError(field) ? checkGitRef(value) : null;
  if (problem) r.fail(field, problem);
  return value;
}

function thresholdFrom(r: FieldReader): number {
  const raw = r.text("failureThreshold", { max: 20, required: true });
  if (r.hasError("failureThreshold")) return 0;
  const value = /^\d*\.?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 0 && value <= 1)) {
    r.fail("failureThreshold", `The failure threshold is a ratio from 0 to 1, not "${raw}": 0.25 pauses the roll-out once more than a quarter of the finished instances failed; 0 pauses at the first failure.`);
  }
  return value;
}
