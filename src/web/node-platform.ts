/** The explorer workspace's platform in Node: sharp decodes, fits and encodes images (see input/image-file.ts). */
import { randomBytes } from 'node:crypto';
import { loadImageForModel } from '../input/image-file.ts';
import { encodePng } from '../viz/png.ts';
import type { WorkspacePlatform } from './workspace-core.ts';

export const nodePlatform: WorkspacePlatform = {
  decodeImage: async (bytes, fit) => (await loadImageForModel(bytes, fit)).image,
  encodePng,
  newImageId: () => randomBytes(8).toString('hex'),
};
