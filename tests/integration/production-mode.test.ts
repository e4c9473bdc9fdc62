// What production mode refuses to serve with, in the app and in `serve` as an operator runs it, and
// that the shipped local configuration still runs (in development mode).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertServable, ConfigError, loadConfig } from '../../src/config.js';
import { CLIENT_ISS, configFrom, PUBLIC_BASE, startTestApp, tempDir } from '../helpers/cds-app.js';
import { jwksOf, makeKey } from '../helpers/jwt.js';
import { startServe } from '../helpers/serve-process.js';

const refusal = (pattern: RegExp) => (error: unknown): boolean => error instanceof ConfigError && pattern.test(error.message);
const AUTH_DISABLED = /auth\.disabled is refused in production mode/;
const NO_PUBLIC_BASE = /server\.publicBaseUrl is required in production mode/;

describe('production mode', () => {
  it('the app refuses auth.disabled, even with publicBaseUrl set', () => {
    assert.throws(() => startTestApp({ config: { mode: 'production', auth: { disabled: true } } }), refusal(AUTH_DISABLED));
  });

  it('the app refuses to run without server.publicBaseUrl', async () => {
    const key = await makeKey('ES384');
    const auth = { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] };
    assert.throws(() => startTestApp({ config: { mode: 'production', server: {}, auth } }), refusal(NO_PUBLIC_BASE));
    const t = startTestApp({ config: { mode: 'production', server: { publicBaseUrl: PUBLIC_BASE }, auth } });
    t.close();
    assert.equal(t.config.mode, 'production');
  });

  it('development mode allows both (for local use and tests)', async () => {
    const t = startTestApp({ config: { mode: 'development', server: {}, auth: { disabled: true } } });
    try {
      await t.request.get('/cds-services').expect(200);
    } finally {
      t.close();
    }
  });

  it('is the default mode', () => {
    assert.equal(configFrom({}).mode, 'production');
    assert.throws(() => assertServable(configFrom({ auth: { disabled: true } })), refusal(AUTH_DISABLED));
  });

  for (const [name, config, message] of [
    ['auth.disabled', { auth: { disabled: true }, server: { publicBaseUrl: PUBLIC_BASE } }, AUTH_DISABLED],
    ['no server.publicBaseUrl', {}, NO_PUBLIC_BASE],
  ] as const) {
    it(`\`serve\` refuses to start with ${name}, before loading any model`, async () => {
      const file = join(tempDir(), 'config.json');
      // A model folder that does not exist: reaching the model loader would fail differently.
      writeFileSync(file, JSON.stringify({ mode: 'production', server: { port: 0 }, model: { dir: '/nonexistent-models' }, ...config }));
      await assert.rejects(startServe(file), (error: unknown) => {
        assert.match((error as Error).message, /serve exited \(code 2/);
        assert.match((error as Error).message, message);
        return true;
      });
    });
  }

  it('the shipped configurations pass: local.json runs in development mode, the production example has what production needs', () => {
    const local = loadConfig({}, 'config/local.json');
    assert.equal(local.mode, 'development');
    assert.doesNotThrow(() => assertServable(local));
    const example = loadConfig({ PACS_TOKEN: 'from-the-environment' }, 'config/example.production.json');
    assert.equal(example.mode, 'production');
    assert.doesNotThrow(() => assertServable(example));
  });

  it('refuses headersTimeoutMs above requestTimeoutMs', () => {
    assert.throws(() => configFrom({ server: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }), refusal(/headersTimeoutMs must not exceed server\.requestTimeoutMs/));
  });
});
