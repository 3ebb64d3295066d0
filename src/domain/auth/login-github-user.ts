// After GitHub says who the user is: only active members of GITHUB_ORG get in (DESIGN §12).
import { AppError } from "../../errors.js";
import type { Deps } from "../../deps.js";
import { GithubRateLimited, GithubRefused, type GithubUser, type OrgMembership } from "../../adapters/github/port.js";
import { recordAuditEvent } from "../audit/record-audit-event.js";

export interface SessionUser {
  id: number;
  githubLogin: string;
  name: string;
  avatarUrl: string;
  role: "admin" | "operator";
}

export async function loginGithubUser(
  deps: Pick<Deps, "db" | "config" | "github" | "now">,
  input: { profile: GithubUser; accessToken: string },
): Promise<SessionUser> {
  const org = deps.config.GITHUB_ORG;
  const login = input.profile.login.toLowerCase();
  const membership = org ? await membershipOf(deps, input, org) : "none";
  if (membership === "pending") {
    const invitation = `${deps.config.GITHUB_URL.replace(/^https?:\/\//, "").replace(/\/$/, "")}/orgs/${encodeURIComponent(org!)}/invitation`;
    throw new AppError("forbidden", `${input.profile.login}'s invitation to the GitHub organization "${org}" is pending: accept it at ${invitation}, then log in here again.`, { reason: "invitation_pending" });
  }
  if (membership !== "active") {
    throw new AppError("forbidden", `Only members of the GitHub organization "${org}" may use this console, and ${input.profile.login} is not one.`, { reason: "not_member" });
  }
  const isConfiguredAdmin = deps.config.ADMIN_GITHUB_LOGINS.includes(login);
  return deps.db.$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { githubLogin: login } });
    if (existing && !existing.isActive) {
      throw new AppError("forbidden", `The account ${login} has been deactivated in this console. Ask an admin to reactivate it.`, { reason: "inactive" });
    }
    const user = await tx.user.upsert({
      where: { githubLogin: login },
      create: {
        githubLogin: login,
        name: input.profile.name,
        avatarUrl: input.profile.avatarUrl,
        role: isConfiguredAdmin ? "admin" : "operator",
        lastLoginAt: deps.now(),
      },
      update: {
        name: input.profile.name,
        avatarUrl: input.profile.avatarUrl,
        lastLoginAt: deps.now(),
        ...(isConfiguredAdmin ? { role: "admin" as const } : {}),
      },
    });
    if (!existing) {
      await recordAuditEvent(tx, {
        actor: { id: user.id, login },
        action: "user.created_on_login",
        subjectType: "User",
        subjectId: user.id,
        subjectName: login,
        after: { githubLogin: login, role: user.role },
      });
    }
    return { id: user.id, githubLogin: user.githubLogin, name: user.name, avatarUrl: user.avatarUrl, role: user.role };
  });
}

/** GitHub's answer; a refusal (SAML SSO, OAuth App restrictions) or a rate limit is shown as what it is, never as "not a member". */
async function membershipOf(deps: Pick<Deps, "github">, input: { profile: GithubUser; accessToken: string }, org: string): Promise<OrgMembership> {
  try {
    return await deps.github.orgMembership(input.accessToken, org);
  } catch (err) {
    if (err instanceof GithubRateLimited) {
      throw new AppError("unavailable", `GitHub asks this console to slow down: try logging in again in ${Math.ceil(err.retryAfterMs / 1000)} s.`);
    }
    if (!(err instanceof GithubRefused)) throw err;
    const why = `GitHub would not say whether ${input.profile.login} is a member of "${org}": `;
    const what = {
      sso_required: `the organization enforces SAML single sign-on, and this login is not authorized for it. Sign in through the organization's single sign-on${err.ssoUrl ? ` at ${err.ssoUrl}` : " on GitHub"}, then log in here again.`,
      oauth_app_restricted: "the organization has OAuth App access restrictions and has not approved this console's OAuth app. An owner of the organization must approve it (organization settings, Third-party access); you can ask for it on GitHub's authorization page.",
      incomplete_list: err.message,
      refused: err.message,
    }[err.reason];
    throw new AppError("forbidden", why + what, { reason: err.reason });
  }
}
