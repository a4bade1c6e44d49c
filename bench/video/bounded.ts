// What a Node developer writes to keep a pipeline's requests bounded: send each frame as it comes, and
// when `limit` are in flight wait for one to settle before taking the next (so an async source, such
// as ffmpeg's pipe, is not read ahead of the model).

/** Returns how many frames were sent. */
export async function sendBounded<T>(
  frames: AsyncIterable<T> | Iterable<T>,
  send: (frame: T) => Promise<unknown>,
  limit: number,
): Promise<number> {
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown;
  let sent = 0;
  for await (const frame of frames) {
    if (failure !== undefined) break;
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const request: Promise<unknown> = send(frame).then(
      () => inFlight.delete(request),
      (error: unknown) => {
        failure ??= error;
        inFlight.delete(request);
      },
    );
    inFlight.add(request);
    sent++;
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return sent;
}
