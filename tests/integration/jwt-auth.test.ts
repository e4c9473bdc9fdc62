// Client authentication (CDS Hooks 2.0.1 §Trusting CDS Clients) through the real app: every refusal is
// the same detail-free 401, and the request log line says why (authFailure), which is what proves each
// case failed for the reason it was written for. JWKS URLs are served by real local HTTP servers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Response } from 'supertest';
import type { AuthFailure } from '../../src/cds/auth.js';
import { ConfigError } from '../../src/config.js';
import { issuedCardsPath } from '../../src/store/sqlite-store.js';
import { CLIENT_ISS, configFrom, PUBLIC_BASE, patientView, startTestApp, type TestApp } from '../helpers/cds-app.js';
import {
  hs256Jwt,
  jwksOf,
  makeKey,
  signJwt,
  unsignedJwt,
  withForeignSignature,
  type ClaimsOptions,
  type SigningKey,
} from '../helpers/jwt.js';
import { serveJwks, type JwksServer } from '../helpers/jwks-server.js';

const DISCOVERY_PATH = '/cds-services';
const SERVICE_PATH = '/cds-services/test-echo';
const FEEDBACK_PATH = `${SERVICE_PATH}/feedback`;
const DISCOVERY_URL = `${PUBLIC_BASE}${DISCOVERY_PATH}`;
const SERVICE_URL = `${PUBLIC_BASE}${SERVICE_PATH}`;
const FEEDBACK_URL = `${PUBLIC_BASE}${FEEDBACK_PATH}`;
const OTHER_SERVICE_URL = `${PUBLIC_BASE}/cds-services/test-orders`;

/** Client whose keys are fetched from `jwksUrl`. */
const REMOTE_ISS = 'https://remote-ehr.test';
/** Client that must send a `tenant` claim. */
const TENANT_ISS = 'https://tenant-ehr.test';
const TENANT = 'hospital-a';
/** Client with only allowedJku: a token without `jku` has nothing to be verified against. */
const JKU_ONLY_ISS = 'https://jku-only-ehr.test';

const MAX_TOKEN_AGE = 3600;
const TOLERANCE = 30;

const now = (): number => Math.floor(Date.now() / 1000);
const echoBody = (): Record<string, unknown> => patientView({ prefetch: { patient: { resourceType: 'Patient', id: 'p1' } } });
const feedbackBody = (): Record<string, unknown> => ({
  feedback: [{ card: randomUUID(), outcome: 'accepted', outcomeTimestamp: new Date().toISOString() }],
});

const UNAUTHORIZED_BODY = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'login', diagnostics: 'Unauthorized' }],
};

// ---------------------------------------------------------------------------------------------------
// Calling the app and finding the log line of that call.

interface Call {
  res: Response;
  log: Record<string, unknown>;
}

interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent verbatim as the Authorization header (wins over token). */
  authorization?: string;
  host?: string;
}

const requestLines = (app: TestApp): Record<string, unknown>[] => app.logLines().filter((line) => line.msg === 'request');

/** Every token handed to an app, to prove none of them reaches the log. */
const sentTokens: string[] = [];

async function call(app: TestApp, method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions = {}): Promise<Call> {
  const before = requestLines(app).length;
  let req = method === 'GET' ? app.request.get(path) : app.request.post(path).send(body as object);
  const authorization = options.authorization ?? (options.token !== undefined ? `Bearer ${options.token}` : undefined);
  if (options.token !== undefined) sentTokens.push(options.token);
  if (authorization !== undefined) req = req.set('Authorization', authorization);
  if (options.host !== undefined) req = req.set('Host', options.host);
  const res = await req;
  // The log line is written on 'finish'; give it a few turns of the event loop in case it trails the response.
  for (let i = 0; i < 100 && requestLines(app).length <= before; i++) await new Promise((resolve) => setImmediate(resolve));
  const lines = requestLines(app);
  assert.equal(lines.length, before + 1, 'exactly one request log line per call');
  const log = lines[before]!;
  assert.equal(log.path, path);
  return { res, log };
}

function assertRefused({ res, log }: Call, reason: AuthFailure): void {
  assert.equal(res.status, 401, `expected 401 (${reason}), got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/fhir\+json/);
  assert.deepEqual(JSON.parse(res.text), UNAUTHORIZED_BODY);
  assert.equal(log.status, 401);
  assert.equal(log.authFailure, reason);
  assert.equal(log.clientIss, undefined);
}

function assertAccepted({ res, log }: Call, iss: string): void {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${res.text} (authFailure: ${String(log.authFailure)})`);
  assert.equal(log.authFailure, undefined);
  assert.equal(log.clientIss, iss);
}

// ---------------------------------------------------------------------------------------------------

void describe('client JWT authentication (real app)', () => {
  let app: TestApp;
  let es384: SigningKey;
  let rs384: SigningKey;
  let es256: SigningKey;
  let remoteKey: SigningKey;
  let jkuKey: SigningKey;
  let attackerKey: SigningKey;
  let tenantKey: SigningKey;
  let remoteJwks: JwksServer;
  let trustedJku: JwksServer;
  let attackerJku: JwksServer;

  /** A token for CLIENT_ISS to the echo service that is accepted unless `overrides` says otherwise. */
  const mint = (overrides: Partial<ClaimsOptions> = {}, key: SigningKey = es384): Promise<string> =>
    signJwt(key, { iss: CLIENT_ISS, aud: SERVICE_URL, ...overrides });
  const callEcho = (options: CallOptions): Promise<Call> => call(app, 'POST', SERVICE_PATH, echoBody(), options);

  before(async () => {
    [es384, rs384, es256, remoteKey, jkuKey, attackerKey, tenantKey] = await Promise.all([
      makeKey('ES384'),
      makeKey('RS384'),
      makeKey('ES256'),
      makeKey('ES384'),
      makeKey('ES384'),
      makeKey('ES384'),
      makeKey('RS384'),
    ]);
    [remoteJwks, trustedJku, attackerJku] = await Promise.all([
      serveJwks(jwksOf(remoteKey)),
      serveJwks(jwksOf(jkuKey)),
      serveJwks(jwksOf(attackerKey)),
    ]);
    app = startTestApp({
      config: {
        auth: {
          maxTokenAgeSeconds: MAX_TOKEN_AGE,
          clockToleranceSeconds: TOLERANCE,
          clients: [
            // es256 is on record but not an allowed algorithm for this client.
            { iss: CLIENT_ISS, jwks: jwksOf(es384, rs384, es256), allowedJku: [trustedJku.url], algorithms: ['ES384', 'RS384'] },
            { iss: REMOTE_ISS, jwksUrl: remoteJwks.url },
            { iss: TENANT_ISS, jwks: jwksOf(tenantKey), tenant: TENANT },
            { iss: JKU_ONLY_ISS, allowedJku: [trustedJku.url] },
          ],
        },
      },
    });
  });

  after(async () => {
    app.close();
    await Promise.all([remoteJwks.close(), trustedJku.close(), attackerJku.close()]);
  });

  void describe('accepted tokens', () => {
    void it('accepts ES384 (inline JWKS)', async () => {
      assertAccepted(await callEcho({ token: await mint() }), CLIENT_ISS);
    });

    void it('accepts RS384 (inline JWKS)', async () => {
      assertAccepted(await callEcho({ token: await mint({}, rs384) }), CLIENT_ISS);
    });

    void it('accepts a client whose keys come from its jwksUrl (fetched from a real local server)', async () => {
      const token = await signJwt(remoteKey, { iss: REMOTE_ISS, aud: SERVICE_URL });
      assertAccepted(await callEcho({ token }), REMOTE_ISS);
      assert.deepEqual(remoteJwks.requests, ['GET /jwks.json']);
    });

    void it('accepts a jku header listed in allowedJku (key only at that URL, not on record)', async () => {
      const token = await mint({ jku: trustedJku.url }, jkuKey);
      assertAccepted(await callEcho({ token }), CLIENT_ISS);
      assert.deepEqual(trustedJku.requests, ['GET /jwks.json']);
    });

    void it('accepts aud as an array that contains the URL called', async () => {
      assertAccepted(await callEcho({ token: await mint({ aud: [OTHER_SERVICE_URL, SERVICE_URL] }) }), CLIENT_ISS);
    });

    void it('accepts the configured tenant', async () => {
      const token = await signJwt(tenantKey, { iss: TENANT_ISS, aud: SERVICE_URL, tenant: TENANT });
      assertAccepted(await callEcho({ token }), TENANT_ISS);
    });
  });

  void describe('refused tokens: 401 "Unauthorized", reason only in the log', () => {
    interface Refusal {
      name: string;
      reason: AuthFailure;
      /** Sent as a Bearer token; neither token nor authorization means no Authorization header. */
      token?: () => Promise<string> | string;
      authorization?: string;
      /** The same token one step inside the limit, which is accepted: the tested difference is the cause. */
      nearMiss?: () => Promise<string>;
      nearMissIss?: string;
    }

    const refusals: Refusal[] = [
      { name: 'no Authorization header', reason: 'missing-token' },
      { name: 'another auth scheme (Basic)', reason: 'missing-token', authorization: 'Basic dXNlcjpwYXNz' },
      { name: 'malformed token', reason: 'malformed-token', token: () => 'not.a.jwt' },
      {
        name: 'expired (exp in the past beyond the clock tolerance)',
        reason: 'invalid-token',
        token: () => mint({ iat: now() - 600, exp: now() - TOLERANCE - 60 }),
        nearMiss: () => mint({ iat: now() - 600, exp: now() - TOLERANCE + 10 }),
      },
      {
        name: 'not yet valid (nbf in the future)',
        reason: 'invalid-token',
        token: () => mint({ nbf: now() + TOLERANCE + 60 }),
        nearMiss: () => mint({ nbf: now() + TOLERANCE - 10 }),
      },
      {
        name: 'iat in the future',
        reason: 'invalid-token',
        token: () => mint({ iat: now() + TOLERANCE + 60 }),
        nearMiss: () => mint({ iat: now() + TOLERANCE - 10 }),
      },
      {
        name: 'older than maxTokenAgeSeconds (exp still in the future)',
        reason: 'invalid-token',
        token: () => mint({ iat: now() - MAX_TOKEN_AGE - TOLERANCE - 60, exp: now() + 300 }),
        nearMiss: () => mint({ iat: now() - MAX_TOKEN_AGE + 60, exp: now() + 300 }),
      },
      { name: "wrong aud (another service's URL)", reason: 'invalid-token', token: () => mint({ aud: OTHER_SERVICE_URL }) },
      { name: 'wrong aud (the discovery URL for a service call)', reason: 'invalid-token', token: () => mint({ aud: DISCOVERY_URL }) },
      { name: 'wrong aud (trailing slash)', reason: 'invalid-token', token: () => mint({ aud: `${SERVICE_URL}/` }) },
      {
        name: 'aud array without the URL called',
        reason: 'invalid-token',
        token: () => mint({ aud: [OTHER_SERVICE_URL, DISCOVERY_URL] }),
      },
      { name: 'unknown iss', reason: 'unknown-issuer', token: () => mint({ iss: 'https://stranger.test' }) },
      { name: 'alg: none', reason: 'unsupported-alg', token: () => unsignedJwt({ iss: CLIENT_ISS, aud: SERVICE_URL, kid: es384.kid }) },
      {
        name: "HS256 keyed with the public key's JSON",
        reason: 'unsupported-alg',
        token: () => hs256Jwt({ iss: CLIENT_ISS, aud: SERVICE_URL, kid: es384.kid }, JSON.stringify(es384.publicJwk)),
      },
      { name: 'an asymmetric alg not allowed for this client (ES256)', reason: 'unsupported-alg', token: () => mint({}, es256) },
      { name: 'missing kid', reason: 'missing-kid', token: () => mint({ kid: null }) },
      { name: 'kid not in the JWKS', reason: 'invalid-token', token: () => mint({ kid: 'no-such-kid' }) },
      {
        name: 'bad signature (a different key with the same kid)',
        reason: 'invalid-token',
        token: async () => mint({}, await makeKey('ES384', es384.kid)),
      },
      {
        name: 'bad signature (signature of another valid token)',
        reason: 'invalid-token',
        token: async () => withForeignSignature(await mint(), await mint()),
      },
      { name: 'missing jti', reason: 'invalid-token', token: () => mint({ jti: null }) },
      { name: 'empty jti', reason: 'invalid-token', token: () => mint({ jti: '' }) },
      { name: 'missing exp', reason: 'invalid-token', token: () => mint({ omit: ['exp'] }) },
      { name: 'missing iat', reason: 'invalid-token', token: () => mint({ omit: ['iat'] }) },
      { name: 'wrong typ (at+jwt)', reason: 'bad-typ', token: () => mint({ typ: 'at+jwt' }) },
      { name: 'missing typ', reason: 'bad-typ', token: () => mint({ typ: null }) },
      {
        name: 'tenant mismatch',
        reason: 'wrong-tenant',
        token: () => signJwt(tenantKey, { iss: TENANT_ISS, aud: SERVICE_URL, tenant: 'hospital-b' }),
        nearMiss: () => signJwt(tenantKey, { iss: TENANT_ISS, aud: SERVICE_URL, tenant: TENANT }),
        nearMissIss: TENANT_ISS,
      },
      {
        name: 'tenant missing when the client has one',
        reason: 'wrong-tenant',
        token: () => signJwt(tenantKey, { iss: TENANT_ISS, aud: SERVICE_URL }),
      },
      {
        name: 'no jku for a client that only has allowedJku',
        reason: 'no-key-source',
        token: () => signJwt(jkuKey, { iss: JKU_ONLY_ISS, aud: SERVICE_URL }),
      },
    ];

    for (const refusal of refusals) {
      void it(`refuses ${refusal.name} (${refusal.reason})`, async () => {
        const token = refusal.token ? await refusal.token() : undefined;
        assertRefused(await callEcho({ token, authorization: refusal.authorization }), refusal.reason);
        if (refusal.nearMiss) assertAccepted(await callEcho({ token: await refusal.nearMiss() }), refusal.nearMissIss ?? CLIENT_ISS);
      });
    }

    void it('refuses a jku not in allowedJku without ever fetching it', async () => {
      const token = await mint({ jku: attackerJku.url, kid: attackerKey.kid }, attackerKey);
      assertRefused(await callEcho({ token }), 'jku-not-allowed');
      assert.deepEqual(attackerJku.requests, [], 'the attacker JWKS server saw no request');
    });

    void it('refuses a replayed jti (first use 200, second 401)', async () => {
      const token = await mint();
      assertAccepted(await callEcho({ token }), CLIENT_ISS);
      assertRefused(await callEcho({ token }), 'replayed-jti');
    });
  });

  void describe('discovery and feedback need a token too', () => {
    void it('GET /cds-services: 401 without a token', async () => {
      assertRefused(await call(app, 'GET', DISCOVERY_PATH, undefined), 'missing-token');
    });

    void it('GET /cds-services: 401 with a token for a service URL', async () => {
      assertRefused(await call(app, 'GET', DISCOVERY_PATH, undefined, { token: await mint() }), 'invalid-token');
    });

    void it('GET /cds-services: 200 with aud = the discovery URL', async () => {
      const result = await call(app, 'GET', DISCOVERY_PATH, undefined, { token: await mint({ aud: DISCOVERY_URL }) });
      assertAccepted(result, CLIENT_ISS);
      const { services } = JSON.parse(result.res.text) as { services: { id: string }[] };
      assert.ok(services.some((s) => s.id === 'test-echo'));
    });

    void it('POST feedback: 401 without a token', async () => {
      assertRefused(await call(app, 'POST', FEEDBACK_PATH, feedbackBody()), 'missing-token');
    });

    void it("POST feedback: 401 with a token for the service's own URL", async () => {
      assertRefused(await call(app, 'POST', FEEDBACK_PATH, feedbackBody(), { token: await mint() }), 'invalid-token');
    });

    void it('POST feedback: 200 with aud = the feedback URL', async () => {
      assertAccepted(await call(app, 'POST', FEEDBACK_PATH, feedbackBody(), { token: await mint({ aud: FEEDBACK_URL }) }), CLIENT_ISS);
    });
  });

  void it('never writes a token to the log', () => {
    const text = app.logText();
    assert.ok(sentTokens.length > 30, `sanity: many tokens were sent (${sentTokens.length})`);
    for (const token of sentTokens) {
      assert.ok(!text.includes(token), 'a token appears in the log');
      const signature = token.split('.')[2];
      if (signature) assert.ok(!text.includes(signature), 'a token signature appears in the log');
    }
  });
});

void describe('aud derived from the Host header when server.publicBaseUrl is unset', () => {
  let app: TestApp;
  let key: SigningKey;
  const HOST = 'cds.internal:8443';

  before(async () => {
    key = await makeKey('ES384');
    app = startTestApp({ config: { server: {}, auth: { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] } } });
  });
  after(() => app.close());

  void it('accepts aud = http://<Host>/cds-services/test-echo', async () => {
    const token = await signJwt(key, { iss: CLIENT_ISS, aud: `http://${HOST}${SERVICE_PATH}` });
    assertAccepted(await call(app, 'POST', SERVICE_PATH, echoBody(), { token, host: HOST }), CLIENT_ISS);
  });

  void it('refuses an aud naming another host', async () => {
    const token = await signJwt(key, { iss: CLIENT_ISS, aud: SERVICE_URL });
    assertRefused(await call(app, 'POST', SERVICE_PATH, echoBody(), { token, host: HOST }), 'invalid-token');
  });

  void it('never writes a token to the log', () => {
    for (const token of sentTokens) assert.ok(!app.logText().includes(token));
  });
});

// A token is acceptable while floor(now) - iat - tolerance <= maxTokenAge, and its iat may be up to
// `tolerance` ahead at first use: so it stays valid up to maxTokenAge + 2·tolerance + 1 s after that.
// The replay cache must remember its jti at least that long. maxTokenAge = tolerance = 1 s keeps this quick;
// the app clock runs at real speed but starts on a whole second, so the seconds below are exact.
void describe('replay cache outlives every token it has seen', () => {
  let app: TestApp;
  let key: SigningKey;
  let startSecond: number;
  let started: number;

  before(async () => {
    key = await makeKey('ES384');
    started = Date.now();
    startSecond = Math.ceil(started / 1000);
    const clock = (): Date => new Date(startSecond * 1000 + (Date.now() - started));
    app = startTestApp({
      clock,
      config: { auth: { maxTokenAgeSeconds: 1, clockToleranceSeconds: 1, clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] } },
    });
  });
  after(() => app.close());

  void it('refuses a jti replayed near the end of the token validity (iat at the tolerance edge)', async () => {
    const token = await signJwt(key, { iss: CLIENT_ISS, aud: SERVICE_URL, iat: startSecond + 1, exp: startSecond + 60 });
    assertAccepted(await call(app, 'POST', SERVICE_PATH, echoBody(), { token }), CLIENT_ISS);
    // App clock at startSecond + 3.5: age 2.5 s floors to 2, 2 - 1 <= 1, so the signature and claims still pass.
    await new Promise((resolve) => setTimeout(resolve, started + 3500 - Date.now()));
    assertRefused(await call(app, 'POST', SERVICE_PATH, echoBody(), { token }), 'replayed-jti');
  });
});

// ---------------------------------------------------------------------------------------------------
// JWKS URLs over time: real key servers on loopback whose key set and behaviour change during the test.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until the condition holds: for events in another part, never for a duration. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    assert.ok(waited < 15_000, `timed out waiting for ${what}`);
    await sleep(10);
  }
}

const echoAs = (app: TestApp, token: string): Promise<Call> => call(app, 'POST', SERVICE_PATH, echoBody(), { token });

/** Posts to the echo service without the one-call log bookkeeping of call() (for calls that overlap). */
const postEcho = async (app: TestApp, token: string): Promise<Response> => {
  sentTokens.push(token);
  return await app.request.post(SERVICE_PATH).set('Authorization', `Bearer ${token}`).send(echoBody()).timeout(20_000);
};

void describe('JWKS URLs: rotation, slow, down, redirect', () => {
  const ROTATING_ISS = 'https://rotating-ehr.test';
  const SLOW_ISS = 'https://slow-ehr.test';
  const DOWN_ISS = 'https://down-ehr.test';
  const REDIRECT_ISS = 'https://redirect-ehr.test';
  const COOLDOWN_MS = 1000;
  let app: TestApp;
  let inline: SigningKey;
  let oldKey: SigningKey;
  let newKey: SigningKey;
  let rotating: JwksServer;
  let slow: JwksServer;
  let down: JwksServer;
  let redirecting: JwksServer;
  let target: JwksServer;
  const servers = (): JwksServer[] => [rotating, slow, down, redirecting, target];
  const mintFor = (iss: string, key: SigningKey): Promise<string> => signJwt(key, { iss, aud: SERVICE_URL });

  before(async () => {
    [inline, oldKey, newKey] = await Promise.all([makeKey('ES384'), makeKey('ES384'), makeKey('ES384')]);
    [rotating, slow, down, redirecting, target] = await Promise.all([
      serveJwks(jwksOf(oldKey)),
      serveJwks(jwksOf(oldKey)),
      serveJwks(jwksOf(oldKey)),
      serveJwks(jwksOf(oldKey)),
      serveJwks(jwksOf(oldKey)),
    ]);
    redirecting.behaviour = { kind: 'redirect', location: target.url };
    app = startTestApp({
      config: {
        auth: {
          jwksTimeoutMs: 500,
          jwksCooldownMs: COOLDOWN_MS,
          clients: [
            { iss: CLIENT_ISS, jwks: jwksOf(inline) },
            { iss: ROTATING_ISS, jwksUrl: rotating.url },
            { iss: SLOW_ISS, jwksUrl: slow.url },
            { iss: DOWN_ISS, jwksUrl: down.url },
            { iss: REDIRECT_ISS, jwksUrl: redirecting.url },
          ],
        },
      },
    });
  });
  after(async () => {
    app.close();
    await Promise.all(servers().map((s) => s.close()));
  });

  void it('a token with the new kid after a key rotation triggers one refetch and is accepted; the retired key is then refused', async () => {
    assertAccepted(await echoAs(app, await mintFor(ROTATING_ISS, oldKey)), ROTATING_ISS);
    assert.equal(rotating.requests.length, 1);
    rotating.jwks = jwksOf(newKey);
    await sleep(COOLDOWN_MS + 100); // past jwksCooldownMs (jose's default is 30 s: the new kid would wait that long)
    assertAccepted(await echoAs(app, await mintFor(ROTATING_ISS, newKey)), ROTATING_ISS);
    assert.equal(rotating.requests.length, 2, 'exactly one refetch for the new kid');
    const retired = await echoAs(app, await mintFor(ROTATING_ISS, oldKey));
    assertRefused(retired, 'invalid-token');
    assert.equal(retired.log.authDetail, 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(rotating.requests.length, 2, 'no refetch inside the cooldown');
  });

  void it('a slow JWKS URL: 401 once jwksTimeoutMs has passed, and the service answers others meanwhile', async () => {
    slow.behaviour = { kind: 'slow', delayMs: 30_000 };
    const waiting = postEcho(app, await mintFor(SLOW_ISS, oldKey));
    await until(() => slow.requests.length === 1, 'the JWKS fetch');
    // While that fetch hangs, other clients are served.
    const other = await postEcho(app, await mintFor(CLIENT_ISS, inline));
    assert.equal(other.status, 200);
    const res = await waiting;
    assert.equal(res.status, 401);
    assert.deepEqual(JSON.parse(res.text), UNAUTHORIZED_BODY);
    await until(() => requestLines(app).some((l) => l.authDetail === 'ERR_JWKS_TIMEOUT'), 'the log line');
    slow.behaviour = { kind: 'serve' };
    assertAccepted(await echoAs(app, await mintFor(SLOW_ISS, oldKey)), SLOW_ISS);
  });

  void it('a JWKS URL that is down: 401 with the reason in the log, accepted again once it is back', async () => {
    await down.stop();
    const refused = await echoAs(app, await mintFor(DOWN_ISS, oldKey));
    assertRefused(refused, 'invalid-token');
    assert.match(String(refused.log.authDetail), /ECONNREFUSED/);
    await down.start();
    assertAccepted(await echoAs(app, await mintFor(DOWN_ISS, oldKey)), DOWN_ISS);
    assert.equal(down.requests.length, 1, 'the server saw only the fetch made after it came back');
  });

  void it('a JWKS URL that redirects is not followed: 401, and the redirect target is never asked', async () => {
    const refused = await echoAs(app, await mintFor(REDIRECT_ISS, oldKey));
    assertRefused(refused, 'invalid-token');
    assert.match(String(refused.log.authDetail), /Expected 200 OK/);
    assert.ok(redirecting.requests.length >= 1);
    assert.deepEqual(target.requests, []);
  });
});

void describe('JWKS URL: a burst of unknown kids costs at most one fetch per jwksCooldownMs', () => {
  const BURST_ISS = 'https://burst-ehr.test';
  let app: TestApp;
  let known: SigningKey;
  let stranger: SigningKey;
  let server: JwksServer;

  before(async () => {
    [known, stranger] = await Promise.all([makeKey('ES384'), makeKey('ES384')]);
    server = await serveJwks(jwksOf(known));
    app = startTestApp({ config: { auth: { jwksCooldownMs: 600_000, clients: [{ iss: BURST_ISS, jwksUrl: server.url }] } } });
  });
  after(async () => {
    app.close();
    await server.close();
  });

  void it('60 tokens with made-up kids (40 at once, then 20 one by one): one fetch in all; the known key still works', async () => {
    const unknownKid = (): Promise<string> => signJwt(stranger, { iss: BURST_ISS, aud: SERVICE_URL, kid: `made-up-${randomUUID()}` });
    const linesBefore = requestLines(app).length;
    const burst = await Promise.all(Array.from({ length: 40 }, async () => postEcho(app, await unknownKid())));
    for (let i = 0; i < 20; i++) burst.push(await postEcho(app, await unknownKid()));
    assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([401]));
    await until(() => requestLines(app).length >= linesBefore + 60, 'the log lines');
    const details = new Set(requestLines(app).slice(linesBefore).map((l) => `${String(l.authFailure)} ${String(l.authDetail)}`));
    assert.deepEqual(details, new Set(['invalid-token ERR_JWKS_NO_MATCHING_KEY']));
    assert.equal(server.requests.length, 1, 'the first fetch, then none within the cooldown');
    assertAccepted(await echoAs(app, await signJwt(known, { iss: BURST_ISS, aud: SERVICE_URL })), BURST_ISS);
    assert.equal(server.requests.length, 1);
  });
});

// ---------------------------------------------------------------------------------------------------
// The replay cache is in the store: bounded per client, and a bound is a refusal, never forgetting.

void describe('replay cache flooded: refuses new tokens at replayCacheSize, never forgets an unexpired jti', () => {
  const OTHER_ISS = 'https://other-ehr.test';
  const LIMIT = 25;
  let app: TestApp;
  let key: SigningKey;
  let otherKey: SigningKey;
  let offsetSeconds = 0;
  const base = Math.floor(Date.now() / 1000) * 1000;
  const appSeconds = (): number => Math.floor((base + offsetSeconds * 1000) / 1000);

  before(async () => {
    [key, otherKey] = await Promise.all([makeKey('ES384'), makeKey('ES384')]);
    app = startTestApp({
      clock: () => new Date(base + offsetSeconds * 1000),
      config: { auth: { replayCacheSize: LIMIT, clockToleranceSeconds: 5, clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }, { iss: OTHER_ISS, jwks: jwksOf(otherKey) }] } },
    });
  });
  after(() => app.close());

  const tokenAt = (signer: SigningKey, iss: string): Promise<string> => signJwt(signer, { iss, aud: SERVICE_URL, iat: appSeconds(), exp: appSeconds() + 60 });

  void it('fills to the limit, refuses the next token (replay-cache-full), still refuses replays of the first, and takes tokens again once they expire', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const token = await tokenAt(key, CLIENT_ISS);
      assertAccepted(await echoAs(app, token), CLIENT_ISS);
      accepted.push(token);
    }
    assertRefused(await echoAs(app, await tokenAt(key, CLIENT_ISS)), 'replay-cache-full');
    // An in-memory LRU of this size would have evicted the first jti to make room; the store refuses instead.
    assertRefused(await echoAs(app, accepted[0] as string), 'replayed-jti');
    assertRefused(await echoAs(app, accepted[LIMIT - 1] as string), 'replayed-jti');
    // The bound is per client: another client is not locked out.
    assertAccepted(await echoAs(app, await tokenAt(otherKey, OTHER_ISS)), OTHER_ISS);

    // 70 s on (past exp + tolerance of every token so far): their ids expire, new tokens are taken again.
    offsetSeconds += 70;
    assertAccepted(await echoAs(app, await tokenAt(key, CLIENT_ISS)), CLIENT_ISS);
    const ids = new Database(issuedCardsPath(app.sqlitePath), { readonly: true });
    try {
      const count = ids.prepare('SELECT COUNT(*) FROM token_id WHERE issuer = ?').pluck().get(CLIENT_ISS);
      assert.equal(count, 1, 'the expired ids were deleted, the new one kept');
    } finally {
      ids.close();
    }
  });
});

void describe('auth.disabled: true', () => {
  let app: TestApp;
  before(() => {
    app = startTestApp({ config: { auth: { disabled: true } } });
  });
  after(() => app.close());

  void it('lets a service call through without a token', async () => {
    const { res, log } = await call(app, 'POST', SERVICE_PATH, echoBody());
    assert.equal(res.status, 200, res.text);
    assert.equal(log.authFailure, undefined);
    assert.equal(log.clientIss, undefined);
  });

  void it('lets discovery through without a token', async () => {
    const { res } = await call(app, 'GET', DISCOVERY_PATH, undefined);
    assert.equal(res.status, 200, res.text);
  });
});

void describe('auth configuration', () => {
  const ES384_JWKS = { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y', kid: 'k1' }] };

  void it('refuses a client with no key source', () => {
    assert.throws(
      () => configFrom({ auth: { clients: [{ iss: CLIENT_ISS }] } }),
      (error: unknown) => error instanceof ConfigError && /auth\.clients\[0\]/.test(error.message) && /jwks/.test(error.message),
    );
  });

  void it('refuses an HMAC algorithm', () => {
    for (const alg of ['HS256', 'HS384', 'HS512', 'none']) {
      assert.throws(
        () => configFrom({ auth: { clients: [{ iss: CLIENT_ISS, jwks: ES384_JWKS, algorithms: ['ES384', alg] }] } }),
        (error: unknown) => error instanceof ConfigError && /auth\.clients\[0\]\.algorithms\[1\]/.test(error.message),
        alg,
      );
    }
  });

  void it('accepts the same client with a key source and asymmetric algorithms (control)', () => {
    const config = configFrom({ auth: { clients: [{ iss: CLIENT_ISS, jwks: ES384_JWKS, algorithms: ['ES384', 'RS384'] }] } });
    assert.deepEqual(config.auth.clients[0]?.algorithms, ['ES384', 'RS384']);
  });
});
