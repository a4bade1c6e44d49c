// A closed-loop load for the queue benchmark: N callers, each sending its next request as soon as
// its last one is answered, counted over a window after a warm-up.

/** Keeps `inFlight` calls of `send` going; counts those answered inside [warm-up end, end), and their latencies. */
export async function keepInFlight(
  send: (i: number) => Promise<unknown>,
  inFlight: number,
  warmupSeconds: number,
  seconds: number,
): Promise<{ completed: number; seconds: number; perSecond: number; latencyMs: number[] }> {
  const start = performance.now();
  const from = start + warmupSeconds * 1000;
  const to = from + seconds * 1000;
  let completed = 0;
  let next = 0;
  const latencyMs: number[] = [];
  const lane = async () => {
    while (performance.now() < to) {
      const t = performance.now();
      await send(next++);
      const now = performance.now();
      // Answers inside the window count, whenever they were sent (at N in flight a request may
      // take longer than the window's warm-up).
      if (now >= from && now < to) {
        completed++;
        latencyMs.push(now - t);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  latencyMs.sort((a, b) => a - b);
  return { completed, seconds, perSecond: completed / seconds, latencyMs };
}
