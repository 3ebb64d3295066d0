-- Every domain of every instance in a table of its own, whose primary key makes "no domain belongs
-- to two instances" the database's rule. The per-column unique indexes could not: an external
-- domain of one instance against the Studio domain of another. The instance commands still check
-- first, under a lock, to say which instance has the domain. This catches every other writer (a
-- script, a seed, a bug), so the load balancer's map can rely on it instead of checking again.
-- The rows are written by a trigger on Instance, never by the application.
--
-- No semicolon may appear in this file except between statements: Prisma's migration runner
-- splits a script at every one, even inside quotes. The trigger function's body is therefore an
-- escape string in which \073 stands for each semicolon.

-- CreateTable
CREATE TABLE "InstanceDomain" (
    "domain" TEXT NOT NULL,
    "instanceId" INTEGER NOT NULL,

    CONSTRAINT "InstanceDomain_pkey" PRIMARY KEY ("domain")
);

-- CreateIndex
CREATE INDEX "InstanceDomain_instanceId_idx" ON "InstanceDomain"("instanceId");

-- AddForeignKey
ALTER TABLE "InstanceDomain" ADD CONSTRAINT "InstanceDomain_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An instance's domains as the load balancer lists them (allDomains() in src/domain/instances/domains.ts):
-- lowercased, once each, blanks left out.
CREATE FUNCTION "Instance_domains"(lms text, studio text, preview text, ecommerce text, discovery text, apps text, external text[])
  RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(array_agg(DISTINCT lower(d)) FILTER (WHERE coalesce(d, '') <> ''), '{}')
        FROM unnest(ARRAY[lms, studio, preview, ecommerce, discovery, apps] || coalesce(external, '{}')) AS u(d) $$;

CREATE FUNCTION "Instance_syncDomains"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  DELETE FROM "InstanceDomain" WHERE "instanceId" = NEW.id\073
  INSERT INTO "InstanceDomain" (domain, "instanceId")
    SELECT d, NEW.id FROM unnest("Instance_domains"(NEW."internalLmsDomain", NEW."studioDomain", NEW."previewDomain",
      NEW."ecommerceDomain", NEW."discoveryDomain", NEW."appsDomain", NEW."externalDomains")) AS d\073
  RETURN NULL\073
END';

CREATE TRIGGER "Instance_syncDomains"
  AFTER INSERT OR UPDATE OF "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain", "discoveryDomain", "appsDomain", "externalDomains"
  ON "Instance" FOR EACH ROW EXECUTE FUNCTION "Instance_syncDomains"();

-- The existing instances' domains. The console has always refused a domain taken by another
-- instance. Should a row written around it share one, this fails naming the domain
-- (Key (domain)=(…) already exists). Change it on one of the two instances and deploy again.
INSERT INTO "InstanceDomain" (domain, "instanceId")
  SELECT d, i.id FROM "Instance" i, unnest("Instance_domains"(i."internalLmsDomain", i."studioDomain", i."previewDomain",
    i."ecommerceDomain", i."discoveryDomain", i."appsDomain", i."externalDomains")) AS d;
