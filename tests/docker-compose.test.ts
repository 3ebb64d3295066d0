// docker-compose.yml without a Docker engine (none on the build machines): Debian's docker-compose
// (1.29, installed by bin/setup) parses and resolves it as `docker compose up` would, and what it
// gives Ocim's containers is checked against Ocim's own settings (src/config.ts, .env.example).
// `config` needs no engine: https://docs.docker.com/reference/cli/docker/compose/config/
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfig } from "../src/config.js";

type Service = { build?: unknown; environment?: Record<string, string>; depends_on?: unknown };
type Compose = { services: Record<string, Service> };

const PRODUCTION_ENV: Record<string, string> = {
  PUBLIC_URL: "https://ocim.example.com",
  SECRET_KEY: "compose-test-key-compose-test-key-0123456789",
  GITHUB_CLIENT_ID: "Iv1.0123456789abcdef",
  GITHUB_CLIENT_SECRET: "compose-test-client-secret",
  GITHUB_ORG: "campus",
  ADMIN_GITHUB_LOGINS: "octocat",
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs docker-compose on a copy of docker-compose.yml next to a .env of `env`, in a clean environment. */
async function compose(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-compose-"));
  dirs.push(dir);
  copyFileSync("docker-compose.yml", path.join(dir, "docker-compose.yml"));
  writeFileSync(path.join(dir, ".env"), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(""));
  // Compose prefers the shell's variables to .env's: give it none of this process's.
  const clean = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  try {
    const { stdout, stderr } = await promisify(execFile)("docker-compose", ["--project-directory", dir, "-f", path.join(dir, "docker-compose.yml"), ...args], { env: clean, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") throw new Error("docker-compose is not installed: run bin/setup (apt-get install docker-compose)");
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The services built from this repository: Ocim's own containers. */
function ocimServices(file: Compose): [string, Service][] {
  return Object.entries(file.services).filter(([, s]) => s.build !== undefined);
}

/** The settings production refuses to start without, in Ocim's own words. */
function productionRequired(): string[] {
  try {
    loadConfig({ NODE_ENV: "production" });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.split(":")[0]!);
    throw err;
  }
  return [];
}

describe("docker-compose.yml", () => {
  it("is valid for docker-compose with a .env of production settings", async () => {
    const run = await compose(PRODUCTION_ENV, "config", "-q");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("gives every Ocim container settings that Ocim accepts for production, on the compose file's PostgreSQL and Redis", async () => {
    const run = await compose(PRODUCTION_ENV, "config");
    expect(run.code).toBe(0);
    const resolved = parse(run.stdout) as Compose;
    const services = ocimServices(resolved);
    expect(services.map(([name]) => name).sort()).toEqual(["migrate", "scheduler", "web", "worker"]);
    for (const [name, service] of services) {
      const config = (() => {
        try {
          return loadConfig(service.environment ?? {});
        } catch (err) {
          throw new Error(`${name}: ${(err as Error).message}`);
        }
      })();
      expect(config.NODE_ENV, name).toBe("production");
      expect(config.HOST, `${name} listens beyond the container`).toBe("0.0.0.0");
      expect(resolved.services[new URL(config.DATABASE_URL!).hostname], `${name}'s DATABASE_URL host`).toBeDefined();
      expect(resolved.services[new URL(config.REDIS_URL!).hostname], `${name}'s REDIS_URL host`).toBeDefined();
      expect(config).toMatchObject({ PUBLIC_URL: PRODUCTION_ENV.PUBLIC_URL, SECRET_KEY: PRODUCTION_ENV.SECRET_KEY, ADMIN_GITHUB_LOGINS: ["octocat"] });
    }
  });

  it("publishes the console's port on the host's loopback only, where the README's TLS proxy on the same host reaches it", async () => {
    const run = await compose(PRODUCTION_ENV, "config");
    expect(run.code).toBe(0);
    const published = Object.entries((parse(run.stdout) as { services: Record<string, { ports?: unknown[] }> }).services)
      .flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${typeof p === "string" ? p : JSON.stringify(p)}`));
    expect(published).toEqual(["web 127.0.0.1:3000:3000/tcp"]);
    // The README's proxy examples: Caddy's reverse_proxy and nginx's proxy_pass to that address.
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain("reverse_proxy 127.0.0.1:3000");
    expect(readme).toContain("proxy_pass http://127.0.0.1:3000;");
  });

  it("stops before starting anything when .env lacks a setting production needs, naming it", async () => {
    const needed = productionRequired().filter((name) => name in PRODUCTION_ENV);
    expect(needed.sort()).toEqual(["GITHUB_CLIENT_ID", "PUBLIC_URL", "SECRET_KEY"]);
    const names = [...needed, "GITHUB_CLIENT_SECRET", "GITHUB_ORG"];
    const runs = await Promise.all(names.map((name) => {
      const { [name]: _left, ...rest } = PRODUCTION_ENV;
      return compose(rest, "config", "-q");
    }));
    runs.forEach((run, i) => {
      expect(run.code, names[i]).not.toBe(0);
      expect(run.stderr, names[i]).toContain(`set ${names[i]} in .env`);
    });
  });

  it("sets only known settings, and names every setting production needs itself", () => {
    const file = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }) as Compose;
    const example = readFileSync(".env.example", "utf8");
    const known = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    for (const [name, service] of ocimServices(file)) {
      const set = Object.keys(service.environment ?? {});
      expect(set.filter((k) => !known.has(k)), `${name} sets settings Ocim does not have`).toEqual([]);
      expect(productionRequired().filter((k) => !set.includes(k)), `${name} leaves out settings production needs`).toEqual([]);
    }
  });
});
