// A closed-loop load generator: C clients, each doing N calls one after the other.

export interface Stats {
  calls: number;
  perSecond: number;
  p50: number;
  p95: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Runs `call(client, i)` from `clients` concurrent loops of `each` calls; a rejected call counts as an error. */
export async function measure(clients: number, each: number, call: (client: number, i: number) => Promise<void>): Promise<Stats> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < each; i++) {
        const t0 = performance.now();
        try {
          await call(client, i);
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { calls: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), errors };
}
