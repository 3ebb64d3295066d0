// Prisma CLI configuration: Prisma 6.19.3 with the Wasm schema engine and adapter-pg, so no
// command downloads a native engine (these machines reach only the npm registry).
// The two workarounds below serve the CLI only (migrate); delete them when upstream is fixed.
// Prisma 7 (tried with 7.10.0) cannot replace this here: its config has no `engine`/`adapter`, and
// its CLI downloads the native schema engine from binaries.prisma.sh even for generate (bench/README.md).
import { randomUUID } from "node:crypto";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

// The config is read even by `prisma generate`; without a URL Prisma falls back to downloading.
const url = process.env.DATABASE_URL ?? "postgresql://localhost:5432/ocim_unused";
process.env.DATABASE_URL = url;

// Workaround for prisma/orm#27403 ("Column type 'name' could not be deserialized"): the schema
// engine reads catalog columns of types adapter-pg 6.x cannot map. Report them as text.
const AS_TEXT: Record<number, number> = { 18: 25, 19: 25, 22: 25, 30: 25, 194: 25, 1002: 1009, 1003: 1009 };
// pg-types has no parser for char[]/name[]; give them text[]'s (array OIDs are not in its TypeId).
const textArray = pg.types.getTypeParser(1009 as never);
pg.types.setTypeParser(1002 as never, textArray);
pg.types.setTypeParser(1003 as never, textArray);

function retype(result: unknown): void {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as pg.QueryResult | undefined)?.fields ?? []) {
      field.dataTypeID = AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
    }
  }
}

function patchClient(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (err: unknown, res: unknown) => {
        if (!err) retype(res);
        (last as (e: unknown, r: unknown) => void)(err, res);
      };
      return query(...args);
    }
    const out = query(...args) as Promise<unknown> | undefined;
    return out?.then?.((res) => (retype(res), res)) ?? out;
  };
}

function pool(database?: string): pg.Pool {
  // The database goes into the URL itself: pg lets a connection string override a `database` option.
  const target = new URL(url);
  if (database) target.pathname = `/${database}`;
  const p = new pg.Pool({ connectionString: target.toString() });
  p.on("connect", patchClient);
  // DROP DATABASE … WITH (FORCE) ends idle connections of the shadow pool; that is expected.
  p.on("error", () => undefined);
  return p;
}

class CliAdapterFactory extends PrismaPg {
  constructor() {
    super(pool());
  }

  // Workaround for adapter-pg 6.x's shadow database (used by `migrate dev`): its connection string
  // overrides the database name, and the database is dropped before its pool closes.
  override async connectToShadowDb() {
    const admin = pool();
    const name = `ocim_shadow_${randomUUID().replaceAll("-", "")}`;
    await admin.query(`CREATE DATABASE "${name}"`);
    const adapter = await new PrismaPg(pool(name)).connect();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    };
    return adapter;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  adapter: async () => new CliAdapterFactory(),
});
