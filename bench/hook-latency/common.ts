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

/** Event-loop delay since the previous report (perf_hooks.monitorEventLoopDelay, 10 ms resolution), in ms. */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** process.getActiveResourcesInfo() at the time of the report: how many, and how many of each type. */
export interface ActiveResources {
  total: number;
  byType: Record<string, number>;
}

/** Child → parent: the answer to a MemoryRequest. `afterGc` is absent when no GC was asked for. */
export interface MemoryReport {
  bench: 'memory';
  id: number;
  raw: NodeJS.MemoryUsage;
  afterGc?: NodeJS.MemoryUsage;
  /** Added for bench/soak; older readers ignore it. */
  loopDelay?: LoopDelay;
  /** Added for bench/soak; older readers ignore it. */
  resources?: ActiveResources;
}
