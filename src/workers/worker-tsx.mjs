// Worker entry used only when the service runs from TypeScript sources (tests, `npm run dev`):
// loaders registered with `node --import tsx` do not reach worker threads on Node 20, so this
// registers tsx inside the thread before loading the TypeScript entry the pool names in workerData
// (worker.ts, or a test's fault-injecting entry). Built code uses worker.js.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { default: runTask } = await import(workerData.entry);
export default runTask;
