/**
 * Synthetic inputs for the whole-process benches: 224x224 PNGs (the model's size, so no
 * resize cost hides anything) of smooth waves with noise, photo-like enough for PNG's
 * compression to do real work, drawn from a seeded generator (the same files every run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../src/viz/png.ts';
import type { Rng } from '../src/runtime/rng.ts';

/** `n` PNGs named img0000.png, img0001.png, ... in `folder` (made if missing). */
export async function writeImages(folder: string, n: number, rng: Rng): Promise<void> {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < n; i++) {
    const data = new Uint8ClampedArray(224 * 224 * 3);
    const [a, b, c] = [rng.uniform() * 0.1, rng.uniform() * 0.1, rng.uniform() * 255];
    for (let p = 0; p < 224 * 224; p++) {
      const x = p % 224;
      const y = Math.floor(p / 224);
      for (let k = 0; k < 3; k++) data[3 * p + k] = (c + 100 * Math.sin(a * x + k) + 100 * Math.cos(b * y - k) + 30 * rng.normal()) & 255;
    }
    writeFileSync(join(folder, imageName(i)), await encodePng({ width: 224, height: 224, data }));
  }
}

export const imageName = (i: number): string => `img${String(i).padStart(4, '0')}.png`;
