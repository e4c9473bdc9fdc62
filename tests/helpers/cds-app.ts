// Starts the real app (createApp) with a real SQLite store in a temp dir, a captured log, and the
// test services; configuration goes through the real loader from a JSON file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { createApp, type CdsApp } from '../../src/app.js';
import { ServiceRegistry, type CdsService } from '../../src/cds/service.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/ops/logger.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { jwksOf, makeKey, signJwtSync } from './jwt.js';
import { testServices } from './test-services.js';

export const PUBLIC_BASE = 'http://cds.test';
export const CLIENT_ISS = 'https://ehr.test';

const created: string[] = [];
process.once('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'cds-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Loads a configuration through the real loader from a temporary JSON file. */
export function configFrom(json: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Config {
  const file = join(tempDir('cds-config-'), 'config.json');
  writeFileSync(file, JSON.stringify(json));
  return loadConfig(env, file);
}

export interface TestApp {
  app: CdsApp;
  request: ReturnType<typeof supertest>;
  config: Config;
  store: SqliteStore;
  sqlitePath: string;
  /** Every log line written so far, as raw text. */
  logText(): string;
  logLines(): Record<string, unknown>[];
  close(): void;
}

export interface TestAppOptions {
  config?: Record<string, unknown>;
  services?: CdsService[];
  sqlitePath?: string;
  clock?: () => Date;
}

export function startTestApp(options: TestAppOptions = {}): TestApp {
  const sqlitePath = options.sqlitePath ?? join(tempDir(), 'cds.sqlite');
  const config = configFrom({
    mode: 'development',
    server: { publicBaseUrl: PUBLIC_BASE },
    log: { level: 'debug' },
    store: { sqlitePath },
    ...options.config,
  });
  const lines: string[] = [];
  const logger = createLogger(config.log.level, { write: (line: string) => void lines.push(line) });
  const store = new SqliteStore({ path: sqlitePath, busyTimeoutMs: config.store.busyTimeoutMs, minFreeBytes: config.store.minFreeBytes });
  const registry = new ServiceRegistry(options.services ?? testServices());
  const app = createApp(config, { registry, store, logger, ...(options.clock ? { clock: options.clock } : {}) });
  return {
    app,
    request: supertest(app.express),
    config,
    store,
    sqlitePath,
    logText: () => lines.join(''),
    logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    close: () => store.close(),
  };
}

export const MODES = ['development', 'production'] as const;
export type Mode = (typeof MODES)[number];

/**
 * The app for the engine suites, in either mode. Development runs without authentication; production
 * refuses that, so there the app trusts one client and every request made through `request` carries a
 * fresh JWT from it (aud = PUBLIC_BASE + the path), as an EHR's would.
 */
export async function startEngineApp(mode: Mode, options: TestAppOptions = {}): Promise<TestApp> {
  if (mode === 'development') return startTestApp({ ...options, config: { auth: { disabled: true }, ...options.config } });
  const key = await makeKey('ES384');
  const t = startTestApp({ ...options, config: { mode, auth: { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] }, ...options.config } });
  const methods = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);
  const request = new Proxy(t.request, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof name !== 'string' || !methods.has(name) || typeof value !== 'function') return value;
      return (path: string) => {
        const token = signJwtSync(key, { iss: CLIENT_ISS, aud: `${PUBLIC_BASE}${path.split('?')[0] ?? ''}` });
        return (value as (p: string) => ReturnType<TestApp['request']['get']>).call(target, path).set('Authorization', `Bearer ${token}`);
      };
    },
  });
  return { ...t, request };
}

/** A minimal valid patient-view request body. */
export function patientView(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'patient-view',
    hookInstance: crypto.randomUUID(),
    context: { userId: 'Practitioner/dr1', patientId: 'p1' },
    ...overrides,
  };
}
