#!/usr/bin/env node
// The installed package runs the bundled CLI (dist/bin/: one file and the chunks of its
// commands, which Node loads several times faster than the compiled modules one by one).
// A checkout of the repository, which has the TypeScript sources and its dev dependencies,
// runs the sources through tsx's loader instead, so tests and scripts never see a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/bin/main.js');
}
