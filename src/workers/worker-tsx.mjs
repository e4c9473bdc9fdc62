// Worker entry used only when the service runs from TypeScript sources (tests, `npm run dev`):
// loaders registered with `node --import tsx` do not reach worker threads on Node 20, so this
// registers tsx inside the thread before loading the TypeScript entry. Built code uses worker.js.
import { register } from 'tsx/esm/api';

register();
const { default: runTask } = await import('./worker.ts');
export default runTask;
