// Entry of the worker threads in lifecycle.test.ts: registers tsx in the worker, then loads the
// TypeScript body (a .ts entry passed to new Worker() is refused before any loader hook runs).
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
