// Redis connections for the queue's client and worker. BullMQ needs ioredis clients that retry
// commands forever (`maxRetriesPerRequest: null`): a command issued while Redis is away waits for
// the reconnection instead of failing, which is how both sides carry on after a lost connection.
// We always hand BullMQ instances we own (its ESM build cannot construct ioredis itself) and close
// them ourselves; a caller's own instance is only a template and is never closed or reconfigured.
import { Redis, type RedisOptions } from 'ioredis';

/** An ioredis instance (used as a template), its options, or a `redis://` / `rediss://` URL. */
export type ConnectionInput = Redis | RedisOptions | string;

const REQUIRED: RedisOptions = { maxRetriesPerRequest: null };

/** Reconnect quickly at first, then every 2 s at most, forever. */
const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

/** A new connection described by `input`, with the options BullMQ needs. */
export function openConnection(input: ConnectionInput): Redis {
  if (input instanceof Redis) return input.duplicate(REQUIRED);
  if (typeof input === 'string') return new Redis(input, { retryStrategy, ...REQUIRED });
  return new Redis({ retryStrategy, ...input, ...REQUIRED });
}

/** Closes a connection we opened: QUIT when connected, else drops it (no reconnection attempts). */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
