// The models of the admin area, in the order of its index and menu.
import { AppError } from "../../errors.js";
import type { AdminModel } from "./types.js";
import { instanceAdmin } from "./models/instances.js";
import { appServerAdmin } from "./models/app-servers.js";
import { loadBalancerAdmin } from "./models/load-balancers.js";
import { providerAccountAdmin } from "./models/provider-accounts.js";
import { dataServiceAdmin } from "./models/data-services.js";
import { userAdmin } from "./models/users.js";
import { auditEventAdminWith } from "./models/audit-events.js";
import { keptDataAdmin } from "./models/kept-data.js";
import { notificationChannelAdmin } from "./models/notification-channels.js";
import { watchedRepositoryAdmin } from "./models/watched-repositories.js";

const auditEventAdmin = auditEventAdminWith((subjectType) => modelBySubjectType(subjectType));

export const ADMIN_MODELS: readonly AdminModel[] = [
  instanceAdmin, appServerAdmin, loadBalancerAdmin, providerAccountAdmin, dataServiceAdmin, notificationChannelAdmin, watchedRepositoryAdmin, userAdmin, keptDataAdmin, auditEventAdmin,
];

const bySlug = new Map(ADMIN_MODELS.map((m) => [m.slug, m]));

export function modelBySlug(slug: string): AdminModel {
  const model = bySlug.get(slug);
  if (!model) throw new AppError("not_found", `The admin has no section "${slug.slice(0, 40)}".`);
  return model;
}

export function modelBySubjectType(subjectType: string): AdminModel | undefined {
  return ADMIN_MODELS.find((m) => m.subjectType === subjectType);
}
