/**
 * A keyed cache of onnxruntime sessions with least-recently-used eviction and explicit,
 * deterministic release. Building a session (compiling a graph, loading it) happens once
 * per key, even when several callers ask at the same time.
 */
import type { ModelProto } from '../model/onnx-proto.ts';
import { Session, type SessionOptions } from './session.ts';

/**
 * What a session is made from: the model, what the caller keeps with it, session options
 * to add (an optimization level, a file to save the optimized graph to), `created` (called
 * once the session exists) and `retry` (another way to build it if onnxruntime refuses this one).
 */
export interface SessionBuild<T> {
  /** A model, its bytes, or (Node) the path of its file. */
  model: ModelProto | Uint8Array | string;
  info: T;
  options?: SessionOptions;
  created?: () => void;
  retry?: () => Promise<SessionBuild<T>>;
}

interface Entry<T> {
  ready: Promise<{ session: Session; info: T }>;
}

export class SessionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly options: SessionOptions = {},
    /** Sessions kept at most; the least recently used is released beyond that. */
    readonly capacity = 8,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The session for `key`, built once. */
  async get(key: string, build: () => Promise<SessionBuild<T>>): Promise<{ session: Session; info: T }> {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
      return found.ready;
    }
    const ready = (async () => {
      let built = await build();
      for (;;) {
        try {
          const session = await Session.create(built.model, { ...this.options, ...built.options });
          built.created?.();
          return { session, info: built.info };
        } catch (e) {
          if (!built.retry) throw e;
          built = await built.retry();
        }
      }
    })();
    this.entries.set(key, { ready });
    ready.catch(() => this.entries.delete(key));
    await this.evict();
    return ready;
  }

  private async evict(): Promise<void> {
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry<T>];
      this.entries.delete(oldest);
      await entry.ready.then((e) => e.session.release(), () => undefined);
    }
  }

  async release(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.ready.then((x) => x.session.release(), () => undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
