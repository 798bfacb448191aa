/**
 * The explorer's model worker: a child process that holds the Workspace and runs every
 * model evaluation, so that the HTTP server stays responsive while onnxruntime computes
 * (its runs block their thread) and can kill a run that exceeds its time budget.
 * Protocol: the parent sends {id, op, args}; the child answers {id, ok, value | error};
 * {cancel: id} stops a running explain between onnxruntime runs; while an explain runs, the
 * child sends {progress: id, fraction} as its method advances (at most every 100 ms).
 */
import { ConvlensError } from '../errors.ts';
import { CancelledError } from '../methods/context.ts';
import { NotFoundError, Workspace } from './workspace.ts';
import { throttledProgress } from './workspace-core.ts';

export type WorkspaceOp = 'loadModel' | 'setLabels' | 'addImage' | 'imagePng' | 'predict' | 'explain' | 'curves' | 'activations' | 'graph' | 'filters';
export interface HostCall {
  id: number;
  op: WorkspaceOp;
  args: unknown[];
}
/** Stop the call of this id (the explorer sent a newer request). */
export interface HostCancel {
  cancel: number;
}
export interface HostError {
  kind: 'not-found' | 'user' | 'internal' | 'cancelled';
  message: string;
  stack?: string;
}
export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: HostError };
/** How far the explain of call `progress` is (0..1). */
export interface HostProgress {
  progress: number;
  fraction: number;
}

const workspace = new Workspace();
const send = (reply: HostReply | HostProgress) => process.send?.(reply);

/** Progress of call `id`, to the parent. */
const progressOf = (id: number) => throttledProgress((fraction) => send({ progress: id, fraction }));

/** Calls that can be cancelled (explain), by call id. */
const running = new Map<number, AbortController>();

process.on('message', (call: HostCall | HostCancel) => {
  if ('cancel' in call) return void running.get(call.cancel)?.abort();
  const fn = workspace[call.op] as (...args: unknown[]) => unknown;
  const abort = new AbortController();
  const cancellable = call.op === 'explain' || call.op === 'curves';
  if (cancellable) running.set(call.id, abort);
  Promise.resolve()
    .then(() => fn.apply(workspace, call.op === 'explain' ? [...call.args, abort.signal, progressOf(call.id)] : cancellable ? [...call.args, abort.signal] : call.args))
    .then(
      (value) => send({ id: call.id, ok: true, value }),
      (e: unknown) => {
        const kind = e instanceof CancelledError ? 'cancelled' : e instanceof NotFoundError ? 'not-found' : e instanceof ConvlensError ? 'user' : 'internal';
        const error: HostError = { kind, message: (e as Error)?.message ?? String(e) };
        if (kind === 'internal' && (e as Error)?.stack) error.stack = (e as Error).stack!;
        send({ id: call.id, ok: false, error });
      },
    )
    .finally(() => running.delete(call.id));
});
// The parent went away: nothing is left to answer to.
process.on('disconnect', () => process.exit(0));
