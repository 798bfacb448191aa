/**
 * `convlens worker REDIS_URL`: explain queued jobs until stopped. SIGTERM (or Ctrl-C) stops
 * taking jobs and finishes the running ones; a second one puts them back on the queue at once.
 */
import { Command, Option } from 'commander';
import { checkRedis, defaultQueueName, showUrl } from '../../queue/connection.ts';
import { parseInteger, parseNumber } from '../args.ts';
import { openLens } from '../load.ts';

interface WorkerFlags {
  concurrency: number;
  queue: string;
  lockDuration: number;
}

const log = (line: string) => process.stderr.write(`convlens worker: ${line}\n`);

// Loaded when the command runs (module-level, as every lazy import of the CLI: see inside.ts).
const workerModule = () => import('../../queue/worker.ts');

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('explain jobs from a queue (see convlens queue add) until SIGTERM; start one per machine, or several')
    .argument('<redis-url>', 'redis://HOST:PORT')
    .addOption(new Option('--concurrency <n>', 'jobs at once in this process (they share the opened models)').default(1).argParser(parseInteger('--concurrency', 1)))
    .addOption(new Option('--queue <name>', 'queue name').default(defaultQueueName))
    .addOption(new Option('--lock-duration <s>', "seconds without a heartbeat after which a worker's job counts as stalled and is retried").default(30).argParser(parseNumber('--lock-duration', 1)))
    .action(async (url: string, flags: WorkerFlags) => {
      await checkRedis(url);
      const { startWorker } = await workerModule();
      const worker = startWorker(url, {
        queueName: flags.queue,
        concurrency: flags.concurrency,
        lockDuration: Math.round(flags.lockDuration * 1000),
        open: (s) => openLens(s.model, s.input),
        log,
      });
      log(`waiting for jobs on ${showUrl(url)} (queue '${flags.queue}', concurrency ${flags.concurrency})`);
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log(`${signal} again: putting running jobs back on the queue`);
            worker.close(true).then(done, done);
            return;
          }
          stopping = true;
          log(`${signal}: finishing running jobs (send it again to put them back on the queue now)`);
          worker.close().then(done, done);
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      log(`stopped: ${worker.counts.completed} job(s) done, ${worker.counts.failed} failed`);
    });
}
