// The instance commands as other callers (the CLI) use them: plain objects in, typed errors out.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { AppError } from "../src/errors.js";
import { createInstance } from "../src/domain/instances/create-instance.js";
import { updateInstance } from "../src/domain/instances/update-instance.js";
import { deleteInstance } from "../src/domain/instances/delete-instance.js";
import { uniqueViolationFields } from "../src/domain/validation/unique-violation.js";

const actor = { id: null, login: "cli" };

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe("instance commands", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(() => deps.close());
  beforeEach(async () => {
    await deps.db.appServer.deleteMany();
    await deps.db.instance.deleteMany();
    await deps.db.loadBalancer.deleteMany();
    await deps.db.auditEvent.deleteMany();
  });

  it("creates from a plain object with typed values, and a chosen slug", async () => {
    const created = await createInstance(deps, {
      actor,
      values: { name: "Demo", slug: "demo", internalLmsDomain: "demo.localhost.test", externalDomains: ["Demo.Example.org"], appserverCount: 2, isArchived: true },
    });
    expect(created).toMatchObject({ slug: "demo", externalDomains: ["demo.example.org"], appserverCount: 2, isArchived: true, studioDomain: "studio.demo.localhost.test" });
    const again = await refusal(createInstance(deps, { actor, values: { name: "Demo", slug: "demo", internalLmsDomain: "other.localhost.test" } }));
    expect(again.details.fields).toEqual({ slug: 'Another instance already has the slug "demo".' });
  });

  it("reports every problem of the input at once, unknown fields and wrong types included", async () => {
    const err = await refusal(createInstance(deps, { actor, values: { name: 42, internalLmsDomain: "x.test", appserverCount: 2.5, colour: "red", isArchived: "perhaps" } }));
    expect(err.code).toBe("validation");
    expect(err.status).toBe(400);
    expect(err.details.fields).toEqual({
      name: "Enter text.",
      appserverCount: "Enter a whole number from 1 to 10.",
      colour: 'Unknown field "colour".',
      isArchived: "Expected yes or no.",
    });
    expect(await deps.db.instance.count()).toBe(0);
  });

  it("updates only the given fields, refuses a new slug, and says when the instance is gone", async () => {
    const instance = await makeInstance(deps, { name: "Before", internalLmsDomain: "lms.before.test", studioDomain: "cms.before.test" });
    const after = await updateInstance(deps, { actor, id: instance.id, values: { name: "After" } });
    expect(after).toMatchObject({ name: "After", internalLmsDomain: "lms.before.test", studioDomain: "cms.before.test", previewDomain: "preview.lms.before.test" });
    const slug = await refusal(updateInstance(deps, { actor, id: instance.id, values: { slug: "new-slug" } }));
    expect(slug.details.fields).toEqual({ slug: "The slug cannot be changed: it names the instance's VMs." });
    const gone = await refusal(updateInstance(deps, { actor, id: 999_999, values: { name: "x" } }));
    expect(gone.code).toBe("not_found");
  });

  it("writes no audit event when nothing changed, and names a change of secret values it cannot show", async () => {
    const created = await createInstance(deps, { actor, values: { name: "S", internalLmsDomain: "s.test", recipe: "custom", extraAnsibleVars: "SMTP_PASSWORD: one\n" } });
    await updateInstance(deps, { actor, id: created.id, values: { name: "S" } });
    expect(await deps.db.auditEvent.count({ where: { action: "instance.updated" } })).toBe(0);
    await updateInstance(deps, { actor, id: created.id, values: { extraAnsibleVars: "SMTP_PASSWORD: two\n" } });
    const event = await deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.updated" } });
    expect(event.diff).toEqual({ extraAnsibleVars: ["SMTP_PASSWORD: ••••••\n", "SMTP_PASSWORD: •••••• (changed)\n"] });
    expect(JSON.stringify(await deps.db.auditEvent.findMany())).not.toMatch(/one|two/);
  });

  it("lets only one of two simultaneous saves claim a domain, whatever the columns", async () => {
    const results = await Promise.allSettled([
      createInstance(deps, { actor, values: { name: "A", internalLmsDomain: "race.test" } }),
      createInstance(deps, { actor, values: { name: "B", internalLmsDomain: "b.test", externalDomains: "race.test" } }),
      createInstance(deps, { actor, values: { name: "C", internalLmsDomain: "c.test", appsDomain: "race.test" } }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(Object.values((r.reason as AppError).details.fields ?? {})[0]).toMatch(/^race\.test is already used by instance "[ABC]"/);
    }
  });

  it("reads the columns of a unique-constraint violation from the driver adapter's error", async () => {
    const a = await makeInstance(deps);
    const err = await makeInstance(deps, { internalLmsDomain: a.internalLmsDomain, studioDomain: "s.x.test", previewDomain: "p.x.test", ecommerceDomain: "e.x.test", discoveryDomain: "d.x.test", appsDomain: "a.x.test" })
      .then(() => null, (e: unknown) => e);
    expect(uniqueViolationFields(err)).toEqual(["internalLmsDomain"]);
    expect(uniqueViolationFields(new Error("other"))).toBeNull();
  });

  it("marks the load balancers it routes through as changed when routing changes, not otherwise", async () => {
    const lb = (name: string) => deps.db.loadBalancer.create({ data: { name, configPath: `/tmp/${name}.cfg`, mapPath: `/tmp/${name}.map`, reloadCommand: "", fragmentName: name } });
    const [one, two] = [await lb("one"), await lb("two")];
    const version = async (id: number) => (await deps.db.loadBalancer.findUniqueOrThrow({ where: { id } })).configurationVersion;
    const created = await createInstance(deps, { actor, values: { name: "R", internalLmsDomain: "r.test", loadBalancerId: one.id } });
    expect(await version(one.id)).toBe(1);
    await updateInstance(deps, { actor, id: created.id, values: { bootstrapCommand: "true" } });
    expect(await version(one.id)).toBe(1);
    await updateInstance(deps, { actor, id: created.id, values: { loadBalancerId: String(two.id) } });
    expect([await version(one.id), await version(two.id)]).toEqual([2, 1]);
    await deleteInstance(deps, { actor, ids: [created.id] });
    expect(await version(two.id)).toBe(2);
  });

  it("deletes a selection all together or not at all", async () => {
    const free = await makeInstance(deps, { name: "Free" });
    const busy = await makeInstance(deps, { name: "Busy" });
    await makeAppServer(deps, busy.id, { status: "configuring" });
    const err = await refusal(deleteInstance(deps, { actor, ids: [free.id, busy.id] }));
    expect(err.code).toBe("rule");
    expect(err.message).toBe('Cannot delete: AppServer 1 of "Busy" (configuring) is not terminated. Terminate it first; nothing was deleted.');
    expect(await deps.db.instance.count()).toBe(2);
    const missing = await refusal(deleteInstance(deps, { actor, ids: [free.id, 999_999] }));
    expect(missing.code).toBe("not_found");
    expect(await deps.db.instance.count()).toBe(2);
  });
});
