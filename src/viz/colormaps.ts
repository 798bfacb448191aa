// Colour lookup tables: 256 RGB entries per map, and scalar -> RGB mapping.
//
// Provenance of the numbers. The listed maps are stored as bytes,
// byte = round(255 * v) of the published 6-decimal float (none of those floats
// lands on a .5 tie, so the rounding rule is unambiguous):
// - viridis, inferno: matplotlib's `_viridis_data` / `_inferno_data` in
//   lib/matplotlib/_cm_listed.py (van der Walt & Smith, BIDS colormap work,
//   CC0), 256 float triples each.
// - turbo: matplotlib's `_turbo_data` in the same file, which is Google's
//   `turbo_colormap_data` (Anton Mikhailov, Apache-2.0, 2019). Rounded this way
//   the bytes equal Google's own published `turbo_srgb_bytes` table exactly.
// - jet: not a listed table but matplotlib's LinearSegmentedColormap over
//   `_jet_data` (lib/matplotlib/_cm.py); `jetTable` below samples it at the 256
//   points matplotlib uses, with the same arithmetic as its
//   `colors._create_lookup_table`. Jet's slopes put 70 of its 768 samples
//   exactly on a .5 byte tie in exact arithmetic; which way each rounds is
//   decided by the float result, so the arithmetic order matters and is
//   kept (matplotlib's floats give 57 up, 13 down; e.g. entry 22 blue is
//   227.49999999999997 -> 227).
// - gray: entry i is (i, i, i).
// - coolwarm: Moreland's diverging map (K. Moreland 2009, "Diverging Color Maps for
//   Scientific Visualization", ISVC; section 5 for the Msh space, 6 for the
//   interpolation), computed here from its two end colours, sRGB (59, 76, 192) blue and
//   (180, 4, 38) red, through a neutral grey of Msh magnitude 88 in the middle. The map
//   for signed values (attributions): 0.5 is zero, blue below, red above. matplotlib's
//   `coolwarm` samples Moreland's published 33-entry table of the same map.
//
// matplotlib's own `cmap(x, bytes=True)` truncates (int(255 * v)) instead of
// rounding, so it reports e.g. jet[0] = (0, 0, 127) where this table has
// (0, 0, 128); and it picks entry int(v * 256) (clipped to 255) where
// `applyColormap` picks round(v * 255).

import type { RgbImage } from './image.ts';

export const colormapNames = ['jet', 'turbo', 'viridis', 'inferno', 'gray', 'coolwarm'] as const;

export type ColormapName = (typeof colormapNames)[number];

// Listed maps as hex bytes, 16 RGB entries (96 hex digits) per line.
const VIRIDIS_HEX =
  '44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769' +
  '48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a' +
  '472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85' +
  '4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b' +
  '3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d' +
  '33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e' +
  '2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e' +
  '26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d' +
  '21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88' +
  '1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81' +
  '28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74' +
  '3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863' +
  '5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d' +
  '84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32' +
  'addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a' +
  'd8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725';

const INFERNO_HEX =
  '00000401000501010601010802010a02020c02020e03021004031204031405041706041907051b08051d09061f0a0722' +
  '0b07240c08260d08290e092b10092d110a30120a32140b34150b37160b39180c3c190c3e1b0c411c0c431e0c451f0c48' +
  '210c4a230c4c240c4f260c51280b53290b552b0b572d0b592f0a5b310a5c320a5e340a5f3609613809623909633b0964' +
  '3d09653e0966400a67420a68440a68450a69470b6a490b6a4a0c6b4c0c6b4d0d6c4f0d6c510e6c520e6d540f6d550f6d' +
  '57106e59106e5a116e5c126e5d126e5f136e61136e62146e64156e65156e67166e69166e6a176e6c186e6d186e6f196e' +
  '71196e721a6e741a6e751b6e771c6d781c6d7a1d6d7c1d6d7d1e6d7f1e6c801f6c82206c84206b85216b87216b88226a' +
  '8a226a8c23698d23698f24699025689225689326679526679727669827669a28659b29649d29649f2a63a02a63a22b62' +
  'a32c61a52c60a62d60a82e5fa92e5eab2f5ead305dae305cb0315bb1325ab3325ab43359b63458b73557b93556ba3655' +
  'bc3754bd3853bf3952c03a51c13a50c33b4fc43c4ec63d4dc73e4cc83f4bca404acb4149cc4248ce4347cf4446d04545' +
  'd24644d34743d44842d54a41d74b3fd84c3ed94d3dda4e3cdb503bdd513ade5238df5337e05536e15635e25734e35933' +
  'e45a31e55c30e65d2fe75e2ee8602de9612bea632aeb6429eb6628ec6726ed6925ee6a24ef6c23ef6e21f06f20f1711f' +
  'f1731df2741cf3761bf37819f47918f57b17f57d15f67e14f68013f78212f78410f8850ff8870ef8890cf98b0bf98c0a' +
  'f98e09fa9008fa9207fa9407fb9606fb9706fb9906fb9b06fb9d07fc9f07fca108fca309fca50afca60cfca80dfcaa0f' +
  'fcac11fcae12fcb014fcb216fcb418fbb61afbb81dfbba1ffbbc21fbbe23fac026fac228fac42afac62df9c72ff9c932' +
  'f9cb35f8cd37f8cf3af7d13df7d340f6d543f6d746f5d949f5db4cf4dd4ff4df53f4e156f3e35af3e55df2e661f2e865' +
  'f2ea69f1ec6df1ed71f1ef75f1f179f2f27df2f482f3f586f3f68af4f88ef5f992f6fa96f8fb9af9fc9dfafda1fcffa4';

const TURBO_HEX =
  '30123b32154333184a341b51351e5836215f37246638276d392a733a2d793b2f803c32863d358b3e38913f3b973f3e9c' +
  '4040a24143a74146ac4249b1424bb5434eba4451bf4454c34456c74559cb455ccf455ed34661d64664da4666dd4669e0' +
  '466be3476ee64771e94773eb4776ee4778f0477bf2467df44680f64682f84685fa4687fb458afc458cfd448ffe4391fe' +
  '4294ff4196ff4099ff3e9bfe3d9efe3ba0fd3aa3fc38a5fb37a8fa35abf833adf731aff52fb2f42eb4f22cb7f02ab9ee' +
  '28bceb27bee925c0e723c3e422c5e220c7df1fc9dd1ecbda1ccdd81bd0d51ad2d21ad4d019d5cd18d7ca18d9c818dbc5' +
  '18ddc218dec018e0bd19e2bb19e3b91ae4b61ce6b41de7b21fe9af20eaac22ebaa25eca727eea42aefa12cf09e2ff19b' +
  '32f29835f39438f4913cf58e3ff68a43f78746f8844af8804ef97d52fa7a55fa7659fb735dfc6f61fc6c65fd6969fd66' +
  '6dfe6271fe5f75fe5c79fe597dff5680ff5384ff5188ff4e8bff4b8fff4992ff4796fe4499fe429cfe409ffd3fa1fd3d' +
  'a4fc3ca7fc3aa9fb39acfb38affa37b1f936b4f836b7f735b9f635bcf534bef434c1f334c3f134c6f034c8ef34cbed34' +
  'cdec34d0ea34d2e935d4e735d7e535d9e436dbe236dde037dfdf37e1dd37e3db38e5d938e7d739e9d539ebd339ecd13a' +
  'eecf3aefcd3af1cb3af2c93af4c73af5c53af6c33af7c13af8be39f9bc39faba39fbb838fbb637fcb336fcb136fdae35' +
  'fdac34fea933fea732fea431fea130fe9e2ffe9b2dfe992cfe962bfe932afe9029fd8d27fd8a26fc8725fc8423fb8122' +
  'fb7e21fa7b1ff9781ef9751df8721cf76f1af66c19f56918f46617f36315f26014f15d13f05b12ef5811ed5510ec530f' +
  'eb500eea4e0de84b0ce7490ce5470be4450ae2430ae14109df3f08dd3d08dc3b07da3907d83706d63506d43305d23105' +
  'd02f05ce2d04cc2b04ca2a04c82803c52603c32503c12302be2102bc2002b91e02b71d02b41b01b21a01af1801ac1701' +
  'a91601a71401a41301a112019e10019b0f01980e01950d01920b018e0a018b09028808028507028106027e05027a0403';

/**
 * matplotlib's `_jet_data`: per channel, rows (x, y0, y1) of a piecewise-linear
 * map on [0, 1] (y0 is the value just left of x, y1 just right; jet is
 * continuous, so they agree).
 */
const JET_SEGMENTS: Readonly<Record<'red' | 'green' | 'blue', readonly (readonly [number, number, number])[]>> = {
  red: [
    [0.0, 0, 0],
    [0.35, 0, 0],
    [0.66, 1, 1],
    [0.89, 1, 1],
    [1.0, 0.5, 0.5],
  ],
  green: [
    [0.0, 0, 0],
    [0.125, 0, 0],
    [0.375, 1, 1],
    [0.64, 1, 1],
    [0.91, 0, 0],
    [1.0, 0, 0],
  ],
  blue: [
    [0.0, 0.5, 0.5],
    [0.11, 1, 1],
    [0.34, 1, 1],
    [0.65, 0, 0],
    [1.0, 0, 0],
  ],
};

/**
 * matplotlib's `colors._create_lookup_table(N, data)` with gamma = 1: the
 * breakpoints are scaled to x * (N - 1), sample i sits at
 * (N - 1) * linspace(0, 1, N)[i] = (N - 1) * (i * (1 / (N - 1))), the segment
 * is found by `searchsorted` (first breakpoint >= the sample), and the value is
 * distance * (y0[k] - y1[k - 1]) + y1[k - 1]. The operations are kept in the
 * same order so the doubles match numpy's bit for bit.
 */
function segmentLut(n: number, rows: readonly (readonly [number, number, number])[]): Float64Array {
  const xs = rows.map((r) => r[0] * (n - 1));
  const lut = new Float64Array(n);
  lut[0] = rows[0]![2];
  lut[n - 1] = rows[rows.length - 1]![1];
  const step = 1 / (n - 1);
  for (let i = 1; i < n - 1; i++) {
    const xi = (n - 1) * (i * step);
    let k = 0;
    while (xs[k]! < xi) k++;
    const distance = (xi - xs[k - 1]!) / (xs[k]! - xs[k - 1]!);
    lut[i] = distance * (rows[k]![1] - rows[k - 1]![2]) + rows[k - 1]![2];
  }
  for (let i = 0; i < n; i++) lut[i] = Math.min(Math.max(lut[i]!, 0), 1);
  return lut;
}

function jetTable(): Uint8Array {
  const r = segmentLut(256, JET_SEGMENTS.red);
  const g = segmentLut(256, JET_SEGMENTS.green);
  const b = segmentLut(256, JET_SEGMENTS.blue);
  const out = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    out[3 * i] = Math.round(255 * r[i]!);
    out[3 * i + 1] = Math.round(255 * g[i]!);
    out[3 * i + 2] = Math.round(255 * b[i]!);
  }
  return out;
}

function grayTable(): Uint8Array {
  const out = new Uint8Array(768);
  for (let i = 0; i < 256; i++) out.fill(i, 3 * i, 3 * i + 3);
  return out;
}

// sRGB <-> CIELAB (D65 white) <-> Msh, as Moreland's section 5.
const WHITE = [0.95047, 1, 1.08883] as const;
const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const fromLinear = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const labF = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const labFInverse = (t: number) => (t > 6 / 29 ? t ** 3 : (116 * t - 16) / (24389 / 27));

type Triple = [number, number, number];

function srgbToMsh([R, G, B]: Triple): Triple {
  const [r, g, b] = [R, G, B].map(toLinear) as Triple;
  const xyz = [0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b];
  const [fx, fy, fz] = xyz.map((v, i) => labF(v / WHITE[i]!)) as Triple;
  const [L, a, bb] = [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
  const M = Math.hypot(L, a, bb);
  return [M, M > 0 ? Math.acos(L / M) : 0, Math.atan2(bb, a)];
}

function mshToSrgb([M, s, h]: Triple): Triple {
  const [L, a, b] = [M * Math.cos(s), M * Math.sin(s) * Math.cos(h), M * Math.sin(s) * Math.sin(h)];
  const fy = (L + 16) / 116;
  const [X, Y, Z] = [fy + a / 500, fy, fy - b / 200].map((f, i) => WHITE[i]! * labFInverse(f)) as Triple;
  const linear = [3.2406 * X - 1.5372 * Y - 0.4986 * Z, -0.9689 * X + 1.8758 * Y + 0.0415 * Z, 0.0557 * X - 0.204 * Y + 1.057 * Z];
  return linear.map((c) => Math.min(Math.max(fromLinear(c), 0), 1)) as Triple;
}

/** Moreland's hue spin: the hue an unsaturated colour of magnitude `M` takes next to a saturated one. */
function adjustHue([M, s, h]: Triple, unsaturatedM: number): number {
  if (M >= unsaturatedM) return h;
  const spin = (s * Math.sqrt(unsaturatedM ** 2 - M ** 2)) / (M * Math.sin(s));
  return h > -Math.PI / 3 ? h + spin : h - spin;
}

/** Moreland's section 6 interpolation between two saturated colours through a neutral middle, at t in [0, 1]. */
function divergingColor(low: Triple, high: Triple, t: number): Triple {
  let a = srgbToMsh(low);
  let b = srgbToMsh(high);
  let u = t;
  const middle = Math.max(a[0], b[0], 88);
  if (u < 0.5) {
    b = [middle, 0, 0];
    u *= 2;
  } else {
    a = [middle, 0, 0];
    u = 2 * u - 1;
  }
  if (a[1] < 0.05 && b[1] > 0.05) a = [a[0], a[1], adjustHue(b, a[0])];
  else if (b[1] < 0.05 && a[1] > 0.05) b = [b[0], b[1], adjustHue(a, b[0])];
  return mshToSrgb([0, 1, 2].map((i) => (1 - u) * a[i]! + u * b[i]!) as Triple);
}

function coolwarmTable(): Uint8Array {
  const blue: Triple = [59 / 255, 76 / 255, 192 / 255];
  const red: Triple = [180 / 255, 4 / 255, 38 / 255];
  const out = new Uint8Array(768);
  for (let i = 0; i < 256; i++) divergingColor(blue, red, i / 255).forEach((v, c) => (out[3 * i + c] = Math.round(255 * v)));
  return out;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const cache = new Map<ColormapName, Uint8Array>();

function table(name: ColormapName): Uint8Array {
  let t = cache.get(name);
  if (t === undefined) {
    switch (name) {
      case 'jet':
        t = jetTable();
        break;
      case 'turbo':
        t = fromHex(TURBO_HEX);
        break;
      case 'viridis':
        t = fromHex(VIRIDIS_HEX);
        break;
      case 'inferno':
        t = fromHex(INFERNO_HEX);
        break;
      case 'gray':
        t = grayTable();
        break;
      case 'coolwarm':
        t = coolwarmTable();
        break;
      default:
        throw new RangeError(`unknown colormap ${String(name satisfies never)}`);
    }
    cache.set(name, t);
  }
  return t;
}

/** The 256-entry table of `name` as 768 bytes (entry i at [3i, 3i + 3)); a fresh copy. */
export function colormapTable(name: ColormapName): Uint8Array {
  return table(name).slice();
}

/** Where value v's colour starts in a table: 3 * round(clamp(v, 0, 1) * 255); NaN -> 0. */
export function colormapOffset(v: number): number {
  return 3 * Math.round((v > 0 ? (v < 1 ? v : 1) : 0) * 255);
}

/**
 * Colours a scalar map with values in [0, 1] (row-major, `width * height`
 * values): value v takes table entry round(clamp(v, 0, 1) * 255). NaN takes
 * entry 0.
 */
export function applyColormap(map: Float32Array, width: number, height: number, name: ColormapName): RgbImage {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || map.length !== n) {
    throw new RangeError(`applyColormap: ${map.length} values do not make a ${width}x${height} map`);
  }
  const lut = table(name);
  const data = new Uint8ClampedArray(n * 3);
  for (let i = 0; i < n; i++) {
    const k = colormapOffset(map[i]!);
    data[3 * i] = lut[k]!;
    data[3 * i + 1] = lut[k + 1]!;
    data[3 * i + 2] = lut[k + 2]!;
  }
  return { width, height, data };
}
