/**
 * What a method's colours mean, in one or two sentences for the report's legend: which
 * end of the colorbar is evidence for the class, whether 0 is marked, and, for the two
 * occlusion maps, that they read in opposite directions.
 */
import type { ReportMethod } from './types.ts';

/** The words for the two ends of each colormap (and 'channels', the attribution images' grey/RGB). */
const ends: Record<string, [low: string, high: string]> = {
  jet: ['blue', 'red'],
  turbo: ['dark blue', 'dark red'],
  viridis: ['purple', 'yellow'],
  inferno: ['black', 'yellow'],
  gray: ['black', 'white'],
  coolwarm: ['blue', 'red'],
  channels: ['dark', 'bright'],
};

export function colourEnds(colormap: string): [low: string, high: string] {
  return ends[colormap] ?? ['low', 'high'];
}

/** Meanings that depend on the method itself, not only on its output kind. */
const special: Record<string, (low: string, high: string) => string> = {
  occlusion: (low, high) =>
    `${high} = hiding this region lowers the class score most: the region matters. The values are score drops; below the bar's 0 mark (${low}) hiding the region raises the score.`,
  'occlusion-probability': (low, high) =>
    `Reads the OTHER way from occlusion: the colour is the class probability with this region hidden, so ${low} (low probability) marks where the evidence is and ${high} regions do not matter.`,
  rise: (low, high) => `${high} = the class stays likely when this region is kept visible (a mean over random masks): the region matters; ${low} = it does not.`,
  saliency: (low, high) => `${low} = the score does not change with this pixel, ${high} = the largest gradient magnitude (max over channels of |gradient|; no sign).`,
  'eigen-cam': (low, high) => `${high} = the strongest principal component of the layer's activations (class independent: the same map for every class), ${low} = none of it.`,
};

/**
 * The legend text of a method; `colormap` is the one its pictures were drawn with
 * ('channels' for attribution images).
 */
export function colourMeaning(method: Pick<ReportMethod, 'id' | 'output' | 'relu' | 'signed'>, colormap: string): string {
  const [low, high] = colourEnds(colormap);
  const own = special[method.id];
  if (own) return own(low, high);
  if (method.output === 'image' && method.signed) {
    return `Signed attribution, summed over the input channels: ${high} = for the class, ${low} = against it, the neutral middle = 0 (the bar is symmetric: -max|value| to +max|value|).`;
  }
  if (method.output === 'image' || colormap === 'channels') {
    return 'Attribution image (input channel c as colour c, grey for one): black = the most negative value, white = the most positive; the bar marks 0: brighter = raises the score, darker = lowers it.';
  }
  if (method.relu) return `${high} = strongest evidence for the class, ${low} = none (the map is ReLU'd: only evidence for the class is shown, 0 at the low end).`;
  return `${high} = the largest value of the map, ${low} = the smallest; where the bar marks 0, colours below it are evidence against the class.`;
}
