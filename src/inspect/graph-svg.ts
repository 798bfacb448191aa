/**
 * Layout and SVG rendering of a diagram graph. The layout is dagre's (Sugiyama-style
 * layered drawing: Gansner et al. 1993, "A technique for drawing directed graphs"), top to
 * bottom; boxes are sized from their labels, so the drawing needs no text measurement API
 * and renders the same in Node (sharp/librsvg) and in browsers.
 */
import dagre from '@dagrejs/dagre';
import type { EdgeLabel, GraphLabel, NodeLabel } from '@dagrejs/dagre';
import type { DiagramEdge, DiagramGraph, DiagramKind, DiagramNode } from './graph.ts';

export interface LayoutNode extends DiagramNode {
  /** Top-left corner and size of the box. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutEdge extends DiagramEdge {
  /** Polyline from the source box's border to the target box's border. */
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

export interface RenderSvgOptions {
  title?: string;
}

const FONT_SIZE = 12;
const FONT_FAMILY = "'DejaVu Sans', Verdana, Arial, sans-serif";
/** Upper estimate of a character's advance at 12 px (DejaVu Sans digits are 0.64 em). */
const CHAR_WIDTH = 7.4;
const LINE_HEIGHT = 15;
const PAD_X = 12;
const PAD_Y = 6;
const BOX_HEIGHT = 2 * LINE_HEIGHT + 2 * PAD_Y;
const MARGIN = 16;
const TITLE_HEIGHT = 30;

/** Fill and stroke per kind: convolutions blue, normalizations green, activations orange, ... */
const COLORS: Record<DiagramKind, [fill: string, stroke: string]> = {
  conv: ['#dbe8fb', '#3b6fb6'],
  norm: ['#e0f0d8', '#4e8a3a'],
  activation: ['#fdebd0', '#c47a15'],
  pool: ['#ebe1f5', '#7a55a8'],
  linear: ['#f8dcdc', '#b04545'],
  merge: ['#d6f0ee', '#2f8a80'],
  reshape: ['#eeeeee', '#8a8a8a'],
  other: ['#ffffff', '#666666'],
  io: ['#fff7cc', '#8a7420'],
};

export function layoutGraph(g: DiagramGraph): GraphLayout {
  const graph = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 26, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    const chars = Math.max(...n.label.map((line) => line.length));
    graph.setNode(n.id, { width: Math.ceil(chars * CHAR_WIDTH + 2 * PAD_X), height: BOX_HEIGHT });
  }
  for (const e of g.edges) graph.setEdge(e.from, e.to);
  dagre.layout(graph);
  const size = graph.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes: g.nodes.map((n) => {
      const l = graph.node(n.id);
      return { ...n, x: (l.x ?? 0) - l.width / 2, y: (l.y ?? 0) - l.height / 2, width: l.width, height: l.height };
    }),
    edges: g.edges.map((e) => ({ ...e, points: (graph.edge(e.from, e.to).points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })) })),
  };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

const num = (v: number): string => String(Math.round(v * 10) / 10);

/** A standalone SVG document: white background, rounded boxes colored by kind, arrows. */
export function renderSvg(layout: GraphLayout, options: RenderSvgOptions = {}): string {
  const top = options.title === undefined ? 0 : TITLE_HEIGHT;
  const titleWidth = options.title === undefined ? 0 : options.title.length * 9 + 2 * MARGIN;
  const width = Math.max(layout.width, titleWidth);
  const height = layout.height + top;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${FONT_SIZE}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
      '<path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title !== undefined) {
    out.push(`<text x="${MARGIN}" y="${MARGIN + 8}" font-size="16" font-weight="bold" fill="#222222">${escapeXml(options.title)}</text>`);
  }
  out.push(`<g transform="translate(0 ${top})">`, '<g class="edges">');
  for (const e of layout.edges) {
    const points = e.points.map((p) => `${num(p.x)},${num(p.y)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="#555555" stroke-width="1.2" marker-end="url(#arrow)"/>`);
  }
  out.push('</g>', '<g class="nodes">');
  for (const n of layout.nodes) {
    const [fill, stroke] = COLORS[n.kind];
    const cx = num(n.x + n.width / 2);
    const tooltip = n.nodes.length > 0 ? n.nodes.join(', ') : n.label[0];
    out.push(
      `<g class="node ${n.kind}" data-id="${escapeXml(n.id)}" data-nodes="${escapeXml(JSON.stringify(n.nodes))}">`,
      `<title>${escapeXml(tooltip)}</title>`,
      `<rect x="${num(n.x)}" y="${num(n.y)}" width="${num(n.width)}" height="${num(n.height)}" rx="6" ry="6" fill="${fill}" stroke="${stroke}" stroke-width="1.2"/>`,
      `<text text-anchor="middle" fill="#1a1a1a">` +
        `<tspan x="${cx}" y="${num(n.y + PAD_Y + FONT_SIZE)}">${escapeXml(n.label[0])}</tspan>` +
        `<tspan x="${cx}" y="${num(n.y + PAD_Y + LINE_HEIGHT + FONT_SIZE)}" fill="#555555">${escapeXml(n.label[1])}</tspan></text>`,
      '</g>',
    );
  }
  out.push('</g>', '</g>', '</svg>', '');
  return out.join('\n');
}
