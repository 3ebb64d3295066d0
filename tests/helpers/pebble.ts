// A real ACME server for tests: Debian's `pebble` (Let's Encrypt's test CA), with its HTTP-01
// validation pointed at the balancer's HTTP port and its DNS at a tiny in-test server that says
// every name is 127.0.0.1, so the challenge really travels through haproxy. PEBBLE_VA_NOSLEEP only
// skips pebble's random wait before validating; PEBBLE_VA_ALWAYS_VALID is never set.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../src/embedded/processes.js";
import { waitFor } from "./wait.js";

export interface Pebble {
  directoryUrl: string;
  /** The PEM of pebble's own TLS certificate (its directory is served over HTTPS). */
  caFile: string;
  /** The root that signs the certificates pebble issues, from its management API. */
  rootPem(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPebble(opts: { httpPort: number }): Promise<Pebble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-pebble-"));
  const [cert, key] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const dns = await startDns();
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${managementPort}`, certificate: cert, privateKey: key,
      httpPort: opts.httpPort, tlsPort, ocspResponderURL: "", externalAccountBindingRequired: false,
    },
  }));
  const child: ChildProcess = spawn("pebble", ["-config", path.join(dir, "config.json"), "-dnsserver", `127.0.0.1:${dns.port}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" }, stdio: "ignore",
  });
  const get = (url: string) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    https.get(url, { ca: readFileSync(cert) }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    }).on("error", reject);
  });
  const directoryUrl = `https://localhost:${port}/dir`;
  await waitFor("pebble", async () => (await get(directoryUrl).catch(() => null))?.status === 200 || undefined, 20_000, 100);
  return {
    directoryUrl,
    caFile: cert,
    async rootPem() {
      return (await get(`https://localhost:${managementPort}/roots/0`)).text;
    },
    async stop() {
      child.kill("SIGTERM");
      dns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers every A query with 127.0.0.1 and every other query with no records (RFC 1035 §4.1). */
async function startDns(): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, from) => {
    // Header (12 bytes), then the question: labels up to a zero byte, QTYPE, QCLASS.
    let end = 12;
    while (msg[end] !== 0 && end < msg.length) end += msg[end]! + 1;
    const question = msg.subarray(12, end + 5);
    const qtype = msg.readUInt16BE(end + 1);
    const header = Buffer.from(msg.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2); // a response, recursion desired and available, no error
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(qtype === 1 ? 1 : 0, 6);
    header.writeUInt32BE(0, 8);
    // The answer: a pointer to the name in the question (0xc00c), A, IN, TTL 60, 4 bytes, 127.0.0.1.
    const answer = qtype === 1 ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
    socket.send(Buffer.concat([header, question, answer]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, close: () => socket.close() };
}
