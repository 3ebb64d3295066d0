// A process that claims data directories as `npm start` does (claimDataDir), for the tests of two
// starts at the same moment: it reads one directory a line on stdin and answers each with
// "claimed <dir>" or "refused <dir>: <why>" on stdout. It says "ready" once loaded, so that a test
// can hand the same directory to several of them at once.
import { createInterface } from "node:readline";
import { claimDataDir } from "../../src/bin/console-address.js";

process.stdout.write("ready\n");
for await (const dataDir of createInterface({ input: process.stdin })) {
  try {
    await claimDataDir({ dataDir, HOST: "127.0.0.1", PORT: 3000, PUBLIC_URL: undefined });
    process.stdout.write(`claimed ${dataDir}\n`);
  } catch (err) {
    process.stdout.write(`refused ${dataDir}: ${(err as Error).message}\n`);
  }
}
