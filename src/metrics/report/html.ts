/**
 * The evaluation report: the metric x method table (mean ± standard error, the best method of
 * each row in bold), the plots, and the settings, in one self-contained HTML page; and the
 * same table as CSV.
 */
import type { EvaluationResult, TableRow } from '../evaluate.ts';
import { getMetric } from '../registry.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 4);
}

/** Table columns in order of first appearance. */
function columns(result: EvaluationResult): string[] {
  return [...new Set(result.table.map((r) => r.metric))];
}

export function tableCsv(result: EvaluationResult): string {
  const lines = ['metric,method,mean,stderr,n,better'];
  for (const r of result.table) lines.push([r.metric, r.method, r.mean, r.stderr, r.n, r.better].join(','));
  return `${lines.join('\n')}\n`;
}

/** A Markdown table (metric rows, method columns), as the README shows it. */
export function tableMarkdown(result: EvaluationResult): string {
  const rows = [`| metric | better | ${result.methods.join(' | ')} |`, `|---|---|${result.methods.map(() => '---').join('|')}|`];
  for (const column of columns(result)) {
    const cells = result.methods.map((m) => {
      const r = result.table.find((t) => t.metric === column && t.method === m);
      return r ? `${formatNumber(r.mean)} ± ${formatNumber(r.stderr)}` : '';
    });
    const better = result.table.find((t) => t.metric === column)!.better;
    rows.push(`| ${column} | ${better} | ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

function best(rows: TableRow[]): TableRow | undefined {
  const finite = rows.filter((r) => Number.isFinite(r.mean));
  if (finite.length < 2) return undefined;
  return finite.reduce((a, b) => ((b.better === 'higher' ? b.mean > a.mean : b.mean < a.mean) ? b : a));
}

export function renderEvaluationHtml(result: EvaluationResult, info: { title: string; settings: Record<string, string>; plots: { title: string; svg: string }[] }): string {
  const head = `<tr><th>metric</th><th>better</th>${result.methods.map((m) => `<th>${esc(m)}</th>`).join('')}</tr>`;
  const body = columns(result).map((column) => {
    const rows = result.table.filter((t) => t.metric === column);
    const top = best(rows);
    const cells = result.methods.map((m) => {
      const r = rows.find((t) => t.method === m);
      if (!r) return '<td></td>';
      const text = `${formatNumber(r.mean)} <span class="se">± ${formatNumber(r.stderr)}</span>`;
      return `<td>${r === top ? `<b>${text}</b>` : text}</td>`;
    });
    return `<tr><td>${esc(column)}</td><td>${rows[0]!.better}</td>${cells.join('')}</tr>`;
  }).join('\n');
  const papers = result.metrics.map((id) => `<li><b>${esc(id)}</b>: ${esc(getMetric(id).paper)}</li>`).join('');
  const settings = Object.entries(info.settings).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  const plots = info.plots.map((p) => `<figure>${p.svg}<figcaption>${esc(p.title)}</figcaption></figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td:first-child, th:first-child, td:nth-child(2) { text-align: left; } .se { color: #777; font-size: 90%; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; } figcaption { color: #555; font-size: 90%; }
</style></head><body>
<h1>${esc(info.title)}</h1>
<p>${result.classes.length} input(s); each value is the mean over inputs ± its standard error. Bold: the best method of the row.</p>
<table>${head}\n${body}</table>
${plots}
<h2>Metrics</h2><ul>${papers}</ul>
<h2>Settings</h2><table>${settings}</table>
</body></html>
`;
}
