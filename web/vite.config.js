// Build of the explorer page. `npm run build:web` writes web/dist, served by `convlens serve`.
// Mode 'site' (`convlens site`, `npm run build:site`) builds the static explorer: the same
// page with its workspace in a Web Worker (src/web/static/worker.ts) on onnxruntime-web,
// which the worker loads at run time from the site's ort/ folder (copied by `convlens site`).
import { defineConfig } from 'vite';

export default defineConfig(({ mode }) => ({
  root: import.meta.dirname,
  base: './',
  define: { __CONVLENS_STATIC__: JSON.stringify(mode === 'site') },
  worker: { format: 'es' },
  build: { outDir: mode === 'site' ? 'dist-site' : 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1000 },
}));
