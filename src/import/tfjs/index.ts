/**
 * TF.js model import: a model.json (LayersModel or GraphModel) and its weight shards -> an
 * in-memory ONNX model that every convlens command reads like an .onnx file.
 * Browser-safe: the caller supplies the shard bytes (see file.ts for Node).
 */
import type { ModelProto } from '../../model/onnx-proto.ts';
import { readWeights, type ShardReader, type WeightGroup } from './weights.ts';
import { convertLayersModel } from './layers.ts';
import { convertGraphModel, type GraphModelJson } from './graph.ts';
import { ImportError } from './errors.ts';

export { ImportError } from './errors.ts';
export type { ShardReader } from './weights.ts';

/** The parsed model.json of a TF.js model. */
export interface TfjsModelJson {
  format?: string;
  modelTopology?: Record<string, unknown>;
  weightsManifest?: WeightGroup[];
}

export function isGraphModel(json: TfjsModelJson): boolean {
  return json.format === 'graph-model' || Array.isArray((json.modelTopology as { node?: unknown } | undefined)?.node);
}

export function importTfjs(json: TfjsModelJson, readShard: ShardReader): ModelProto {
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ImportError('the JSON file has no modelTopology: it is not a TF.js model.json (save it with model.save or tensorflowjs_converter)');
  }
  const weights = readWeights(json.weightsManifest ?? [], readShard);
  return isGraphModel(json)
    ? convertGraphModel(json as unknown as GraphModelJson, weights)
    : convertLayersModel(json.modelTopology, weights);
}
