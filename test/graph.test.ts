import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { floatTensor } from '../src/model/tensor-data.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { specializeFor } from '../src/autodiff/compile.ts';
import type { Specialized } from '../src/runtime/specialize.ts';
import { summarize } from '../src/inspect/summary.ts';
import { modelGraph, type DiagramGraph } from '../src/inspect/graph.ts';
import { layoutGraph, renderSvg, type GraphLayout } from '../src/inspect/graph-svg.ts';
import { svgToPng } from '../src/inspect/graph-png.ts';
import { zoo } from './zoo/models.ts';
import { imagenetInputShape, resnet50 } from '../bench/models.ts';
import { valueInfo } from './helpers.ts';

/** Every compute node in exactly one box, no other node in any; edges between existing boxes. */
function checkCoverage(s: Specialized, g: DiagramGraph, what: string): void {
  const rows = summarize(s).rows;
  const compute = rows.filter((r) => r.kind === 'compute').map((r) => r.node);
  const covered = g.nodes.flatMap((n) => n.nodes);
  assert.deepEqual([...covered].sort(), [...compute].sort(), `${what}: boxes do not cover the compute nodes exactly once`);
  const ids = new Set(g.nodes.map((n) => n.id));
  assert.equal(ids.size, g.nodes.length, `${what}: duplicate ids`);
  const pairs = new Set<string>();
  for (const e of g.edges) {
    assert.ok(ids.has(e.from) && ids.has(e.to) && e.from !== e.to, `${what}: bad edge ${e.from} -> ${e.to}`);
    pairs.add(`${e.from} ${e.to}`);
  }
  assert.equal(pairs.size, g.edges.length, `${what}: duplicate edges`);
  // Connected from the inputs: every box but the inputs has an incoming edge.
  for (const n of g.nodes) if (!n.id.startsWith('input')) assert.ok(g.edges.some((e) => e.to === n.id), `${what}: '${n.label[0]}' has no input`);
}

/** Boxes do not overlap, and each edge runs from its source box's border to its target's. */
function checkLayout(layout: GraphLayout, what: string): void {
  const box = new Map(layout.nodes.map((n) => [n.id, n]));
  for (const a of layout.nodes) {
    assert.ok(a.width >= Math.max(...a.label.map((l) => l.length)) * 6, `${what}: '${a.label[0]}' box too narrow`);
    for (const b of layout.nodes) {
      if (a === b) continue;
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart, `${what}: boxes '${a.id}' and '${b.id}' overlap`);
    }
  }
  const near = (p: { x: number; y: number } | undefined, id: string): boolean => {
    const n = box.get(id)!;
    return p !== undefined && p.x >= n.x - 1 && p.x <= n.x + n.width + 1 && p.y >= n.y - 1 && p.y <= n.y + n.height + 1;
  };
  for (const e of layout.edges) {
    assert.ok(near(e.points[0], e.from) && near(e.points.at(-1), e.to), `${what}: edge ${e.from} -> ${e.to} does not join its boxes`);
  }
}

const unescapeXml = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);

/**
 * A strict reading of the SVG: tags balance, attribute values and text hold no raw `<`, `>`,
 * `"` or bare `&`. Returns the node groups' data-nodes, titles and text contents.
 */
function readSvg(svg: string): { boxes: { nodes: string[]; title: string; lines: string[] }[]; width: number; height: number } {
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  const texts: string[] = [];
  for (const m of svg.matchAll(tag)) {
    texts.push(svg.slice(last, m.index));
    last = m.index + m[0].length;
    const [, close, name, attrs, selfClose] = m;
    for (const [, value] of attrs!.matchAll(/="([^"]*)"/g)) assert.doesNotMatch(value!, /&(?!(amp|lt|gt|quot|apos);)/, `bare & in ${m[0]}`);
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else if (!selfClose) stack.push(name!);
  }
  texts.push(svg.slice(last));
  assert.deepEqual(stack, [], 'unclosed tags');
  for (const t of texts) {
    assert.doesNotMatch(t, /[<>]/, `unescaped markup in text '${t}'`);
    assert.doesNotMatch(t, /&(?!(amp|lt|gt|quot|apos);)/, `bare & in text '${t}'`);
  }
  const boxes = [...svg.matchAll(/<g class="node [a-z]+" data-id="[^"]*" data-nodes="([^"]*)">\n<title>([^<]*)<\/title>\n<rect [^>]*\/>\n<text [^>]*>(.*?)<\/text>\n<\/g>/g)].map((m) => ({
    nodes: JSON.parse(unescapeXml(m[1]!)) as string[],
    title: unescapeXml(m[2]!),
    lines: [...m[3]!.matchAll(/<tspan [^>]*>([^<]*)<\/tspan>/g)].map((t) => unescapeXml(t[1]!)),
  }));
  const size = /^<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
  assert.ok(size, 'no svg size');
  return { boxes, width: Number(size[1]), height: Number(size[2]) };
}

/** Conv -> Relu -> Mul by a Constant node, with names that need escaping. */
function awkwardNames(): ModelProto {
  const b = new GraphBuilder(['x']);
  const weight = b.constant('w', floatTensor([4, 2, 3, 3], Array.from({ length: 72 }, (_, i) => ((i % 5) - 2) / 10)));
  const conv = b.op('Conv', ['x', weight], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv <a> & "b"');
  const relu = b.op('Relu', [conv], {}, "relu 'c'");
  const two = b.op('Constant', [], { value: floatTensor([], [2]) }, 'two');
  b.op('Mul', [relu, two], {}, 'scale&</g>');
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'awkward', node: b.nodes, initializer: b.initializers, input: [valueInfo('x', [1, 2, 4, 4])], output: [valueInfo('scale&</g>', [1, 4, 4, 4])] },
  };
}

test('diagram of a small model: Constant hidden, conv+relu collapsed, names escaped in the SVG', async () => {
  const s = await specializeFor(awkwardNames(), { inputShape: [1, 2, 4, 4] });
  const g = modelGraph(s);
  assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.label, n.nodes]), [
    ['input0', 'io', ['Input: x', '1x2x4x4'], []],
    ['n0', 'conv', ['Conv 3x3 + Relu', '1x4x4x4'], ['conv <a> & "b"', "relu 'c'"]],
    ['n1', 'other', ['Mul', '1x4x4x4'], ['scale&</g>']],
    ['output0', 'io', ['Output: scale&</g>', '1x4x4x4'], []],
  ]);
  assert.deepEqual(g.edges, [{ from: 'input0', to: 'n0' }, { from: 'n0', to: 'n1' }, { from: 'n1', to: 'output0' }]);
  // 4*2*3*3 weights, 4*4*4 outputs of 2*3*3 products each; the Constant's one value counts at the Mul.
  assert.deepEqual(g.nodes.map((n) => [n.parameters, n.macs]), [[0, 0], [72, 1152], [1, 0], [0, 0]]);
  checkCoverage(s, g, 'awkward');
  const flat = modelGraph(s, { collapse: false });
  assert.deepEqual(flat.nodes.map((n) => n.label[0]), ['Input: x', 'Conv 3x3', 'Relu', 'Mul', 'Output: scale&</g>']);

  const svg = renderSvg(layoutGraph(g), { title: 'a <title> & "more"' });
  const read = readSvg(svg);
  assert.deepEqual(read.boxes.map((b) => b.nodes), g.nodes.map((n) => n.nodes));
  assert.deepEqual(read.boxes.map((b) => b.lines), g.nodes.map((n) => n.label));
  assert.deepEqual(read.boxes[1]!.title, 'conv <a> & "b", relu \'c\'');
  assert.ok(svg.includes('a &lt;title&gt; &amp; &quot;more&quot;'));
});

test('diagram of tiny-resnet, collapsed', async () => {
  const entry = zoo['tiny-resnet']!;
  const g = modelGraph(await specializeFor(entry.build(), { inputShape: entry.inputShape(1) }));
  assert.deepEqual(g.nodes.map((n) => `${n.label[0]} | ${n.label[1]}`), [
    'Input: input | 1x3x32x32',
    'Conv 3x3 + BN + Relu | 1x16x32x32',
    'Conv 3x3 + BN + Relu | 1x16x32x32',
    'Conv 3x3 + BN | 1x16x32x32', // feeds the Add, which is not an activation
    'Add | 1x16x32x32',
    'Relu | 1x16x32x32',
    'Conv 3x3/2 + BN + Relu | 1x32x16x16',
    'Conv 3x3 + BN | 1x32x16x16',
    'Conv 1x1/2 + BN | 1x32x16x16', // the projection shortcut
    'Add | 1x32x16x16',
    'Relu | 1x32x16x16',
    'GlobalAveragePool | 1x32x1x1',
    'Flatten | 1x32',
    'Gemm | 1x10',
    'Output: logits | 1x10',
  ]);
  const id = (label: string, nth = 0): string => g.nodes.filter((n) => n.label[0] === label)[nth]!.id;
  // The identity shortcut: the stem's box feeds block1's Add directly.
  assert.ok(g.edges.some((e) => e.from === id('Conv 3x3 + BN + Relu', 0) && e.to === id('Add', 0)));
  // The projection reads block1's output.
  assert.ok(g.edges.some((e) => e.from === id('Relu', 0) && e.to === id('Conv 1x1/2 + BN')));
  assert.deepEqual(g.nodes.map((n) => n.kind), ['io', 'conv', 'conv', 'conv', 'merge', 'activation', 'conv', 'conv', 'conv', 'merge', 'activation', 'pool', 'reshape', 'linear', 'io']);
});

test('every compute node is in exactly one box, for every zoo model, with and without collapse', async () => {
  for (const [name, entry] of Object.entries(zoo)) {
    const s = await specializeFor(entry.build(), { inputShape: entry.inputShape(1) });
    for (const collapse of [true, false]) {
      const g = modelGraph(s, { collapse });
      checkCoverage(s, g, `${name} collapse=${collapse}`);
      checkLayout(layoutGraph(g), `${name} collapse=${collapse}`);
      if (!collapse) assert.ok(g.nodes.every((n) => n.nodes.length <= 1), name);
    }
  }
});

test('ResNet-50 diagram: conv/bn/relu runs become blocks; SVG and PNG', async () => {
  const s = await specializeFor(resnet50(), { inputShape: imagenetInputShape(1) });
  const full = modelGraph(s, { collapse: false });
  checkCoverage(s, full, 'resnet50');
  // 175 compute nodes (53 Conv, 53 BN, 49 Relu, 16 Add, MaxPool, GAP, Flatten, Gemm) + input + output.
  assert.equal(full.nodes.length, 177);
  const g = modelGraph(s);
  checkCoverage(s, g, 'resnet50 collapsed');
  // Every Conv heads a block with its BN: 53 blocks. A Relu joins when the BN feeds only it:
  // the stem and the first two convs of each of the 16 bottlenecks (33); conv3 and the
  // projections feed the Add. Boxes: input, stem block, maxpool, 16 bottlenecks of 3 blocks
  // + Add + Relu (+ a projection block in the 4 first ones), GAP, Flatten, Gemm, output:
  // 1 + 1 + 1 + 16*5 + 4 + 3 + 1 = 91.
  const blocks = g.nodes.filter((n) => n.label[0].startsWith('Conv'));
  assert.equal(blocks.length, 53);
  assert.ok(blocks.every((b) => b.nodes.length >= 2 && b.label[0].includes(' + BN')));
  assert.equal(blocks.filter((b) => b.nodes.length === 3).length, 33);
  assert.equal(g.nodes.length, 91);
  // Edges: per bottleneck conv1 -> conv2 -> conv3 -> Add -> Relu, input -> conv1 and the
  // shortcut (input -> Add, or input -> projection -> Add): 6 or 7 edges, 12*6 + 4*7 = 100;
  // plus input -> stem -> maxpool and relu -> GAP -> Flatten -> Gemm -> output: 106.
  assert.equal(g.edges.length, 106);
  const stem = g.nodes.find((n) => n.nodes.includes('conv1'))!;
  assert.deepEqual([stem.label, stem.nodes, stem.parameters, stem.macs], [['Conv 7x7/2 + BN + Relu', '1x64x112x112'], ['conv1', 'bn1', 'relu'], 9408 + 4 * 64, 118_013_952]);
  const strided = g.nodes.find((n) => n.nodes.includes('layer2.0.conv2'))!;
  assert.deepEqual(strided.label, ['Conv 3x3/2 + BN + Relu', '1x128x28x28']);
  assert.deepEqual(g.nodes.find((n) => n.nodes.includes('layer4.0.downsample.0'))!.label, ['Conv 1x1/2 + BN', '1x2048x7x7']);

  const layout = layoutGraph(g);
  checkLayout(layout, 'resnet50');
  assert.ok(layout.height > 5 * layout.width, 'a top-to-bottom drawing of a deep chain is tall');
  const svg = renderSvg(layout, { title: 'ResNet-50' });
  const read = readSvg(svg);
  assert.equal(read.boxes.length, 91);
  assert.equal((svg.match(/<text[ >]/g) ?? []).length, 91 + 1, 'one text per box and the title');
  assert.deepEqual(read.boxes.map((b) => b.nodes), g.nodes.map((n) => n.nodes));
  assert.equal((svg.match(/<polyline /g) ?? []).length, 106);

  const png = await svgToPng(svg);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = new DataView(png.buffer, png.byteOffset + 16, 8);
  assert.deepEqual([ihdr.getUint32(0), ihdr.getUint32(4)], [read.width, read.height]);
  assert.ok(read.width >= 300 && read.width <= 1000 && read.height >= 4000 && read.height <= 10000, `${read.width}x${read.height}`);
});
