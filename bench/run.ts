/**
 * `npm run bench`: runs every benchmark case in its own process (so peak memory is per
 * case) and rewrites their sections of BENCHMARKS.md (other sections are kept). Ratios are against the forward pass measured in the
 * same process run; absolute times on these shared 2-core machines are noisy.
 * `npm run bench -- resnet50` runs the cases of one model only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fmt } from './timing.ts';

interface CaseResult { name: string; batch: number; result: Record<string, number> }

const only = process.argv[2];
const run = (script: string, ...args: string[]): unknown => {
  process.stderr.write(`bench: ${script} ${args.join(' ')}\n`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const last = out.trim().split('\n').pop()!;
  process.stderr.write(`${last}\n`); // the raw numbers stay in the log whatever happens next
  return JSON.parse(last);
};
const cases: [string, number][] = [['resnet50', 1], ['resnet50', 8], ['vgg16', 1], ['vgg16', 8]];
const results: CaseResult[] = [];
for (const [name, batch] of cases) {
  if (!only || only === name) results.push(run('bench/gradient-case.ts', name, String(batch)) as CaseResult);
}
const apps = !only || only === 'apps' ? (run('bench/apps-case.ts') as { result: Record<string, number> }).result : undefined;
const methodResults = !only || only === 'methods' ? [1, 8].map((b) => run('bench/methods-case.ts', String(b)) as { batch: number; result: Record<string, number> }) : [];
const metricResults = !only || only === 'metrics' ? (run('bench/metrics-case.ts') as { result: Record<string, number> }).result : undefined;
const pipeline = !only || only === 'pipeline' ? (run('bench/pipeline-case.ts') as { result: Record<string, number> }).result : undefined;
const queueResult = !only || only === 'queue' ? (run('bench/queue-case.ts') as { result: Record<string, number> }).result : undefined;
const relevanceResults = !only || only === 'relevance' ? [1, 8].map((b) => run('bench/relevance-case.ts', String(b)) as { batch: number; result: Record<string, number> }) : [];

const timeRows = ['forward', 'input (default rules)', 'input, ConvTranspose + ScatterElements', 'input, flipped Conv + ScatterElements', 'input, ConvTranspose + MaxUnpool', 'last conv stage'];
const lines: string[] = [];
lines.push('# Benchmarks', '');
lines.push(`Command: \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${cpus()[0]?.model ?? ''}, onnxruntime-node CPU).`);
lines.push('Medians of 5 runs after 2 warm-ups; ratios are to the forward pass measured in the same process.', '');
lines.push('## Gradient compiler (issue: foundation)', '');
lines.push(`| model | batch | ${timeRows.join(' | ')} |`);
lines.push(`|---|---|${timeRows.map(() => '---').join('|')}|`);
for (const r of results) {
  const f = r.result['forward']!;
  const cells = timeRows.map((k) => (k === 'forward' ? `${fmt(f, 1)} ms` : `${fmt(r.result[k]! / f)}x (${fmt(r.result[k]!, 1)} ms)`));
  lines.push(`| ${r.name} | ${r.batch} | ${cells.join(' | ')} |`);
}
lines.push('', '| model | batch | specialize (probe + fold) | compile + session, input gradient | compile + session, last stage | peak RSS |', '|---|---|---|---|---|---|');
for (const r of results) {
  const x = r.result;
  lines.push(`| ${r.name} | ${r.batch} | ${fmt(x['specialize (probe + fold) ms']! / 1000)} s | ${fmt(x['compile input (default rules) ms']! / 1000)} s | ${fmt(x['compile last conv stage ms']! / 1000)} s | ${fmt(x['peak RSS MB']!, 0)} MB |`);
}
lines.push('');
if (methodResults.length > 0) {
  lines.push('## Attribution methods (issue: attribution maps)', '');
  lines.push('ResNet-50-shaped model, 3x224x224, random weights, `target: auto`, batch size 8 inside methods. Ratio = method time / one forward pass of the same batch, measured in the same process. Perturbation methods: also their time over the batched forward passes they run (rows / 8 runs of batch 8).', '');
  lines.push('| method | batch 1 | batch 8 | target |', '|---|---|---|---|');
  const targets: Record<string, string> = { 'grad-cam': '<= 1.3x', 'guided-backprop': '<= 2.5x', saliency: '<= 2.5x', deconvnet: '<= 2.5x', smoothgrad: '<= 62.5x (25 samples)' };
  const ids = Object.keys(methodResults[0]!.result).filter((k) => !k.startsWith('forward') && !k.startsWith('peak') && !k.startsWith('rows '));
  for (const id of ids) {
    const cells = methodResults.map((m) => {
      const t = m.result[id];
      if (t === undefined) return 'not run';
      const f = m.result['forward']!;
      const rows = m.result[`rows ${id}`];
      const perForward = rows ? `; ${fmt(t / ((rows / 8) * m.result['forward batch 8']!))}x of ${rows} rows` : '';
      return `${fmt(t / f)}x (${fmt(t, 0)} ms${perForward})`;
    });
    lines.push(`| ${id} | ${cells.join(' | ')} | ${targets[id] ?? ''} |`);
  }
  lines.push('', `Forward pass: ${methodResults.map((m) => `batch ${m.batch} ${fmt(m.result['forward']!, 1)} ms`).join(', ')}; peak RSS ${methodResults.map((m) => `${fmt(m.result['peak RSS MB']!, 0)} MB`).join(' / ')}.`, '');
}
if (relevanceResults.length > 0) {
  lines.push('## Relevance methods (issue: relevance propagation)', '');
  lines.push('ResNet-50-shaped model, 3x224x224, random weights, `target: auto`, batch size 8 inside methods (`node --import tsx bench/relevance-case.ts BATCH`). Ratio = method time / one forward pass of the same batch in the same process.', '');
  lines.push('| method | batch 1 | batch 8 | target |', '|---|---|---|---|');
  for (const id of Object.keys(relevanceResults[0]!.result).filter((k) => k !== 'forward' && !k.startsWith('peak'))) {
    const cells = relevanceResults.map((m) => `${fmt(m.result[id]! / m.result['forward']!)}x (${fmt(m.result[id]!, 0)} ms)`);
    lines.push(`| ${id} | ${cells.join(' | ')} | ${id.startsWith('lrp') ? '<= 3x' : ''} |`);
  }
  lines.push('');
}
if (metricResults) {
  lines.push('## Evaluation metrics (issue: measure the explanations)', '');
  lines.push('ResNet-50-shaped model, 3x224x224, random weights, one image, its Grad-CAM map (`node --import tsx bench/metrics-case.ts`). Ratio = metric time / the time of the same rows as plain inference in batches of 8, measured just before it in the same process.', '');
  lines.push('| metric | rows (forward passes) | time | inference of the rows | ratio | target |', '|---|---|---|---|---|---|');
  for (const key of Object.keys(metricResults).filter((k) => k.endsWith(' / forward'))) {
    const m = key.slice(0, -' / forward'.length);
    lines.push(`| ${m} | ${metricResults[`${m} rows`]} | ${fmt(metricResults[`${m} ms`]!, 0)} ms | ${fmt(metricResults[`${m} inference ms`]!, 0)} ms | ${fmt(metricResults[key]!)}x | <= 1.2x |`);
  }
  lines.push('', `Peak RSS ${fmt(metricResults['peak RSS MB']!, 0)} MB.`, '');
}
if (apps) {
  lines.push('## Inspection, feature visualization, CLI and explorer (issues: look inside, CLI, web explorer)', '');
  lines.push('| measurement | value | target |', '|---|---|---|');
  const targets: Record<string, string> = {
    'class model step / forward+backward': '<= 1.2x',
    'fourier + transforms step / forward+backward': '<= 1.2x',
    'server grad-cam bundled ms': '< 100 ms',
  };
  for (const [key, value] of Object.entries(apps)) lines.push(`| ${key} | ${fmt(value, key.includes('/') && !key.includes('images/s') ? 2 : 1)} | ${targets[key] ?? ''} |`);
  lines.push('', `Grad-CAM maps run at ${fmt(apps['grad-cam maps 64 images/s']! / apps['inference 64 images/s']!)}x the images per second of plain batched inference on the bundled model; the whole command (decoding, maps, PNG encoding, the report) at ${fmt(apps['explain grad-cam 64 images/s (whole command: decode, maps, PNGs, report)']! / apps['inference 64 images/s']!)}x.`, '');
}
if (pipeline) lines.push(...pipelineSection(pipeline));
if (queueResult) lines.push(...queueSection(queueResult));
const merged = mergeSections(existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '', lines.join('\n'), !only);
writeFileSync('BENCHMARKS.md', merged);
process.stdout.write(lines.join('\n'));

/**
 * The new sections replace those of the same heading in the old file; the other sections
 * (cases not run this time, hand-written ones such as the profile and the browser bench)
 * are kept in place. The header (command, date) is the new one after a full run.
 */
function mergeSections(old: string, fresh: string, fullRun: boolean): string {
  const split = (text: string) => {
    const parts = text.split(/^(?=## )/m);
    const header = parts[0]!.startsWith('## ') ? '' : parts.shift()!;
    return { header, sections: parts.map((body) => ({ heading: body.split('\n')[0]!, body: body.endsWith('\n') ? body : `${body}\n` })) };
  };
  const before = split(old);
  const after = split(fresh);
  const byHeading = new Map(after.sections.map((x) => [x.heading, x.body]));
  const out = before.sections.map((x) => byHeading.get(x.heading) ?? x.body);
  for (const x of after.sections) if (!before.sections.some((y) => y.heading === x.heading)) out.push(x.body);
  return [fullRun || !before.header ? after.header : before.header, ...out].join('');
}

/** The whole-process section (bench/pipeline-case.ts). */
function pipelineSection(p: Record<string, number>): string[] {
  const out = ['## Whole process (issue: one explain pipeline)', ''];
  out.push('`convlens explain resnet50.onnx FOLDER -m METHOD --batch-size 8` as a fresh process (first run: an empty compiled-graph cache; warm: the same command again), random-weight ResNet-50, 224x224 PNGs (`node --import tsx bench/pipeline-case.ts`). "forward" = the pure batched onnxruntime forward of the same number of images in batches of 8, in the bench process. The speed of this machine drifts by 10-20% between runs, so each ratio is taken between runs made one right after the other (the mean of a forward just before and one just after each command; a cold convlens grad-cam run just after each torch run); rows for 32 images are medians of 3 such measurements, the others single ones. Peak RSS from GNU time.', '');
  out.push('| command | images | wall | / pure forward around it | peak RSS | first map written |', '|---|---|---|---|---|---|');
  for (const m of ['grad-cam', 'guided-backprop']) {
    for (const n of [32, 256, 2000]) {
      const s = p[`${m} ${n} s`];
      if (s === undefined) continue;
      const ratio = p[`${m} ${n} / forward`];
      out.push(`| convlens ${m} | ${n} | ${fmt(s, 1)} s | ${typeof ratio === 'number' ? `${fmt(ratio)}x` : ''} | ${fmt(p[`${m} ${n} peak RSS MB`]!, 0)} MB | ${fmt(p[`${m} ${n} first map ms`]! / 1000, 1)} s |`);
      const warm = p[`${m} ${n} warm s`];
      if (warm !== undefined) out.push(`| convlens ${m}, warm cache | ${n} | ${fmt(warm, 1)} s | ${fmt(p[`${m} ${n} warm / forward`]!)}x | | ${fmt(p[`${m} ${n} warm first map ms`]! / 1000, 1)} s |`);
    }
  }
  out.push('', '| torch reference | images | wall | peak RSS | convlens grad-cam (cold) is this much faster, run just after |', '|---|---|---|---|---|');
  const torchRows = [['pytorch-grad-cam', 'torch Grad-CAM as pytorch-grad-cam computes it (full backward)'], ['hook', 'torch Grad-CAM, lean hook script (backward through the head only)']];
  for (const [variant, label] of torchRows) {
    for (const n of [32, 256]) {
      const s = p[`torch ${variant} ${n} s`];
      if (s !== undefined) out.push(`| ${label} | ${n} | ${fmt(s, 1)} s | ${fmt(p[`torch ${variant} ${n} peak RSS MB`]!, 0)} MB | ${fmt(p[`torch ${variant} ${n} / convlens`]!)}x |`);
    }
  }
  const plain = p['plain forward process 32 s'];
  if (plain !== undefined) out.push('', `The plain forward as a fresh process (bench/forward-process.mjs: onnxruntime-node and sharp, a session with default options, each batch of 8 PNGs decoded, normalized and run) takes ${fmt(plain, 1)} s on the 32 images; the warm grad-cam command takes ${fmt(p['grad-cam 32 warm / plain forward process']!)}x that (medians of runs made one right after the other).`);
  const floor = p['plain forward process, optimized beforehand, 32 / forward'];
  if (floor !== undefined) out.push('', `The same plain forward process from a graph onnxruntime optimized beforehand (loaded with optimization off, weights in a file beside it, as convlens loads its cached graphs) takes ${fmt(floor)}x the pure forward around it: the least any fresh process pays for these 32 images, against the warm target of 1.5x.`);
  out.push('', `Pure forward (medians): ${fmt(p['forward 32 s']!, 1)} s for 32 images, ${fmt(p['forward 256 s']!, 1)} s for 256. The torch rows run bench/torch-gradcam.py on Debian's python3-torch (2 threads); pytorch-grad-cam itself cannot be installed offline, so its variant follows the package's steps (hooks, loss.backward() on the model with its parameters requiring gradients), and the hook variant is the least a hand-written Grad-CAM needs.`, '');
  const vs = (variant: string, n: number) => p[`torch ${variant} ${n} / convlens`];
  if (vs('pytorch-grad-cam', 32) !== undefined && vs('pytorch-grad-cam', 256) !== undefined) {
    out.push(
      `Against the targets of the pipeline issue: convlens grad-cam (cold cache) is ${fmt(vs('pytorch-grad-cam', 32)!, 1)}x as fast as the pytorch-grad-cam computation at 32 images (target >= 2x) and ${fmt(vs('pytorch-grad-cam', 256)!, 1)}x at 256 (target >= 3x); against the lean hook script ${fmt(vs('hook', 32)!, 1)}x at 32 and ${fmt(vs('hook', 256)!, 1)}x at 256.`,
      `The whole process takes ${fmt(p['grad-cam 256 / forward']!)}x the pure forward at 256 images cold and ${fmt(p['grad-cam 32 warm / forward']!)}x at 32 warm (target <= 1.5x); peak RSS at 2,000 inputs is ${fmt(p['grad-cam 2000 peak RSS MB']! / p['grad-cam 32 peak RSS MB']!)}x the peak at 32 (target <= 1.1x); the first map with a warm cache is written after ${fmt(p['grad-cam 32 warm first map ms']! / 1000, 1)} s (target <= 1.5 s).`,
      '',
    );
  }
  return out;
}

/** The job-queue section (bench/queue-case.ts). */
function queueSection(q: Record<string, number>): string[] {
  const jobs = q['images']! / 8;
  return [
    '## Job queue (issue: explain datasets on a job queue)', '',
    `\`node --import tsx bench/queue-case.ts\` (or \`npm run bench -- queue\`): random-weight ResNet-50 (no pretrained ResNet-50 .onnx offline), 224x224 PNGs, grad-cam, batch 8, ${q['images']} images = ${jobs} jobs; \`convlens worker\` processes on a throwaway redis-server on this machine, warmed up; a run's span is from its first job's start to its last job's end (BullMQ timestamps). Queue overhead = (1-worker span - the pipeline's own time inside the jobs) / jobs. Medians of ${q['rounds']} rounds; single-process and 1-worker runs alternate.`, '',
    '| setup | 64 images | images/s | note | target |', '|---|---|---|---|---|',
    `| one process (explainEntries, same pipeline) | ${fmt(q['single process s']!, 1)} s | ${fmt(q['images']! / q['single process s']!, 2)} | ${fmt((q['single process s']! * 1000) / jobs, 0)} ms per batch of 8 | |`,
    `| 1 worker | ${fmt(q['1 worker s']!, 1)} s | ${fmt(q['images']! / q['1 worker s']!, 2)} | queue overhead ${fmt(q['overhead per job ms']!, 0)} ms per job = ${fmt(100 * q['overhead per job / pipeline per job']!, 1)}% of the job's work (span difference to one process: ${fmt(q['1 worker - single process per job ms']!, 0)} ms per job) | <= 5% |`,
    `| 2 workers | ${fmt(q['2 workers s']!, 1)} s | ${fmt(q['images']! / q['2 workers s']!, 2)} | ${fmt(q['2 workers / 1 worker throughput']!)}x the throughput of 1 worker | ~1x on 2 cores (CPU-bound) |`,
    '',
  ];
}
