// A read that every request of one web process shares for a while (SIDEBAR_CACHE_MS): the console's
// sidebar and the fleet home's panels are the same for everyone, and reading them for every page
// view was most of the database's work with 20 people on the console (bench/pages: the fleet home's
// panels cost 121 ms of PostgreSQL CPU per view on a 10,000-instance fleet). The promise is kept,
// not the value. When it is out of date, the next request reads it again and waits for that read;
// the requests that arrive while it is read get the answer before it, if that one is at most two
// intervals old, instead of waiting too: with 20 clients on the fleet home, waiting for the panels'
// re-read (about 45 ms, once a second) had made the page's p95 (bench/README.md, issue 17). A
// failed read is not kept. Times come from deps.now, so tests move a clock instead of waiting.

import type { Deps } from "../deps.js";

interface Kept<T> {
  at: number;
  value: Promise<T>;
  settled: boolean;
  /** The previous answer, given while `value` is read (null once it is). */
  standIn: Promise<T> | null;
}

/** How a shared read tells its keys apart and how many it keeps. */
export interface SharedReadOptions<K> {
  /** What identifies a key (the key itself by default; a string for a key that is an object). */
  keyOf?: (key: K) => unknown;
  /** At most this many keys' answers (the oldest read is dropped first); no limit by default. */
  max?: number;
}

/**
 * `read(key)`, the same answer for every call within `ttlMs` of the read (or, while it is read
 * again, the previous one: see above); `ttlMs` 0 reads each time.
 */
export function sharedRead<K, T>(now: () => Date, ttlMs: number, read: (key: K) => Promise<T>, options: SharedReadOptions<K> = {}): (key: K) => Promise<T> {
  const kept = new Map<unknown, Kept<T>>();
  const { keyOf = (key: K) => key, max = Infinity } = options;
  return (key) => {
    if (ttlMs === 0) return read(key);
    const at = now().getTime();
    const id = keyOf(key);
    const entry = kept.get(id);
    if (entry && at - entry.at < ttlMs) return entry.standIn ?? entry.value;
    const value = read(key);
    const standIn = entry?.settled && at - entry.at < 2 * ttlMs ? entry.value : null;
    const fresh: Kept<T> = { at, value, settled: false, standIn };
    // Deleted first, so that the map's order is the order of the reads and the oldest goes first.
    kept.delete(id);
    kept.set(id, fresh);
    if (kept.size > max) kept.delete(kept.keys().next().value);
    value.then(
      () => { fresh.settled = true; fresh.standIn = null; },
      () => kept.get(id) === fresh && kept.delete(id),
    );
    return value;
  };
}

/**
 * sharedRead for a read that needs the process's deps (the admin's filter and form choices): one
 * shared reader per deps, each keeping its answers for SIDEBAR_CACHE_MS.
 */
export function sharedReadOf<K, T>(read: (deps: Deps, key: K) => Promise<T>, options: SharedReadOptions<K> = {}): (deps: Deps, key: K) => Promise<T> {
  const readers = new WeakMap<Deps, (key: K) => Promise<T>>();
  return (deps, key) => {
    let reader = readers.get(deps);
    if (!reader) readers.set(deps, (reader = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, (k: K) => read(deps, k), options)));
    return reader(key);
  };
}
