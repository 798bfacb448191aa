#!/usr/bin/env node
// The installed package runs the compiled CLI (dist/). A checkout of the repository, which
// has the TypeScript sources and its dev dependencies, runs the sources through tsx's
// loader instead, so tests and scripts never see a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
