// A throwaway redis-server a test can stop and start again on the same port (the shared one stays
// up for the other test files): no password, no persistence.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { waitForPort } from "./wait.js";

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function startRedisServer(port: number): Promise<RedisServer> {
  const child: ChildProcess = spawn("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
  ], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await waitForPort("redis-server", port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
