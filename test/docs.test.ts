/** The README's method table is the registry's (regenerate with `npm run docs`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withMethodTable } from '../src/methods/docs.ts';
import { methodIds } from '../src/methods/registry.ts';

test('README lists every registered method, as generated', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withMethodTable(readme), 'README method table is stale: run `npm run docs`');
  for (const id of methodIds) assert.ok(readme.includes(`| \`${id}\` |`), id);
});
