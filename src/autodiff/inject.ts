/**
 * Feed inner tensors instead of computing them: each named tensor becomes a graph input
 * (its producer's output is renamed away, so the producer and anything only it needed
 * fall out as dead nodes). Perturbation methods use this to run the rest of the network
 * on modified activations (Ablation-CAM), with everything else still computed from the
 * image (skip connections that bypass the tensor keep working).
 */
import type { GraphProto } from '../model/onnx-proto.ts';
import { GraphView, liveNodes, subgraphReferences } from '../model/graph-view.ts';
import { DataType } from '../model/tensor-data.ts';
import type { Specialized } from '../runtime/specialize.ts';

export function injectTensors(s: Specialized, names: readonly string[]): Specialized {
  if (names.length === 0) return s;
  const injected = new Set(names);
  const nodes = s.view.nodes.map((n) =>
    n.output.some((o) => injected.has(o)) ? { ...n, output: n.output.map((o) => (injected.has(o) ? `${o}::replaced` : o)) } : n,
  );
  const graph: GraphProto = {
    ...s.model.graph!,
    node: liveNodes(nodes, (s.model.graph!.output ?? []).map((o) => o.name)),
    input: [
      ...(s.model.graph!.input ?? []),
      ...names.map((name) => ({ name, type: { tensorType: { elemType: s.dtypes.get(name) ?? DataType.FLOAT, shape: { dim: s.shapes.get(name)!.map((d) => ({ dimValue: d })) } } } })),
    ],
  };
  const used = new Set(graph.node.flatMap((n) => [...n.input, ...subgraphReferences(n)]));
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  graph.input = graph.input!.filter((i) => used.has(i.name) || initializers.has(i.name) || injected.has(i.name) || graph.output?.some((o) => o.name === i.name));
  return { ...s, model: { ...s.model, graph }, view: new GraphView(graph) };
}
