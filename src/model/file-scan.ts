/**
 * Reading a large .onnx file without its weights. The protobuf wire format (ONNX's
 * onnx.proto: ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.raw_data = 9)
 * is walked with positioned reads; each initializer's raw_data of at least `tensorBytes`
 * stays on disk, its offset and length noted, and everything else is copied into a
 * skeleton (length prefixes recomputed) that decodes as the whole file would, minus those
 * bytes. The weights are read when something first asks for them (tensor-data.ts,
 * deferRawData). A command that only needs the graph (summary, explain with a warm cache)
 * then reads a few hundred kB of a 100 MB model.
 *
 * Node only. A file this walk does not understand gives `undefined`: the ordinary parser
 * reads it whole and names what is wrong with it.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { readAt } from '../read-at.ts';
import { ModelError } from './model.ts';
import { LENGTH_DELIMITED, varintSize, weightFields, writeVarint } from './onnx-proto.ts';

export interface DeferredWeight {
  /** Position of the tensor in the main graph's initializer list. */
  index: number;
  /** Byte length of its raw_data. */
  length: number;
  /** Reads its raw_data bytes; throws when the file changed since the scan. */
  read(): Uint8Array;
}

export interface ScannedModel {
  skeleton: Uint8Array;
  deferred: DeferredWeight[];
}

const { modelGraph: MODEL_GRAPH, graphInitializer: GRAPH_INITIALIZER, tensorRawData: TENSOR_RAW_DATA } = weightFields;
const LEN = LENGTH_DELIMITED;

class Malformed extends Error {}

/** Sequential reads of a file through a window, with skips that read nothing. */
class FileCursor {
  private readonly window = Buffer.alloc(1 << 16);
  private from = 0;
  private to = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [start, end) of the file (a copy). */
  range(start: number, end: number): Uint8Array {
    if (end > this.size || start > end) throw new Malformed();
    if (start >= this.from && end <= this.to) return new Uint8Array(this.window.subarray(start - this.from, end - this.from)); // a copy: the window is reused
    const out = new Uint8Array(end - start);
    if (readAt(this.fd, out, start) < out.length) throw new Malformed();
    return out;
  }

  byte(): number {
    if (this.pos < this.from || this.pos >= this.to) {
      if (this.pos >= this.size) throw new Malformed();
      this.from = this.pos;
      this.to = this.pos + readSync(this.fd, this.window, 0, Math.min(this.window.length, this.size - this.pos), this.pos);
      if (this.to === this.from) throw new Malformed();
    }
    return this.window[this.pos++ - this.from]!;
  }

  varint(): number {
    let n = 0;
    for (let scale = 1, i = 0; i < 10; i++, scale *= 128) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
    throw new Malformed();
  }

  skip(n: number): void {
    if (this.pos + n > this.size) throw new Malformed();
    this.pos += n;
  }

  /** Past the value of a field of this wire type. */
  skipValue(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.skip(8);
    else if (wire === LEN) this.skip(this.varint());
    else if (wire === 5) this.skip(4);
    else throw new Malformed(); // groups (3, 4) are not in ONNX
  }
}

function varint(n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}

/** Message bytes as parts, joined once at the end. */
class Parts {
  readonly list: Uint8Array[] = [];
  size = 0;
  push(...parts: Uint8Array[]): void {
    for (const p of parts) {
      this.list.push(p);
      this.size += p.length;
    }
  }
  /** A nested message field: tag, length, the nested parts. */
  nest(field: number, inner: Parts): void {
    this.push(varint((field << 3) | LEN), varint(inner.size));
    this.list.push(...inner.list);
    this.size += inner.size;
  }
}

/**
 * Walk the fields of the message from the cursor to `end`: `open(field)` gives a walker
 * for a length-delimited field to descend into; a field with no walker, or whose walker
 * gives undefined (having read nothing), is copied as it is.
 */
function walk(c: FileCursor, end: number, open: (field: number) => ((end: number) => Parts | undefined) | undefined): Parts {
  const parts = new Parts();
  while (c.pos < end) {
    const start = c.pos;
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    const inner = wire === LEN ? open(field) : undefined;
    if (inner) {
      const length = c.varint();
      const nested = inner(c.pos + length);
      if (nested) {
        parts.nest(field, nested);
        continue;
      }
      c.skip(length); // a walker that declines consumes nothing
    } else {
      c.skipValue(wire);
    }
    parts.push(c.range(start, c.pos));
  }
  if (c.pos !== end) throw new Malformed();
  return parts;
}

/**
 * The skeleton of the model file at `path` and its deferred weights, or undefined when no
 * raw_data reaches `tensorBytes` or the file is not a model this walk reads.
 */
export function scanModelFile(path: string, tensorBytes: number): ScannedModel | undefined {
  const fd = openSync(path, 'r');
  try {
    const stamp = fstatSync(fd);
    const c = new FileCursor(fd, stamp.size);
    const deferred: DeferredWeight[] = [];
    let initializers = 0;
    let graphs = 0;
    // A deferred raw_data stays in the skeleton as an empty one (no bytes: decodes as absent).
    const raw = (end: number): Parts | undefined => {
      const length = end - c.pos;
      if (length < tensorBytes) return undefined;
      const offset = c.pos;
      deferred.push({ index: initializers, length, read: () => readDeferred(path, stamp, offset, length) });
      c.skip(length);
      return new Parts();
    };
    const tensor = (end: number): Parts => {
      const before = deferred.length;
      const parts = walk(c, end, (field) => (field === TENSOR_RAW_DATA ? raw : undefined));
      if (deferred.length > before + 1) throw new Malformed(); // a repeated raw_data: the parser's own rules decide
      initializers++;
      return parts;
    };
    const graph = (end: number): Parts => {
      if (++graphs > 1) throw new Malformed(); // a graph split over several fields: read whole
      return walk(c, end, (field) => (field === GRAPH_INITIALIZER ? tensor : undefined));
    };
    const model = walk(c, stamp.size, (field) => (field === MODEL_GRAPH ? graph : undefined));
    if (deferred.length === 0) return undefined;
    const skeleton = new Uint8Array(model.size);
    let at = 0;
    for (const p of model.list) {
      skeleton.set(p, at);
      at += p.length;
    }
    return { skeleton, deferred };
  } catch (e) {
    if (e instanceof Malformed) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** Bytes of a deferred weight, from a file that must still be the one scanned. */
function readDeferred(path: string, stamp: Stats, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const now = fstatSync(fd);
    if (now.size !== stamp.size || now.mtimeMs !== stamp.mtimeMs || now.ino !== stamp.ino) {
      throw new ModelError(`model file '${path}' changed on disk while convlens was reading it: run the command again`);
    }
    const out = new Uint8Array(length);
    if (readAt(fd, out, offset) < length) throw new ModelError(`model file '${path}' ended early while convlens was reading it: run the command again`);
    return out;
  } finally {
    closeSync(fd);
  }
}
