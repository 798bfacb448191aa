// The page's entry point; the app lives in src/web/client (type-checked with the rest).
// `npm run build:web` makes the page of `convlens serve` (the HTTP API); the 'site' mode
// (`convlens site`) makes the static page, whose model runs in a Web Worker.
import { start } from '../src/web/client/app.ts';
import { httpBackend } from '../src/web/client/http-backend.ts';

declare const __CONVLENS_STATIC__: boolean;

void start(__CONVLENS_STATIC__ ? (await import('../src/web/client/worker-backend.ts')).createWorkerBackend() : httpBackend);
