// Browser-safe image rendering for explanations. PNG encoding and image
// decoding need Node (sharp) and live in './png.ts', imported separately.

export { channelsOf, createRgbImage, rgbaToRgb, rgbToRgba } from './image.ts';
export type { Rgb, RgbaImage, RgbImage } from './image.ts';
export { applyColormap, colormapNames, colormapTable } from './colormaps.ts';
export type { ColormapName } from './colormaps.ts';
export { resizeBilinear } from './resize.ts';
export { absMaxScale, minMaxNormalize, normalizeGradientImage, percentileClip } from './normalize.ts';
export { channelSum, diverging, gradientImage, grid, overlay, renderAttribution, signedImage } from './render.ts';
