/**
 * `npm run bench`: runs every benchmark case in its own process (so peak memory is per
 * case) and rewrites BENCHMARKS.md. Ratios are against the forward pass measured in the
 * same process run; absolute times on these shared 2-core machines are noisy.
 * `npm run bench -- resnet50` runs the cases of one model only.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fmt } from './timing.ts';

interface CaseResult { name: string; batch: number; result: Record<string, number> }

const only = process.argv[2];
const cases: [string, number][] = [['resnet50', 1], ['resnet50', 8], ['vgg16', 1], ['vgg16', 8]];
const results: CaseResult[] = [];
for (const [name, batch] of cases) {
  if (only && name !== only) continue;
  process.stderr.write(`bench: ${name} batch ${batch}\n`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/gradient-case.ts', name, String(batch)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  results.push(JSON.parse(out.trim().split('\n').pop()!) as CaseResult);
}

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
writeFileSync('BENCHMARKS.md', lines.join('\n'));
process.stdout.write(lines.join('\n'));
