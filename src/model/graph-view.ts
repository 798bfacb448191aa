/**
 * A read-only view of an ONNX graph: nodes in topological order, who produces and who
 * consumes each tensor, initializer and Constant values as typed arrays.
 */
import { ConvlensError } from '../errors.ts';
import type { GraphProto, NodeProto, TensorProto, ValueInfoProto } from './onnx-proto.ts';
import { int64ToNumber } from './onnx-proto.ts';
import { readTensorProto, type TensorValue } from './tensor-data.ts';
import { attrTensor } from './attributes.ts';

export interface Producer {
  node: NodeProto;
  index: number;
}

export class GraphView {
  readonly nodes: readonly NodeProto[];
  readonly graph: GraphProto;
  private readonly producers = new Map<string, Producer>();
  private readonly consumerMap = new Map<string, NodeProto[]>();
  private readonly initializerProtos = new Map<string, TensorProto>();
  private readonly values = new Map<string, TensorValue>();

  constructor(graph: GraphProto) {
    this.graph = graph;
    for (const t of graph.initializer ?? []) this.initializerProtos.set(t.name ?? '', t);
    for (const node of graph.node) {
      node.output.forEach((name, index) => {
        if (name) this.producers.set(name, { node, index });
      });
      for (const name of node.input) {
        if (!name) continue;
        const list = this.consumerMap.get(name);
        if (list) {
          if (!list.includes(node)) list.push(node);
        } else this.consumerMap.set(name, [node]);
      }
      // Subgraphs (If branches) read outer tensors by name: count them as consumers too.
      for (const name of subgraphReferences(node)) {
        const list = this.consumerMap.get(name) ?? [];
        if (!list.includes(node)) list.push(node);
        this.consumerMap.set(name, list);
      }
    }
    this.nodes = topologicalOrder(graph.node, this.producers, this.initializerProtos, graph.input ?? []);
  }

  /** Graph inputs that are not initializers (what a user feeds). */
  get inputs(): ValueInfoProto[] {
    return (this.graph.input ?? []).filter((i) => !this.initializerProtos.has(i.name));
  }

  get outputs(): ValueInfoProto[] {
    return this.graph.output ?? [];
  }

  producer(tensor: string): Producer | undefined {
    return this.producers.get(tensor);
  }

  consumers(tensor: string): readonly NodeProto[] {
    return this.consumerMap.get(tensor) ?? [];
  }

  isInitializer(tensor: string): boolean {
    return this.initializerProtos.has(tensor);
  }

  initializerProto(tensor: string): TensorProto | undefined {
    return this.initializerProtos.get(tensor);
  }

  /** The value of an initializer or a Constant node's output, else undefined. */
  constant(tensor: string): TensorValue | undefined {
    const cached = this.values.get(tensor);
    if (cached) return cached;
    let value: TensorValue | undefined;
    const init = this.initializerProtos.get(tensor);
    if (init) value = readTensorProto(init);
    else {
      const p = this.producers.get(tensor);
      if (p && p.node.opType === 'Constant') value = attrTensor(p.node, 'value') ?? constantFromScalarAttrs(p.node);
    }
    if (value) this.values.set(tensor, value);
    return value;
  }

  /** Every tensor name that the graph mentions (inputs, initializers, node outputs). */
  tensorNames(): Set<string> {
    const names = new Set<string>();
    for (const i of this.graph.input ?? []) names.add(i.name);
    for (const t of this.initializerProtos.keys()) names.add(t);
    for (const n of this.graph.node) for (const o of n.output) if (o) names.add(o);
    return names;
  }
}

function constantFromScalarAttrs(node: NodeProto): TensorValue | undefined {
  for (const a of node.attribute ?? []) {
    if (a.name === 'value_float') return { dataType: 1, dims: [], data: Float32Array.of(a.f ?? 0) };
    if (a.name === 'value_floats') return { dataType: 1, dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) };
    if (a.name === 'value_int') return { dataType: 7, dims: [], data: BigInt64Array.of(BigInt(int64ToNumber(a.i))) };
    if (a.name === 'value_ints') {
      const ints = (a.ints ?? []).map((v) => BigInt(int64ToNumber(v)));
      return { dataType: 7, dims: [ints.length], data: BigInt64Array.from(ints) };
    }
  }
  return undefined;
}

/** Names a node's subgraphs (If branches, loop bodies) read from the enclosing scope. */
export function subgraphReferences(node: NodeProto): string[] {
  return (node.attribute ?? []).flatMap((a) => [a.g, ...(a.graphs ?? [])]).flatMap((g) => (g ? [...outerReferences(g)] : []));
}

/** The nodes that contribute to `outputs`, in the given (topological) order. */
export function liveNodes(nodes: readonly NodeProto[], outputs: Iterable<string>): NodeProto[] {
  const needed = new Set(outputs);
  const live = new Set<NodeProto>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.output.some((o) => needed.has(o))) continue;
    live.add(n);
    for (const x of [...n.input, ...subgraphReferences(n)]) needed.add(x);
  }
  return nodes.filter((n) => live.has(n));
}

/** Names a subgraph reads from its enclosing scope. */
export function outerReferences(g: GraphProto): Set<string> {
  const local = new Set<string>();
  for (const i of g.input ?? []) local.add(i.name);
  for (const t of g.initializer ?? []) local.add(t.name ?? '');
  for (const n of g.node) for (const o of n.output) local.add(o);
  const outer = new Set<string>();
  for (const n of g.node) {
    for (const i of n.input) if (i && !local.has(i)) outer.add(i);
    for (const a of n.attribute ?? []) {
      for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) for (const r of outerReferences(sub)) if (!local.has(r)) outer.add(r);
    }
  }
  for (const o of g.output ?? []) if (!local.has(o.name)) outer.add(o.name);
  return outer;
}

function topologicalOrder(
  nodes: readonly NodeProto[],
  producers: Map<string, Producer>,
  initializers: Map<string, TensorProto>,
  inputs: readonly ValueInfoProto[],
): NodeProto[] {
  const available = new Set<string>([...initializers.keys(), ...inputs.map((i) => i.name), '']);
  const order: NodeProto[] = [];
  const state = new Map<NodeProto, 1 | 2>();
  const deps = (node: NodeProto): string[] => [...node.input, ...subgraphReferences(node)];
  for (const root of nodes) {
    if (state.has(root)) continue;
    // Iterative DFS (ResNet-sized graphs would be fine recursively; deep chains may not be).
    const stack: { node: NodeProto; next: number; names: string[] }[] = [{ node: root, next: 0, names: deps(root) }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.names.length) {
        const name = top.names[top.next++]!;
        if (available.has(name)) continue;
        const p = producers.get(name);
        if (!p) throw new ConvlensError(`tensor '${name}' used by node '${top.node.name ?? top.node.opType}' is produced by no node and is no input or initializer: the model is malformed`);
        const s = state.get(p.node);
        if (s === 1) throw new ConvlensError(`the graph has a cycle through node '${p.node.name ?? p.node.opType}': the model is malformed`);
        if (s === 2) continue;
        state.set(p.node, 1);
        stack.push({ node: p.node, next: 0, names: deps(p.node) });
      } else {
        stack.pop();
        state.set(top.node, 2);
        order.push(top.node);
        for (const o of top.node.output) available.add(o);
      }
    }
  }
  return order;
}
