// The page's entry point; the app lives in src/web/client (type-checked with the rest).
import { start } from '../src/web/client/app.ts';

void start();
