// Names and messages shared by the benchmark parent (run.ts) and its server child (server.ts).
export const SERVICE_ID = 'spine-fracture-risk';
export const HOOK_PATH = `/cds-services/${SERVICE_ID}`;
export const BARE_PATH = '/cds-services/bare';
export const CLIENT_ISS = 'https://ehr.bench.test';

/** Parent → child over the IPC channel: report process.memoryUsage(), and again after a full GC when asked. */
export interface MemoryRequest {
  bench: 'memory';
  id: number;
  gc: boolean;
}

/** Child → parent: the answer to a MemoryRequest. `afterGc` is absent when no GC was asked for. */
export interface MemoryReport {
  bench: 'memory';
  id: number;
  raw: NodeJS.MemoryUsage;
  afterGc?: NodeJS.MemoryUsage;
}
