// Ocim's Tutor plugin (playbooks/tutor/templates/ocim.py.j2) in a real Caddy (Debian's caddy 2.6;
// Tutor 17-21 run caddy 2.7.4, whose basicauth, request_header and import take the same syntax).
// The template is rendered by ansible's own template module, as the playbook renders it; the
// plugin is then loaded by Python with a stand-in `tutor` module that records what it registers
// (Tutor cannot be installed here), and its two Caddyfile patches go where Tutor's Caddyfile
// template puts them: `caddyfile-proxy` inside the `(proxy)` snippet every site imports,
// `caddyfile` at the end. The Caddyfile around them is this test's own, in the shape of Tutor's
// tutor/templates/apps/caddy/Caddyfile (v21) with ENABLE_HTTPS true and ENABLE_WEB_PROXY false:
// sites `<host>{$default_site_port}`, `reverse_proxy {args.0}` (not its `trusted_proxies`, which
// Debian's caddy 2.6.2 does not know and the plugin does not touch). Docker's name
// "lms:8000" becomes the test's LMS stand-in, an HTTP server that says which Host it was asked for.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/wait.js";

const USER = "a1b2c3d4e5f6";
const PASSWORD = "pass word:with ü";
const SALT = "0123456789abcdef01234e";
const LMS = "lms.campus.test";

const FAKE_TUTOR = `
CALLBACKS = []
PATCHES = []
class _Filter:
    def add_items(self, items): PATCHES.extend(items)
    def add_item(self, item): PATCHES.append(item)
    def add(self, priority=None):
        def register(f):
            assert priority == hooks.priorities.LOW
            CALLBACKS.append(f)
            return f
        return register
class hooks:
    class priorities:
        LOW = 50
    class Filters:
        ENV_PATCHES = _Filter()
        CLI_DO_INIT_TASKS = _Filter()
class env:
    @staticmethod
    def read_core_template_file(*parts):
        return "core:" + "/".join(parts)
`;

const LOAD_PLUGIN = `
import importlib.util, json, sys
import tutor
spec = importlib.util.spec_from_file_location("ocim", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
tasks = [("mysql", "core:jobs/init/mysql.sh"), ("lms", "core:jobs/init/lms.sh")]
for f in tutor.CALLBACKS:
    tasks = f(tasks)
print(json.dumps({"patches": dict(tutor.PATCHES), "tasks": tasks}))
`;

function bcrypt(password: string, salt: string): string {
  return execFileSync("python3", ["-c", "import ctypes,ctypes.util,sys; l=ctypes.CDLL(ctypes.util.find_library('crypt')); l.crypt.restype=ctypes.c_char_p; l.crypt.argtypes=[ctypes.c_char_p,ctypes.c_char_p]; print(l.crypt(sys.argv[1].encode(), sys.argv[2].encode()).decode())", password, `$2b$12$${salt}`], { encoding: "utf8" }).trim();
}

function renderPlugin(dir: string, runMysql: boolean): { patches: Record<string, string>; tasks: [string, string][] } {
  const vars = { TUTOR_CONFIG: { LMS_HOST: LMS, RUN_MYSQL: runMysql }, OCIM_BASIC_AUTH_USER: USER, ocim_caddy_hash: Buffer.from(bcrypt(PASSWORD, SALT)).toString("base64") };
  writeFileSync(path.join(dir, "vars.json"), JSON.stringify(vars));
  const out = path.join(dir, `ocim-${runMysql}.py`);
  execFileSync("ansible", ["localhost", "-c", "local", "-i", "localhost,", "-m", "ansible.builtin.template", "-a", `src=${path.resolve("playbooks/tutor/templates/ocim.py.j2")} dest=${out}`, "-e", `@${path.join(dir, "vars.json")}`], { encoding: "utf8" });
  mkdirSync(path.join(dir, "fake", "tutor"), { recursive: true });
  writeFileSync(path.join(dir, "fake", "tutor", "__init__.py"), FAKE_TUTOR);
  const json = execFileSync("python3", ["-c", LOAD_PLUGIN, out], { encoding: "utf8", env: { ...process.env, PYTHONPATH: path.join(dir, "fake") } });
  return JSON.parse(json) as { patches: Record<string, string>; tasks: [string, string][] };
}

async function freePort(host: string): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Ocim's Tutor plugin in a real Caddy", () => {
  const address = `127.${64 + Math.floor(Math.random() * 180)}.${64 + Math.floor(Math.random() * 180)}.9`;
  let dir: string;
  let caddy: ChildProcess;
  let lms: http.Server;
  let port: number;
  const seen: { host: string; path: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-caddy-"));
    lms = http.createServer((req, res) => {
      seen.push({ host: req.headers.host ?? "", path: req.url ?? "" });
      res.end(`lms ok for ${req.headers.host}`);
    });
    await new Promise<void>((resolve) => lms.listen(0, address, resolve));
    const upstream = `${address}:${(lms.address() as AddressInfo).port}`;
    port = await freePort(address);
    const { patches } = renderPlugin(dir, false);
    const at = (name: string) => patches[name]!.replaceAll('"lms:8000"', `"${upstream}"`).split("\n").join("\n    ");
    const caddyfile = `{
    admin off
    auto_https off
    http_port ${port}
    default_bind ${address}
}

(proxy) {
    reverse_proxy {args.0} {
        header_up X-Forwarded-Port 443
    }

    ${at("caddyfile-proxy")}
}

${LMS}{$default_site_port} {
    import proxy "${upstream}"
}

studio.${LMS}{$default_site_port} {
    import proxy "${upstream}"
}

apps.${LMS}{$default_site_port} {
    import proxy "${upstream}"
}

${patches.caddyfile}
`.replace('import proxy "lms:8000"', `import proxy "${upstream}"`);
    writeFileSync(path.join(dir, "Caddyfile"), caddyfile);
    caddy = spawn("caddy", ["run", "--adapter", "caddyfile", "--config", path.join(dir, "Caddyfile")], {
      env: { ...process.env, default_site_port: `:${port}`, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    caddy.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitFor(`caddy to listen (${stderr})`, async () => {
      try {
        await fetch(`http://${address}:${port}/heartbeat`);
        return true;
      } catch {
        if (caddy.exitCode !== null) throw new Error(`caddy exited: ${stderr}`);
        return false;
      }
    }, 20_000, 100);
  }, 60_000);
  afterAll(async () => {
    caddy?.kill();
    await new Promise((resolve) => lms?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (host: string, urlPath: string, auth?: [string, string]) =>
    new Promise<{ status: number; body: string; www: string }>((resolve, reject) => {
      const headers: Record<string, string> = { host };
      if (auth) headers.authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString("base64")}`;
      http.get({ host: address, port, path: urlPath, headers }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body, www: String(res.headers["www-authenticate"] ?? "") }));
      }).on("error", reject);
    });

  it("asks for the instance's basic auth on every host, and lets the right login through", async () => {
    for (const host of [LMS, `studio.${LMS}`, `apps.${LMS}`]) {
      const anonymous = await get(host, "/");
      expect(anonymous.status, host).toBe(401);
      expect(anonymous.www).toContain("Basic");
      expect((await get(host, "/", [USER, "wrong"])).status, host).toBe(401);
      const ok = await get(host, "/courses", [USER, PASSWORD]);
      expect(ok.status, host).toBe(200);
      expect(ok.body).toBe(`lms ok for ${host}`);
    }
  });

  it("answers /heartbeat without a login (the balancer's and Ocim's health checks)", async () => {
    expect(await get(LMS, "/heartbeat")).toMatchObject({ status: 200, body: `lms ok for ${LMS}` });
    expect((await get(LMS, "/heartbeat/extended")).status).toBe(401);
  });

  it("serves the LMS on the VM's own address (any name without a site of its own), asked for by its name, behind the same login", async () => {
    expect((await get(`${address}:${port}`, "/")).status).toBe(401);
    seen.length = 0;
    const ok = await get(`${address}:${port}`, "/dashboard", [USER, PASSWORD]);
    expect(ok.status).toBe(200);
    expect(seen).toEqual([{ host: LMS, path: "/dashboard" }]);
    expect((await get(`${address}:${port}`, "/heartbeat")).status).toBe(200);
    // A floating IP the VM does not know is served the same way.
    seen.length = 0;
    expect((await get("203.0.113.7", "/", [USER, PASSWORD])).status).toBe(200);
    expect(seen).toEqual([{ host: LMS, path: "/" }]);
  });

  it("drops only Tutor's MySQL init task when the MySQL server is the instance's shared one", () => {
    expect(renderPlugin(dir, false).tasks).toEqual([["lms", "core:jobs/init/lms.sh"]]);
    expect(renderPlugin(dir, true).tasks).toEqual([["mysql", "core:jobs/init/mysql.sh"], ["lms", "core:jobs/init/lms.sh"]]);
  });
});
