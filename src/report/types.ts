/** What the HTML report shows (filled by `convlens explain` and `convlens demo`). */
import type { ColorScale } from '../viz/colorbar.ts';

export interface ReportPrediction {
  class: number;
  label: string;
  /** Pre-softmax score. */
  score: number;
  probability: number;
}

/** An image in the report: PNG bytes (embedded) or a file next to the report (linked). */
export type ReportImage = Uint8Array | { src: string; width: number; height: number };

export interface ReportCell {
  method: string;
  /** Layer tensor name for spatial methods ('fused' for a fusion). */
  layer?: string;
  /** The explained class and its label, where the target is a class. */
  class?: number;
  label?: string;
  /** The rendered result (overlay or attribution image). */
  png: ReportImage;
  /** What its colours mean (drawn as a colorbar with the value range). */
  scale?: ColorScale;
}

export interface ReportInput {
  name: string;
  /** The image as the model sees it (after resizing). */
  png: ReportImage;
  /** Top-5 predictions, best first. */
  predictions: ReportPrediction[];
  cells: ReportCell[];
}

export interface ReportMethod {
  id: string;
  paper: string;
  summary: string;
  /** From the registry: what the method's colours mean depends on these (see legend.ts). */
  family?: 'gradient' | 'cam' | 'perturbation' | 'relevance';
  /** 'image': a [C, H, W] attribution image; 'map': a heat map. */
  output?: 'image' | 'map';
  /** The map went through a ReLU (only positive evidence). */
  relu?: boolean;
  /** A signed attribution image, drawn summed over channels on a diverging colormap centred at 0. */
  signed?: boolean;
  /** Wall time for all inputs, milliseconds. */
  ms: number;
}

export interface ReportData {
  title: string;
  /** ISO date-time of the run. */
  generated: string;
  model: {
    name: string;
    inputShape: number[];
    opset: number;
    parameters: number;
    ops: { op: string; count: number }[];
  };
  /** Settings used, shown as a table (layer, preset, target, colormap, ...). */
  settings: Record<string, string>;
  methods: ReportMethod[];
  inputs: ReportInput[];
  /** Where this page sits in a report split into pages (links to the others). */
  page?: { number: number; count: number; href: (page: number) => string; firstInput: number; totalInputs: number };
  /** Inputs that could not be read, with the reason (shown as a list). */
  skipped?: { name: string; reason: string }[];
}
