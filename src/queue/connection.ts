/**
 * Reaching Redis: a `redis://` or `rediss://` URL, checked once with a short timeout so a
 * wrong address is one line and exit 1, not a client retrying forever. The Redis client
 * and BullMQ are loaded on first use (they would add half a second to every command).
 */
import type { Queue } from 'bullmq';
import { ConvlensError, oneLine } from '../errors.ts';

export class QueueError extends ConvlensError {
  override name = 'QueueError';
}

/** The BullMQ queue all commands use unless --queue names another. */
export const defaultQueueName = 'convlens';

function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(`'${url}' is not a Redis URL: give redis://HOST:PORT (or rediss:// for TLS)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueError(`'${url}' is not a Redis URL (${parsed.protocol.replace(':', '')}): give redis://HOST:PORT (or rediss:// for TLS)`);
  }
  return parsed;
}

/** The URL without its password, for messages. */
export function showUrl(url: string): string {
  const u = parseRedisUrl(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Connect once and PING; throws a QueueError naming the address and the fix. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  parseRedisUrl(url);
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: unknown;
  client.on('error', (e) => (cause ??= e)); // the socket's error (ECONNREFUSED, ...), reported below once
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const error = (cause ?? e) as NodeJS.ErrnoException;
    const reason = error.code ?? oneLine(String(error.message ?? error));
    throw new QueueError(`cannot reach Redis at ${showUrl(url)} (${reason}): start it (redis-server --port PORT) or fix the URL`);
  } finally {
    client.disconnect();
  }
}

/** BullMQ connection options for a URL (workers wait for Redis to come back, so no retry limit). */
export const connectionOf = (url: string) => ({ url, maxRetriesPerRequest: null });

/** A checked connection to the named queue; close it when done. */
export async function openQueue(url: string, name = defaultQueueName): Promise<Queue> {
  await checkRedis(url);
  const { Queue } = await import('bullmq');
  const queue = new Queue(name, { connection: connectionOf(url) });
  queue.on('error', () => undefined); // connection errors after the check surface in the calls
  return queue;
}
