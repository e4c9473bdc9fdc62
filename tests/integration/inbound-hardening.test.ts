// Hostile inbound HTTP against the real app: slow clients on a real listener (raw TCP sockets),
// bodies JSON.parse would accept but the service must refuse (deep nesting, prototype keys,
// duplicate keys), odd service ids, wrong methods, and forwarded headers.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHttpServer } from '../../src/http-server.js';
import { CLIENT_ISS, patientView, PUBLIC_BASE, startEngineApp, startTestApp, type TestApp } from '../helpers/cds-app.js';
import { jwksOf, makeKey, signJwt, type SigningKey } from '../helpers/jwt.js';

const patient = { resourceType: 'Patient', id: 'p1' };
const validBody = (): Record<string, unknown> => patientView({ prefetch: { patient } });
/** A long bound that turns a connection the server never cuts into a failure, not a hang. */
const NEVER_CUT_MS = 20_000;

interface SlowClient {
  /** Everything the server sent. */
  received(): string;
  /** Resolves when the server has closed the connection; rejects after NEVER_CUT_MS of trickling. */
  closed: Promise<void>;
}

/** Opens a raw connection, sends `head` at once, then `trickle` one byte every 50 ms until the server closes it. */
function slowClient(port: number, head: string, trickle: string): SlowClient {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined); // writes racing the server's close fail with EPIPE/ECONNRESET
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('close', () => resolve());
    void (async () => {
      socket.write(head);
      const until = Date.now() + NEVER_CUT_MS;
      for (let i = 0; !socket.destroyed && Date.now() < until; i++) {
        socket.write(trickle[i % trickle.length] as string);
        await sleep(50);
      }
      if (!socket.destroyed) {
        socket.destroy();
        reject(new Error(`the server kept a slow connection open for ${NEVER_CUT_MS} ms`));
      }
    })();
  });
  return { received: () => text, closed };
}

describe('slow clients (slow-loris) on the real listener', () => {
  let t: TestApp;
  let server: Server;
  let port: number;

  before(async () => {
    t = await startEngineApp('development', {
      config: { server: { publicBaseUrl: PUBLIC_BASE, headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 1_000 } },
    });
    // The listener `serve` uses, with the limits from the real configuration loader.
    server = await startHttpServer(t.app.express, { ...t.config.server, host: '127.0.0.1', port: 0 });
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    t.close();
  });

  /** A normal hook call made while a slow client is connected: it must be served. */
  async function normalCall(): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/cds-services/test-echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validBody()),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { cards: unknown[] }).cards.length, 1);
  }

  it('headers sent a byte at a time: 408 and closed, while a normal call is served', async () => {
    const slow = slowClient(port, 'POST /cds-services/test-echo HTTP/1.1\r\nHost: cds.test\r\n', 'X-Padding: aaaaaaaaaaaaaaaa\r\n');
    await normalCall();
    await slow.closed;
    assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  });

  it('a body sent a byte at a time: 408 and closed, while a normal call is served', async () => {
    const body = JSON.stringify(validBody());
    const head = `POST /cds-services/test-echo HTTP/1.1\r\nHost: cds.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length * 100}\r\n\r\n`;
    const slow = slowClient(port, head, body);
    await normalCall();
    await slow.closed;
    assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  });

  it('an idle keep-alive connection is closed after its answer, with the configured keep-alive timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: cds.test\r\nConnection: keep-alive\r\n\r\n');
    const cut = await Promise.race([closed.then(() => true), sleep(NEVER_CUT_MS).then(() => false)]);
    socket.destroy();
    assert.ok(cut, 'the idle connection was never closed');
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /Keep-Alive: timeout=1\r\n/, 'the configured 1 s, not the 5 s default');
  });
});

describe('bodies JSON.parse accepts but the service refuses', () => {
  let t: TestApp;
  before(async () => (t = await startEngineApp('development')));
  after(() => t.close());

  /** Posts raw JSON text. */
  const postText = (path: string, text: string): ReturnType<TestApp['request']['post']> =>
    t.request.post(path).set('Content-Type', 'application/json').send(text);

  async function refused(path: string, text: string, diagnostics: RegExp): Promise<void> {
    const res = await postText(path, text).expect(400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics as string, diagnostics);
  }

  /** A valid hook request with `insert` placed in context, prefetch.patient or extension. */
  const hookWith = (where: 'context' | 'prefetch' | 'extension', insert: string): string => {
    const text = JSON.stringify({ ...validBody(), extension: { 'org.example.x': 1 } });
    const at = { context: '"context":{', prefetch: '"patient":{', extension: '"extension":{' }[where];
    assert.ok(text.includes(at));
    return text.replace(at, `${at}${insert},`);
  };
  const feedbackWith = (insert: string): string =>
    `{"feedback":[{${insert},"card":"${crypto.randomUUID()}","outcome":"accepted","outcomeTimestamp":"2026-11-26T10:00:00Z"}]}`;

  it('a control: the same bodies without the hostile part are served', async () => {
    await postText('/cds-services/test-echo', hookWith('context', '"ok":1')).expect(200);
    await postText('/cds-services/test-echo', hookWith('prefetch', '"ok":1')).expect(200);
    await postText('/cds-services/test-echo', hookWith('extension', '"ok":{"a":[1]}')).expect(200);
    await postText('/cds-services/test-echo/feedback', feedbackWith('"ok":1')).expect(200);
  });

  it('nesting 100,000 levels deep (arrays and objects) is 400, and the service keeps serving', async () => {
    const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deepObject = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    await refused('/cds-services/test-echo', hookWith('extension', `"deep":${deepArray}`), /nested deeper than 100 levels/);
    await refused('/cds-services/test-echo', hookWith('context', `"deep":${deepObject}`), /nested deeper than 100 levels/);
    await refused('/cds-services/test-echo/feedback', deepArray, /nested deeper/);
    await t.request.post('/cds-services/test-echo').send(validBody()).expect(200);
  });

  it('nesting up to the configured depth is accepted', async () => {
    const nested = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    // With the request object and its extension object, 98 more levels make the default limit of 100.
    await postText('/cds-services/test-echo', hookWith('extension', `"deep":${nested(98)}`)).expect(200);
    await refused('/cds-services/test-echo', hookWith('extension', `"deep":${nested(99)}`), /nested deeper than 100 levels/);
  });

  for (const key of ['__proto__', 'constructor', '\\u005f_proto__']) {
    it(`a "${key}" key in context, prefetch, extension or feedback is 400 and pollutes nothing`, async () => {
      const hostile = `"${key}":{"polluted":1,"prototype":{"polluted":1}}`;
      for (const where of ['context', 'prefetch', 'extension'] as const) {
        await refused('/cds-services/test-echo', hookWith(where, hostile), /key "(__proto__|constructor)" is not allowed/);
      }
      await refused('/cds-services/test-echo/feedback', feedbackWith(hostile), /is not allowed/);
      // The test runs in the server's process: this is the server's Object.prototype.
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('a key repeated in one object is 400 (not last-wins), at any depth', async () => {
    await refused('/cds-services/test-echo', `{"hook":"patient-view",${JSON.stringify(validBody()).slice(1)}`, /"hook" appears twice/);
    await refused('/cds-services/test-echo', hookWith('prefetch', '"id":"p2"'), /"id" appears twice/);
    await refused('/cds-services/test-echo', hookWith('context', '"\\u0070atientId":"p2"'), /"patientId" appears twice/);
    await refused('/cds-services/test-echo/feedback', feedbackWith('"outcome":"overridden"'), /"outcome" appears twice/);
  });

  it('a body in another charset than UTF-8 is 415', async () => {
    const res = await t.request
      .post('/cds-services/test-echo')
      .set('Content-Type', 'application/json; charset=utf-16le')
      .send(Buffer.from(JSON.stringify(validBody()), 'utf16le'))
      .expect(415);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });
});

describe('service ids and methods', () => {
  let t: TestApp;
  before(async () => (t = await startEngineApp('development')));
  after(() => t.close());

  it('an over-long id is 404 with an OperationOutcome that does not echo it', async () => {
    const id = 'a'.repeat(10_000);
    for (const path of [`/cds-services/${id}`, `/cds-services/${id}/feedback`]) {
      const res = await t.request.post(path).send(validBody()).expect(404);
      assert.equal(res.body.issue[0].code, 'not-found');
      assert.ok(res.text.length < 500, 'the id is not echoed');
    }
  });

  it('percent-encoded ids are 404 (even one that decodes to a service), malformed encoding 400; never 500', async () => {
    for (const id of ['test%2Decho', '%2e%2e', '%00', 'test-echo%00', '%2F']) {
      for (const path of [`/cds-services/${id}`, `/cds-services/${id}/feedback`]) {
        const res = await t.request.post(path).send(validBody());
        assert.equal(res.status, 404, `${path}: ${res.text}`);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.doesNotMatch(res.text, /\\u0000/);
      }
    }
    for (const path of ['/cds-services/%E0%A4%A', '/cds-services/%E0%A4%A/feedback']) {
      const res = await t.request.post(path).send(validBody()).expect(400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.doesNotMatch(res.text, /E0%A4/);
    }
    await t.request.post('/cds-services/test-echo').send(validBody()).expect(200);
  });

  it('wrong methods are 405 with Allow, for known and unknown ids alike', async () => {
    const cases: [string, 'get' | 'put' | 'delete' | 'patch' | 'post', string][] = [
      ['/cds-services/test-echo', 'put', 'POST'],
      ['/cds-services/test-echo', 'delete', 'POST'],
      ['/cds-services/test-echo', 'patch', 'POST'],
      ['/cds-services/test-echo', 'get', 'POST'],
      ['/cds-services/no-such-service', 'put', 'POST'],
      ['/cds-services/test-echo/feedback', 'get', 'POST'],
      ['/cds-services/test-echo/feedback', 'delete', 'POST'],
      ['/cds-services', 'post', 'GET, HEAD'],
    ];
    for (const [path, method, allow] of cases) {
      const res = await t.request[method](path).expect(405);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.equal(res.body.issue[0].code, 'not-supported');
    }
  });
});

describe('forwarded headers and the JWT audience', () => {
  let key: SigningKey;
  before(async () => (key = await makeKey('ES384')));

  const HOST = 'cds.internal:8443';
  const PATH = '/cds-services/test-echo';
  const appWith = (server: Record<string, unknown>): TestApp =>
    startTestApp({ config: { server, auth: { clients: [{ iss: CLIENT_ISS, jwks: jwksOf(key) }] } } });

  async function status(t: TestApp, aud: string, forwarded: Record<string, string>): Promise<number> {
    const token = await signJwt(key, { iss: CLIENT_ISS, aud });
    const res = await t.request.post(PATH).set('Authorization', `Bearer ${token}`).set('Host', HOST).set(forwarded).send(validBody());
    return res.status;
  }
  const FORWARDED = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'proxy.example' };

  it('without trustProxy, X-Forwarded-* are ignored: aud comes from Host', async () => {
    const t = appWith({});
    try {
      assert.equal(await status(t, `http://${HOST}${PATH}`, FORWARDED), 200);
      assert.equal(await status(t, `https://proxy.example${PATH}`, FORWARDED), 401);
    } finally {
      t.close();
    }
  });

  it('with trustProxy (and no publicBaseUrl), aud follows X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const t = appWith({ trustProxy: 'loopback' });
    try {
      assert.equal(await status(t, `https://proxy.example${PATH}`, FORWARDED), 200);
      assert.equal(await status(t, `http://${HOST}${PATH}`, FORWARDED), 401);
    } finally {
      t.close();
    }
  });

  it('with publicBaseUrl, no header changes aud, trustProxy or not', async () => {
    const t = appWith({ publicBaseUrl: PUBLIC_BASE, trustProxy: 'loopback' });
    try {
      assert.equal(await status(t, `${PUBLIC_BASE}${PATH}`, FORWARDED), 200);
      assert.equal(await status(t, `https://proxy.example${PATH}`, FORWARDED), 401);
      assert.equal(await status(t, `http://${HOST}${PATH}`, {}), 401);
    } finally {
      t.close();
    }
  });
});
