-- An appserver number is one past the highest of the appservers of its instance (next-number.ts),
-- read under the row lock of the instance, and the counter on the instance row goes. Every launch
-- rewrote that row only to count, and the row fills its page, so each rewrite was a new row version
-- with new entries in every index of the table: the search index grew by a third on a fleet where
-- every instance had been launched (bench/README.md, issue 17). Appservers are deleted only with
-- their instance, so no number is given twice: the unique (instanceId, number) index says so too.
-- (Prisma cuts a migration into statements at each semicolon, in comments too.)
ALTER TABLE "Instance" DROP COLUMN "nextAppServerNumber";
