// A read that every request of one web process shares for a while (SIDEBAR_CACHE_MS): the console's
// sidebar and the fleet home's panels are the same for everyone, and reading them for every page
// view was most of the database's work with 20 people on the console (bench/pages: the fleet home's
// panels cost 121 ms of PostgreSQL CPU per view on a 10,000-instance fleet). The promise is kept,
// not the value, so the requests that arrive while it is read wait for that one read. A failed
// read is not kept. Times come from deps.now, so tests move a clock instead of waiting.

import type { Deps } from "../deps.js";

/** `read(key)`, the same answer for every call within `ttlMs` of the read; `ttlMs` 0 reads each time. */
export function sharedRead<K, T>(now: () => Date, ttlMs: number, read: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const kept = new Map<K, { at: number; value: Promise<T> }>();
  return (key) => {
    if (ttlMs === 0) return read(key);
    const at = now().getTime();
    const entry = kept.get(key);
    if (entry && at - entry.at < ttlMs) return entry.value;
    const value = read(key);
    const fresh = { at, value };
    kept.set(key, fresh);
    value.catch(() => kept.get(key) === fresh && kept.delete(key));
    return value;
  };
}

/**
 * sharedRead for a read that needs the process's deps (the admin's filter and form choices): one
 * shared reader per deps, each keeping its answers for SIDEBAR_CACHE_MS.
 */
export function sharedReadOf<K, T>(read: (deps: Deps, key: K) => Promise<T>): (deps: Deps, key: K) => Promise<T> {
  const readers = new WeakMap<Deps, (key: K) => Promise<T>>();
  return (deps, key) => {
    let reader = readers.get(deps);
    if (!reader) readers.set(deps, (reader = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, (k: K) => read(deps, k))));
    return reader(key);
  };
}
