// Names shared by the benchmark parent (run.ts) and its server child (server.ts).
export const SERVICE_ID = 'bench-trivial';
export const HOOK_PATH = `/cds-services/${SERVICE_ID}`;
export const BARE_PATH = '/cds-services/bare';
export const CLIENT_ISS = 'https://ehr.bench.test';
