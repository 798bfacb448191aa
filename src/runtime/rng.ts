/**
 * A seeded PRNG for reproducible model weights and test inputs (mulberry32: 32-bit state,
 * passes PractRand to 2^32 outputs, which is far more than any zoo model draws).
 */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  uint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform on [0, 1). */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /** Standard normal by Box-Muller; each pair of uniforms yields two draws. */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  uniforms(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  normals(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Zero-mean uniform values with standard deviation `std` (U(-a, a) has std a/sqrt(3)).
   * Used for weights: only the variance matters for signal propagation, and uniform draws
   * are several times cheaper than normal ones for the 100M-weight benchmark models.
   */
  symmetric(n: number, std: number): Float32Array {
    return this.uniforms(n, -std * Math.sqrt(3), std * Math.sqrt(3));
  }
}

/**
 * He (Kaiming) initialization scale: weights with variance gain/fan_in keep the second
 * moment of activations constant from layer to layer; gain 2 compensates for ReLU zeroing
 * half of its inputs (He et al. 2015), gain 1 suits a layer with no ReLU after it.
 */
export function heStd(fanIn: number, gain = 2): number {
  return Math.sqrt(gain / fanIn);
}
