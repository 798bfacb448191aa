/** A throwaway Redis server on a free loopback port (Debian's redis-server), for the queue test and bench. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { checkRedis } from '../src/queue/connection.ts';

export const redisServerPath = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** A loopback port nobody listens on (just now). */
export const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

/** Start redis-server (no persistence, files in `dir`) and wait until it answers PING. */
export async function startRedis(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!redisServerPath) throw new Error('redis-server is not installed: apt-get install redis-server');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(redisServerPath, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    try {
      await checkRedis(url, 500);
      return { url, stop };
    } catch (e) {
      if (i >= 50 || child.exitCode !== null) {
        await stop();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
