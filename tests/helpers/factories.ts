// Test data written straight to the database (the admin tests go through the real forms).
import type { Prisma } from "../../src/db.js";
import type { Deps } from "../../src/deps.js";
import { derivePrefixedDomains } from "../../src/domain/instances/domains.js";
import { newInstanceSecret } from "../../src/domain/instances/secret.js";
import { nextAppServerNumber } from "../../src/domain/appservers/next-number.js";

let counter = 0;
function unique(): string {
  counter += 1;
  return `${process.pid.toString(36)}${Date.now().toString(36)}${counter}`;
}

export async function makeInstance(deps: Pick<Deps, "db" | "secrets">, data: Partial<Prisma.InstanceUncheckedCreateInput> = {}) {
  const slug = data.slug ?? `inst-${unique()}`;
  const domain = data.internalLmsDomain ?? `${slug}.example.test`;
  return deps.db.instance.create({
    data: {
      name: data.name ?? `Instance ${slug}`,
      slug,
      internalLmsDomain: domain,
      ...derivePrefixedDomains(domain),
      edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git",
      edxPlatformBranch: "master",
      configurationRepoUrl: "https://github.com/openedx/configuration.git",
      configurationBranch: "master",
      playbookPath: "playbooks/openedx_native.yml",
      openedxRelease: "master",
      recipe: "custom",
      secretKeyEncrypted: newInstanceSecret(deps.secrets),
      ...data,
    },
  });
}

/** A whole frozen configuration (readSnapshot parses it), with what the test gives on top. */
function testSnapshot(given: unknown): Prisma.InputJsonValue {
  const top = (given ?? {}) as Record<string, unknown>;
  return {
    version: 1,
    instance: { slug: "test" },
    playbook: { repoUrl: "https://example.test/configuration.git", branch: "main", path: "playbooks/site.yml", bootstrapCommand: "" },
    variables: {},
    providerKind: "local",
    launchedAt: "2026-12-01T00:00:00.000Z",
    ...top,
  } as Prisma.InputJsonValue;
}

export async function makeAppServer(deps: Pick<Deps, "db">, instanceId: number, data: Partial<Prisma.AppServerUncheckedCreateInput> = {}) {
  const number = data.number ?? (await nextAppServerNumber(deps.db, instanceId));
  return deps.db.appServer.create({
    data: {
      instanceId,
      number,
      name: `AppServer ${number}`,
      providerKind: "local",
      ...data,
      configSnapshot: testSnapshot(data.configSnapshot),
    },
  });
}
