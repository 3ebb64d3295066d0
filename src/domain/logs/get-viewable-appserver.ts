// The appserver whose log or status a user asks for, if it exists and they may see it.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { maySeeAppServer } from "../auth/may-see.js";
import type { SessionUser } from "../auth/login-github-user.js";

export interface ViewableAppServer {
  id: number;
  instanceId: number;
  name: string;
  status: string;
  vmStatus: string;
  isActive: boolean;
  failureSummary: string;
  statusChangedAt: Date;
  instance: { id: number; name: string };
}

/** By its id, or by its instance and number (its page's address: one query instead of two). */
export type AppServerKey = { appServerId: number } | { instanceId: number; number: number };

/** Prisma's unique key for an AppServerKey. */
export function appServerWhere(key: AppServerKey) {
  return "appServerId" in key ? { id: key.appServerId } : { instanceId_number: { instanceId: key.instanceId, number: key.number } };
}

/** The appserver read by its key, refused when it is missing (404) or the user may not see it (403). */
export function viewableOrThrow<T extends { id: number; instanceId: number }>(user: SessionUser, appServer: T | null): T {
  if (!appServer) throw notFound("AppServer");
  if (!maySeeAppServer(user, appServer)) throw new AppError("forbidden", "You may not see this appserver.");
  return appServer;
}

export async function getViewableAppServer(
  deps: Pick<Deps, "db">,
  input: AppServerKey & { user: SessionUser | null },
): Promise<ViewableAppServer> {
  if (!input.user) throw new AppError("unauthenticated", "Log in to see this appserver.");
  const appServer = await deps.db.appServer.findUnique({
    where: appServerWhere(input),
    select: {
      id: true, instanceId: true, name: true, status: true, vmStatus: true, isActive: true, failureSummary: true, statusChangedAt: true,
      instance: { select: { id: true, name: true } },
    },
  });
  return viewableOrThrow(input.user, appServer);
}
