/**
 * The explorer's model worker: a child process that holds the Workspace and runs every
 * model evaluation, so that the HTTP server stays responsive while onnxruntime computes
 * (its runs block their thread) and can kill a run that exceeds its time budget.
 * Protocol: the parent sends {id, op, args}; the child answers {id, ok, value | error}.
 */
import { ConvlensError } from '../errors.ts';
import { NotFoundError, Workspace } from './workspace.ts';

export type WorkspaceOp = 'loadModel' | 'setLabels' | 'addImage' | 'imagePng' | 'predict' | 'explain' | 'activations' | 'graph' | 'filters';
export interface HostCall {
  id: number;
  op: WorkspaceOp;
  args: unknown[];
}
export interface HostError {
  kind: 'not-found' | 'user' | 'internal';
  message: string;
  stack?: string;
}
export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: HostError };

const workspace = new Workspace();
const send = (reply: HostReply) => process.send?.(reply);

process.on('message', (call: HostCall) => {
  const fn = workspace[call.op] as (...args: unknown[]) => unknown;
  Promise.resolve()
    .then(() => fn.apply(workspace, call.args))
    .then(
      (value) => send({ id: call.id, ok: true, value }),
      (e: unknown) => {
        const kind = e instanceof NotFoundError ? 'not-found' : e instanceof ConvlensError ? 'user' : 'internal';
        const error: HostError = { kind, message: (e as Error)?.message ?? String(e) };
        if (kind === 'internal' && (e as Error)?.stack) error.stack = (e as Error).stack!;
        send({ id: call.id, ok: false, error });
      },
    );
});
// The parent went away: nothing is left to answer to.
process.on('disconnect', () => process.exit(0));
