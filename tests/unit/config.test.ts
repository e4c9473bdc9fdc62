import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';
import { configFrom, tempDir } from '../helpers/cds-app.js';

const run = promisify(execFile);

describe('configuration', () => {
  it('has documented defaults without a file', () => {
    const config = loadConfig({});
    assert.equal(config.mode, 'production');
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.server.bodyLimit, '5mb');
    assert.equal(config.auth.disabled, false);
    assert.deepEqual(config.auth.clients, []);
    assert.equal(config.fhir.timeoutMs, 5000);
    assert.equal(config.store.sqlitePath, 'data/cds.sqlite');
    assert.equal(config.cors.origins, '*');
  });

  it('reads a file and lets the environment override it, JSON-valued for arrays', () => {
    const config = configFrom(
      { server: { port: 9000 }, fhir: { timeoutMs: 1000 } },
      {
        PORT: '9100',
        CDS_AUTH_DISABLED: 'true',
        CDS_TRUST_PROXY: 'true',
        CDS_FHIR_SERVERS: '[{"baseUrl":"https://fhir.example.org/r4"}]',
      },
    );
    assert.equal(config.server.port, 9100);
    assert.equal(config.fhir.timeoutMs, 1000);
    assert.equal(config.auth.disabled, true);
    assert.equal(config.server.trustProxy, true);
    assert.deepEqual(config.fhir.servers, [{ baseUrl: 'https://fhir.example.org/r4', allowInsecureHttp: false }]);
  });

  it('reads PACS endpoints with credentials named by environment variable, and imaging defaults', () => {
    const config = configFrom(
      {},
      {
        CDS_DICOMWEB_ENDPOINTS: '[{"baseUrl":"https://pacs.example.org/dicom-web","auth":{"type":"basic","username":"cds","passwordEnv":"PACS_PASSWORD"}}]',
        PACS_PASSWORD: 'not-logged',
        CDS_WORKER_THREADS: '3',
      },
    );
    assert.deepEqual(config.imaging.dicomweb.endpoints, [
      { baseUrl: 'https://pacs.example.org/dicom-web', allowInsecureHttp: false, auth: { type: 'basic', username: 'cds', passwordEnv: 'PACS_PASSWORD' } },
    ]);
    assert.ok(!JSON.stringify(config).includes('not-logged'), 'the secret stays in the environment');
    assert.equal(config.workers.threads, 3);
    assert.deepEqual(config.imaging.limits, { maxBytes: 104857600, maxPixels: 50000000, maxFrames: 1, decodeTimeoutMs: 10000 });
    assert.equal(config.imaging.lookbackDays, 1825);
  });

  const bad: [string, Record<string, unknown>, NodeJS.ProcessEnv, RegExp][] = [
    ['a port out of range from the environment', {}, { PORT: '70000' }, /server\.port .*\(from PORT\)/],
    ['a port that is not a number', {}, { PORT: 'abc' }, /server\.port/],
    ['an unknown key', { server: { prot: 1 } }, {}, /server has unknown key "prot"/],
    ['an unknown mode', { mode: 'staging' }, {}, /mode/],
    ['an http FHIR server not marked for development', { fhir: { servers: [{ baseUrl: 'http://fhir.local/r4' }] } }, {}, /fhir\.servers\[0\]\.baseUrl must be https/],
    ['a client without keys', { auth: { clients: [{ iss: 'https://ehr' }] } }, {}, /auth\.clients\[0\] needs jwks, jwksUrl or allowedJku/],
    ['a client with an HMAC algorithm', { auth: { clients: [{ iss: 'https://ehr', jwksUrl: 'https://ehr/jwks', algorithms: ['HS256'] }] } }, {}, /auth\.clients\[0\]\.algorithms\[0\]/],
    ['the same issuer twice', { auth: { clients: [{ iss: 'a', jwksUrl: 'https://a/j' }, { iss: 'a', jwksUrl: 'https://a/k' }] } }, {}, /auth\.clients\[1\]\.iss "a" is listed twice/],
    ['a publicBaseUrl with a trailing slash', { server: { publicBaseUrl: 'https://cds.example.org/' } }, {}, /server\.publicBaseUrl/],
    ['a body limit without unit', { server: { bodyLimit: '100' } }, {}, /server\.bodyLimit/],
    ['JSON that does not parse in the environment', {}, { CDS_AUTH_CLIENTS: '[{' }, /CDS_AUTH_CLIENTS is not valid JSON/],
    ['an http PACS not marked for development', { imaging: { dicomweb: { endpoints: [{ baseUrl: 'http://pacs.local/dicom-web' }] } } }, {}, /imaging\.dicomweb\.endpoints\[0\]\.baseUrl must be https/],
    ['a PACS token variable that is not set', { imaging: { dicomweb: { endpoints: [{ baseUrl: 'https://pacs/dw', auth: { type: 'bearer', tokenEnv: 'PACS_TOKEN' } }] } } }, {}, /imaging\.dicomweb\.endpoints\[0\]\.auth names environment variable PACS_TOKEN, which is not set/],
    ['a PACS password written into the file', { imaging: { dicomweb: { endpoints: [{ baseUrl: 'https://pacs/dw', auth: { type: 'basic', username: 'u', password: 'secret' } }] } } }, {}, /imaging\.dicomweb\.endpoints\[0\]\.auth/],
    ['zero worker threads', { workers: { threads: 0 } }, {}, /workers\.threads/],
  ];
  for (const [name, file, env, message] of bad) {
    it(`refuses ${name}, naming the key`, () => {
      assert.throws(() => configFrom(file, env), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }

  it('loads the shipped configuration files', () => {
    assert.equal(loadConfig({}, 'config/local.json').auth.disabled, true);
    const production = loadConfig({ PACS_TOKEN: 'from-the-environment' }, 'config/example.production.json');
    assert.equal(production.auth.clients.length, 2);
    assert.equal(production.imaging.dicomweb.endpoints.length, 1);
    assert.throws(() => loadConfig({}, 'config/example.production.json'), /PACS_TOKEN, which is not set/);
  });

  it('refuses a file that is not JSON', () => {
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, '{ "server": ');
    assert.throws(() => loadConfig({}, file), /is not a JSON object/);
    assert.throws(() => loadConfig({}, join(tempDir(), 'missing.json')), /Cannot read configuration file/);
  });

  it('stops `serve` at start-up with a message naming the key and a non-zero exit', async () => {
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ fhir: { timeoutMs: -5 } }));
    const result = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', file], {
      env: { ...process.env, CDS_SQLITE_PATH: join(dir, 'db.sqlite') },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Invalid configuration: fhir\.timeoutMs must be >= 1/);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('warns at every start when authentication is turned off', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      // Development mode: production refuses auth.disabled (tests/integration/production-mode.test.ts).
      env: { ...process.env, CDS_CONFIG: '', CDS_MODE: 'development', PORT: '0', HOST: '127.0.0.1', CDS_AUTH_DISABLED: 'true', CDS_SQLITE_PATH: join(dir, 'db.sqlite') },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const seenBefore = output.includes('"msg":"listening"');
      output += chunk.toString();
      if (!seenBefore && output.includes('"msg":"listening"')) child.kill('SIGTERM'); // once: a second signal would not drain
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    const lines = output.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    assert.ok(lines.some((l) => l.level === 'warn' && /authentication is DISABLED/.test(l.msg)), output);
    assert.ok(lines.some((l) => l.msg === 'stopped'), 'drains and stops on SIGTERM');
    assert.equal(code, 0);
  });
});
