// sharedRead (src/web/shared-read.ts): what the console's shared reads (sidebar, fleet panels, the
// session's user, the admin's choices) answer, read by read. The reads here are promises the test
// settles itself and the clock is the test's, so nothing depends on how fast the machine is.
import { describe, expect, it } from "vitest";
import { sharedRead } from "../src/web/shared-read.js";

/** A read the test answers: each call is one pending read, settled by `answer` or `fail`. */
function controlledRead() {
  const pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const read = () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  return {
    read,
    get reads() { return pending.length; },
    answer: (value: string) => pending.at(-1)!.resolve(value),
    fail: (message: string) => pending.at(-1)!.reject(new Error(message)),
  };
}

/** What a promise has settled to by now ("pending" if not yet). */
async function stateOf(p: Promise<string>): Promise<string> {
  return Promise.race([p.then((v) => `answered ${v}`, (e: Error) => `failed ${e.message}`), new Promise<string>((r) => setImmediate(() => r("pending")))]);
}

const TTL = 1000;

/** A shared read of "k" on the test's clock, answered "v1" at time 0. */
async function readOnce() {
  const clock = { now: 0 };
  const db = controlledRead();
  const shared = sharedRead(() => new Date(clock.now), TTL, db.read);
  const first = shared("k");
  db.answer("v1");
  await first;
  return { db, shared, clock };
}

describe("sharedRead", () => {
  it("reads once per interval; a request after it waits for the new read, the others meanwhile get the previous answer", async () => {
    let clock = 0;
    const db = controlledRead();
    const shared = sharedRead(() => new Date(clock), TTL, db.read);

    const first = shared("k");
    expect(await stateOf(shared("k"))).toBe("pending"); // nothing read yet: everyone waits for the one read
    expect(db.reads).toBe(1);
    db.answer("v1");
    expect(await stateOf(first)).toBe("answered v1");

    clock += TTL - 1;
    expect(await stateOf(shared("k"))).toBe("answered v1");
    expect(db.reads).toBe(1);

    clock += 1; // out of date: this request reads again and waits for it...
    const rereading = shared("k");
    expect(db.reads).toBe(2);
    expect(await stateOf(rereading)).toBe("pending");
    // ...while the requests that come in the meantime are answered with what was read before.
    expect(await stateOf(shared("k"))).toBe("answered v1");
    expect(db.reads).toBe(2);
    db.answer("v2");
    expect(await stateOf(rereading)).toBe("answered v2");
    expect(await stateOf(shared("k"))).toBe("answered v2");
  });

  it("gives no answer older than two intervals: after a quiet spell everyone waits for the new read", async () => {
    const { db, shared, clock } = await readOnce();

    clock.now += 2 * TTL;
    const rereading = shared("k");
    expect(await stateOf(shared("k"))).toBe("pending");
    db.answer("v2");
    expect(await stateOf(rereading)).toBe("answered v2");
  });

  it("keeps no failed read: the request that read it sees the failure, the next one reads again", async () => {
    const { db, shared, clock } = await readOnce();

    clock.now += TTL;
    const failing = shared("k");
    expect(await stateOf(shared("k"))).toBe("answered v1"); // meanwhile, the previous answer
    db.fail("connection refused");
    expect(await stateOf(failing)).toBe("failed connection refused");

    const next = shared("k");
    expect(db.reads).toBe(3);
    expect(await stateOf(next)).toBe("pending");
    db.answer("v3");
    expect(await stateOf(next)).toBe("answered v3");
  });

  it("keeps each key's answer apart, and reads every time with an interval of 0", async () => {
    const clock = 0;
    const db = controlledRead();
    const shared = sharedRead(() => new Date(clock), TTL, (key: string) => db.read().then((v) => `${key}:${v}`));
    const a = shared("a");
    db.answer("1");
    const b = shared("b");
    db.answer("2");
    expect([await a, await b, await shared("a"), await shared("b")]).toEqual(["a:1", "b:2", "a:1", "b:2"]);

    const uncached = controlledRead();
    const each = sharedRead(() => new Date(clock), 0, uncached.read);
    void each("k");
    void each("k");
    expect(uncached.reads).toBe(2);
  });

  it("tells keys apart by keyOf, and keeps the answers of the `max` newest reads only", async () => {
    const db = controlledRead();
    const shared = sharedRead(() => new Date(0), TTL, (key: { id: string }) => db.read().then((v) => `${key.id}:${v}`), { keyOf: (k) => k.id, max: 2 });
    const a = shared({ id: "a" });
    db.answer("1");
    expect(await a).toBe("a:1");
    expect(await shared({ id: "a" })).toBe("a:1"); // another object, the same key: shared
    expect(db.reads).toBe(1);
    const b = shared({ id: "b" });
    db.answer("2");
    const c = shared({ id: "c" }); // a third key: "a", read first, is dropped
    db.answer("3");
    expect([await b, await c]).toEqual(["b:2", "c:3"]);
    expect(await shared({ id: "b" })).toBe("b:2");
    expect(db.reads).toBe(3);
    const again = shared({ id: "a" });
    expect(db.reads).toBe(4);
    db.answer("4");
    expect(await again).toBe("a:4");
  });
});
