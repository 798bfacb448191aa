/** `npm run docs`: regenerate the README's method table from the registry. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withMethodTable } from '../src/methods/docs.ts';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withMethodTable(readFileSync(path, 'utf8')));
