/**
 * A time limit for onnxruntime runs in Node. A run blocks its thread inside native code
 * (onnxruntime-node runs synchronously), so no timer of that thread can fire: a model with
 * a Loop of 1e9 iterations would hang the command for ever. The watchdog is a worker
 * thread that sleeps until the running call's deadline; if the call has not finished by
 * then it prints one line and kills the process (exit status 137, SIGKILL: a blocked
 * thread cannot run an exit handler). Installed by the CLI through setRunGuard().
 */
import { Worker } from 'node:worker_threads';
import type { RunGuard } from './session.ts';

// The worker: state[0] counts arm/disarm events, state[1] is 1 while armed; deadline[0] in ms since the epoch.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Int32Array(workerData.state);
const deadline = new Float64Array(workerData.deadline);
for (;;) {
  const seen = Atomics.load(state, 0);
  if (Atomics.load(state, 1) === 1) {
    const left = deadline[0] - Date.now();
    if (left <= 0) {
      writeSync(2, workerData.message + '\\n');
      process.kill(process.pid, 'SIGKILL');
    }
    Atomics.wait(state, 0, seen, left);
  } else {
    Atomics.wait(state, 0, seen);
  }
}`;

/** A guard that kills the process when one onnxruntime call runs longer than `limitMs`. */
export function watchdog(limitMs: number, message: string): RunGuard {
  const state = new Int32Array(new SharedArrayBuffer(8));
  const deadline = new Float64Array(new SharedArrayBuffer(8));
  let worker: Worker | undefined;
  let depth = 0;
  const signal = () => {
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  };
  return {
    arm() {
      worker ??= new Worker(WORKER, { eval: true, workerData: { state: state.buffer, deadline: deadline.buffer, message } });
      worker.unref();
      if (depth++ > 0) return; // nested or concurrent runs share the outermost deadline
      deadline[0] = Date.now() + limitMs;
      Atomics.store(state, 1, 1);
      signal();
    },
    disarm() {
      if (--depth > 0) return;
      depth = 0;
      Atomics.store(state, 1, 0);
      signal();
    },
  };
}
