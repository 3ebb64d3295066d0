-- Who launched an appserver, as a login that outlives the user: once that user was deleted,
-- createdById became NULL and the appserver page said it was launched "by Ocim".
-- Existing rows: the login of the user, else the actor of the launch audit event ("ocim" for the
-- launches of Ocim itself, "ocim pr-sandboxes" for a sandbox), or empty where neither is known.
ALTER TABLE "AppServer" ADD COLUMN "createdByLogin" TEXT NOT NULL DEFAULT '';

UPDATE "AppServer" a SET "createdByLogin" = u."githubLogin" FROM "User" u WHERE u.id = a."createdById";

UPDATE "AppServer" a SET "createdByLogin" = e."actorLogin"
FROM "AuditEvent" e
WHERE a."createdByLogin" = '' AND e.action = 'appserver.launched' AND e."subjectType" = 'Instance'
  AND e."subjectId" = a."instanceId"::text AND e.diff -> 'appServerId' ->> 1 = a.id::text;
