// The demo playbook for real: a local-provider VM, files uploaded over the SSH adapter,
// ansible-playbook run on the VM over SSH the way provisioning runs it, then the demo server
// asked for /heartbeat with and without basic auth; with the instance's MySQL variables, the page
// counts visits in a real MariaDB database.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import type { ServerInfo } from "../src/adapters/provider/port.js";
import type { SshSession } from "../src/adapters/ssh/port.js";
import { shellQuote } from "../src/adapters/ssh/quote.js";
import { createMysqlAdapter } from "../src/adapters/data/mysql.js";
import type { InstanceDataPlan } from "../src/adapters/data/port.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";
import { visibleText } from "./helpers/browserless.js";
import { waitFor } from "./helpers/wait.js";
import { freePort } from "../src/embedded/processes.js";

const PLAYBOOK_DIR = path.resolve("playbooks/demo");
const USER = "ocim-demo";
const PASSWORD = "p@ss:word with spaces";
const VARS = {
  COMMON_HOSTNAME: "demo-as1",
  COMMON_ENABLE_BASIC_AUTH: true,
  COMMON_HTPASSWD_USER: USER,
  COMMON_HTPASSWD_PASS: PASSWORD,
  EDXAPP_PLATFORM_NAME: "Demo <University>",
  EDXAPP_LMS_BASE: "demo.example.test",
  DEMO_APPSERVER_NAME: "AppServer 1",
};

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

describe("demo playbook on a local VM", () => {
  let vms: LocalVms;
  let vm: ServerInfo;
  let shell: SshSession;
  let dir: string;
  let url: string;

  const play = async (vars: Record<string, unknown>) => {
    await shell.uploadFile(`${dir}/vars.yml`, toYaml(vars), 0o600);
    return shell.exec(`cd ${shellQuote(dir)} && ansible-playbook -c local -i localhost, site.yml -e @vars.yml`, { timeoutMs: 240_000 });
  };
  const serverPid = () => readFileSync(path.join(vms.dataDir, "vms", "demo-as1", "home", "ocim-demo", "server.pid"), "utf8");

  beforeAll(async () => {
    vms = await localVms();
    vm = await vms.provider().createServer({ name: "demo-as1" });
    shell = await vms.connect(vm);
    dir = `${vm.workDir}/configuration/playbooks/demo`;
    url = `http://${vm.publicIp}:8000`;
    expect((await shell.exec(`mkdir -p ${shellQuote(dir)}`, { timeoutMs: 10_000 })).code).toBe(0);
    for (const file of readdirSync(PLAYBOOK_DIR)) await shell.uploadFile(`${dir}/${file}`, readFileSync(path.join(PLAYBOOK_DIR, file)));
  });
  afterAll(() => vms?.cleanup());

  it("runs to a normal PLAY RECAP and starts a server on the VM's own address that answers /heartbeat only with the basic auth", async () => {
    const run = await play(VARS);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("PLAY RECAP");
    expect(run.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    expect(run.stdout).not.toContain(PASSWORD);

    const anonymous = await fetch(`${url}/heartbeat`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Basic");
    const wrong = await fetch(`${url}/heartbeat`, { headers: basic(USER, "wrong") });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${url}/heartbeat`, { headers: basic(USER, PASSWORD) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("OK");
  });

  it("serves a page naming the instance and the appserver", async () => {
    const page = await fetch(`${url}/`, { headers: basic(USER, PASSWORD) });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<h1>Demo &lt;University&gt;</h1>");
    expect(visibleText(html)).toContain("served by AppServer 1 for demo.example.test visits: (no database: this appserver keeps no data)");
  });

  it("installs nothing outside the VM's home", () => {
    const home = path.join(vms.dataDir, "vms", "demo-as1", "home");
    expect(existsSync(path.join(home, "ocim-demo", "server.py"))).toBe(true);
    expect(existsSync(path.join(home, ".ansible"))).toBe(true);
  });

  it("keeps serving after the SSH session that started it is closed", async () => {
    await shell.close();
    shell = await vms.connect(vm);
    expect((await fetch(`${url}/heartbeat`, { headers: basic(USER, PASSWORD) })).status).toBe(200);
  });

  it("restarts the server cleanly when run again", async () => {
    const before = serverPid();
    const run = await play({ ...VARS, DEMO_APPSERVER_NAME: "AppServer 1 (again)" });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`TASK [Stop the demo server of an earlier run]`);
    expect(serverPid()).not.toBe(before);
    const page = await fetch(`${url}/`, { headers: basic(USER, PASSWORD) });
    expect(visibleText(await page.text())).toContain("served by AppServer 1 (again)");
  });

  it("fails in the named task when DEMO_FAIL is set, with a PLAY RECAP that counts it", async () => {
    const run = await play({ ...VARS, DEMO_FAIL: true });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("TASK [Fail on purpose (DEMO_FAIL)]");
    expect(run.stdout).toMatch(/fatal: \[localhost\]: FAILED! => .*DEMO_FAIL is set: this deployment fails on purpose/);
    expect(run.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1/);
  });

  it("refuses to start without the basic-auth login, saying which variables to set", async () => {
    const { COMMON_HTPASSWD_PASS: _, ...withoutPassword } = VARS;
    const run = await play(withoutPassword);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("Set COMMON_HTPASSWD_USER and COMMON_HTPASSWD_PASS");
  });

  describe("with the instance's MySQL database (EDXAPP_MYSQL_*)", () => {
    let mariadb: MariadbServer;
    const plan: InstanceDataPlan = {
      owner: "demo",
      mysql: {
        databases: [{ name: "demo_edxapp", role: "edxapp" }],
        users: [{ name: "demo_edxapp_user", role: "edxapp", password: "derived 'pass\\word", databases: ["demo_edxapp"] }],
      },
      mongodb: { databases: [], users: [] },
      storage: { bucket: "demo", corsOrigins: [] },
    };
    const mysqlVars = () => ({
      ...VARS,
      EDXAPP_MYSQL_HOST: mariadb.host, EDXAPP_MYSQL_PORT: mariadb.port, EDXAPP_MYSQL_DB_NAME: "demo_edxapp",
      EDXAPP_MYSQL_USER: "demo_edxapp_user", EDXAPP_MYSQL_PASSWORD: plan.mysql.users[0]!.password,
    });
    const visit = async () => visibleText(await (await fetch(`${url}/`, { headers: basic(USER, PASSWORD) })).text());

    beforeAll(async () => {
      mariadb = await startMariadbServer();
      await createMysqlAdapter({ host: mariadb.host, port: mariadb.port, tls: false, connectTimeoutSeconds: 10 }, { username: mariadb.username, password: mariadb.password }).ensure(plan);
    }, 120_000);
    afterAll(() => mariadb?.stop());

    it("counts each visit in the database, and a new server on the same database goes on from there", async () => {
      const run = await play(mysqlVars());
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).not.toContain(plan.mysql.users[0]!.password);
      expect(await visit()).toContain("served by AppServer 1 for demo.example.test visits: 1");
      expect(await visit()).toContain("visits: 2");
      // HEAD is not a visit, and neither is the health check.
      expect((await fetch(`${url}/`, { method: "HEAD", headers: basic(USER, PASSWORD) })).status).toBe(200);
      expect((await fetch(`${url}/heartbeat`, { headers: basic(USER, PASSWORD) })).status).toBe(200);
      const again = await play({ ...mysqlVars(), DEMO_APPSERVER_NAME: "AppServer 2" });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(await visit()).toContain("served by AppServer 2 for demo.example.test visits: 3");
    });

    it("fails the run at the heartbeat with what MySQL said when the database refuses the login", async () => {
      const run = await play({ ...mysqlVars(), EDXAPP_MYSQL_PASSWORD: "not the password" });
      expect(run.code).toBe(2);
      expect(run.stdout).toContain("TASK [Fail unless /heartbeat said OK]");
      expect(run.stdout).toMatch(/\/heartbeat answered 503: The instance's database did not serve this page: MySQL error 1045: Access denied for user 'demo_edxapp_user'/);
      expect(run.stdout).not.toContain("not the password");
    });

    it("waits for a database server it cannot connect to (npm start restarting its MariaDB), and succeeds once it is back", async () => {
      // The database's address answers nothing until the test opens it: a relay to the real server.
      const port = await freePort();
      const relay = net.createServer((client) => {
        const server = net.connect(mariadb.port, mariadb.host);
        client.pipe(server).pipe(client);
        server.on("error", () => client.destroy());
        client.on("error", () => server.destroy());
      });
      const log = path.join(vms.dataDir, "vms", "demo-as1", "home", "ocim-demo", "server.log");
      const logged = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
      const from = logged().length;
      const run = play({ ...mysqlVars(), EDXAPP_MYSQL_PORT: port });
      try {
        // The playbook's own check (nothing else asks) got its 503: only then does the database come back.
        await waitFor("the playbook's check to find the database down", async () => logged().slice(from).includes('"GET /heartbeat HTTP/1.1" 503'), 120_000, 200);
        expect(logged().slice(from)).toContain(`database: cannot connect to MySQL at ${mariadb.host}:${port}`);
        await new Promise<void>((resolve) => relay.listen(port, mariadb.host, resolve));
        const done = await run;
        expect(done.code, done.stdout + done.stderr).toBe(0);
        expect(done.stdout).toContain("FAILED - RETRYING: [localhost]: Check that /heartbeat answers behind basic auth");
        expect(await visit()).toMatch(/visits: \d+/);
      } finally {
        await run.catch(() => undefined);
        await new Promise((resolve) => relay.close(resolve));
      }
    }, 240_000);

    it("fails with what it got when the database server stays unreachable past DEMO_DATABASE_WAIT_SECONDS", async () => {
      const run = await play({ ...mysqlVars(), EDXAPP_MYSQL_PORT: await freePort(), DEMO_DATABASE_WAIT_SECONDS: 5 });
      expect(run.code).toBe(2);
      expect(run.stdout).toMatch(/\/heartbeat answered 503: The instance's database did not serve this page: cannot connect to MySQL at [\d.]+:\d+: Connection refused/);
    });

    it("with EDXAPP_MYSQL_HOST localhost (Open edX's own server on the VM) keeps no data", async () => {
      const run = await play({ ...mysqlVars(), EDXAPP_MYSQL_HOST: "localhost" });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(await visit()).toContain("visits: (no database: this appserver keeps no data)");
    });
  });
});
