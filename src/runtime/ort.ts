/**
 * Which ONNX Runtime build runs the graphs. convlens uses only the API that every build
 * shares (onnxruntime-common): in Node it loads onnxruntime-node on first use; a browser
 * page calls `setOrtBackend(await import('onnxruntime-web'))` first. Nothing else in the
 * library imports a runtime build, so the core stays free of Node-only modules.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export interface OrtBackend {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
}

let backend: OrtBackend | undefined;

export function setOrtBackend(ort: OrtBackend): void {
  backend = ort;
}

export async function ortBackend(): Promise<OrtBackend> {
  if (!backend) {
    // A variable specifier, so browser bundlers do not try to bundle the Node build.
    const nodeBuild = 'onnxruntime-node';
    backend = (await import(/* @vite-ignore */ nodeBuild)) as OrtBackend;
  }
  return backend;
}
