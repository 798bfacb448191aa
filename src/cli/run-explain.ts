/**
 * `convlens explain` and `convlens demo` as a command: open the model (flags over its own
 * defaults), run the streaming pipeline (src/app/explain-run.ts) with a progress line, and
 * stop cleanly on Ctrl-C (what was written stays, with its report; --skip-existing resumes).
 */
import type { ResizeMode } from '../input/image-file.ts';
import { explainRun, type ExplainRunOptions, type ExplainSummary } from '../app/explain-run.ts';
import { Progress } from './progress.ts';
import { openLens } from './load.ts';
import { resolveTargetFlags, type TargetFlags } from './target-flags.ts';

export type { ExplainSummary };

/** A command's explain run: the pipeline's own settings, plus the model file, the inputs and the input flags. */
export interface ExplainJob extends Pick<ExplainRunOptions, 'methods' | 'out' | 'raw' | 'colormap' | 'alpha' | 'options' | 'title' | 'skipExisting' | 'strict'> {
  model: string;
  inputs: string[];
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  /** A labels file. */
  labels?: string;
  /** Target flags placed once the model is open (--region, --mask, --box, --similar-to). */
  targetFlags?: TargetFlags;
}

export async function runExplain(job: ExplainJob): Promise<ExplainSummary> {
  const { preset, resize, size, labels } = job;
  await using lens = await openLens(job.model, { ...(preset ? { preset } : {}), ...(resize ? { resize } : {}), ...(size ? { size } : {}), ...(labels ? { labels } : {}) });
  const progress = new Progress();
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  try {
    const summary = await explainRun(lens, job.inputs, {
      methods: job.methods,
      out: job.out,
      raw: job.raw,
      colormap: job.colormap,
      alpha: job.alpha,
      options: job.targetFlags ? { ...job.options, ...(await resolveTargetFlags(lens, job.targetFlags)) } : job.options,
      signal: abort.signal,
      onProgress: (fraction, text) => progress.update(text, fraction),
      onWarning: (text) => progress.message(`convlens: warning: ${text}`),
      ...(job.title ? { title: job.title } : {}),
      ...(job.skipExisting ? { skipExisting: true } : {}),
      ...(job.strict ? { strict: true } : {}),
    });
    for (const s of summary.skipped) process.stderr.write(`convlens: skipped ${s.path}: ${s.reason}\n`);
    return summary;
  } finally {
    process.off('SIGINT', stop);
    progress.done();
  }
}
