// The FHIR client's defences against slow, failing and hostile servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Observation } from 'fhir/r4.js';
import { FhirClientFactory, FhirRequestError } from '../../src/fhir/client.js';
import { gatherChart } from '../../src/fhir/record-queries.js';
import { startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { fhirJson, startFaultServer, type FaultServer } from '../helpers/fault-server.js';

const TOKEN = 'token-that-must-not-leak-3f9';
const observations: Observation[] = [1, 2, 3, 4, 5].map((n) => ({
  resourceType: 'Observation',
  id: `o${n}`,
  status: 'final',
  code: { text: 'weight' },
  subject: { reference: 'Patient/p1' },
}));

let fhir: DevFhirServer;
let silent: FaultServer;
let failing: FaultServer;
let garbage: FaultServer;
let elsewhere: FaultServer;
let redirector: FaultServer;

const factoryFor = (baseUrls: string[], maxPages = 5, timeoutMs = 400, maxResponseBytes?: number): FhirClientFactory =>
  new FhirClientFactory({ servers: baseUrls.map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })), timeoutMs, maxPages, maxResponseBytes });

/** A searchset page of `count` Observations (about 130 bytes each). */
const searchset = (count: number, next?: string): object => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: Array.from({ length: count }, (_, i) => ({ resource: { ...observations[0], id: `big${i}` } })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});

async function failure(promise: Promise<unknown>): Promise<FhirRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FhirRequestError, `expected FhirRequestError, got ${String(error)}`);
    assert.ok(!error.message.includes(TOKEN) && !error.message.includes('p1'), 'error message carries no token or patient id');
    return error;
  }
  assert.fail('expected a failure');
}

before(async () => {
  fhir = await startDevFhirServer({ resources: observations });
  silent = await startFaultServer(() => undefined);
  failing = await startFaultServer((_req, res) => fhirJson(res, 500, { resourceType: 'OperationOutcome', issue: [] }));
  garbage = await startFaultServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>'));
  elsewhere = await startFaultServer((_req, res) => fhirJson(res, 200, { resourceType: 'Bundle', type: 'searchset', entry: [] }));
  redirector = await startFaultServer((_req, res) =>
    fhirJson(res, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: observations[0] }],
      link: [{ relation: 'next', url: `${elsewhere.baseUrl}/Observation?page=2` }],
    }),
  );
});

after(async () => {
  await Promise.all([fhir, silent, failing, garbage, elsewhere, redirector].map((s) => s.close()));
});

describe('FHIR client', () => {
  it('refuses a server outside the allow-list before any I/O', () => {
    const factory = factoryFor([fhir.baseUrl]);
    assert.equal(factory.allows(elsewhere.baseUrl), false);
    assert.throws(() => factory.forServer(elsewhere.baseUrl, TOKEN), (e: unknown) => e instanceof FhirRequestError && e.kind === 'not-allowed');
    assert.equal(elsewhere.requests.length, 0);
  });

  it('matches the allow-list on scheme, host, port and path, ignoring a trailing slash', () => {
    const factory = new FhirClientFactory({ servers: [{ baseUrl: 'https://fhir.example.org/r4/', allowInsecureHttp: false }], timeoutMs: 1000, maxPages: 1 });
    assert.equal(factory.allows('https://fhir.example.org/r4'), true);
    assert.equal(factory.allows('https://FHIR.example.org/r4/'), true);
    assert.equal(factory.allows('http://fhir.example.org/r4'), false);
    assert.equal(factory.allows('https://fhir.example.org:8443/r4'), false);
    assert.equal(factory.allows('https://fhir.example.org/r4/other'), false);
    assert.equal(factory.allows('https://user:pw@fhir.example.org/r4'), false);
    assert.equal(factory.allows('https://fhir.example.org.evil.test/r4'), false);
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    const error = await failure(factoryFor([silent.baseUrl]).forServer(silent.baseUrl, TOKEN).get('Patient/p1'));
    assert.equal(error.kind, 'timeout');
    assert.ok(Date.now() - started < 5000, 'bounded by the timeout');
  });

  it('reports an HTTP error status, a non-JSON answer, and an unreachable server as typed errors', async () => {
    const http = await failure(factoryFor([failing.baseUrl]).forServer(failing.baseUrl, TOKEN).get('Patient/p1'));
    assert.deepEqual([http.kind, http.status], ['http', 500]);
    const html = await failure(factoryFor([garbage.baseUrl]).forServer(garbage.baseUrl, TOKEN).get('Patient/p1'));
    assert.equal(html.kind, 'invalid-response');
    const down = await startFaultServer(() => undefined);
    await down.close();
    const network = await failure(factoryFor([down.baseUrl]).forServer(down.baseUrl, TOKEN).get('Patient/p1'));
    assert.equal(network.kind, 'network');
  });

  it('sends the bearer token to the allow-listed server', async () => {
    await failure(factoryFor([failing.baseUrl]).forServer(failing.baseUrl, TOKEN).get('Patient/p1'));
    assert.equal(failing.requests.at(-1)?.authorization, `Bearer ${TOKEN}`);
  });

  it('never follows a next link to another server', async () => {
    const error = await failure(factoryFor([redirector.baseUrl]).forServer(redirector.baseUrl, TOKEN).get('Observation?patient=p1'));
    assert.equal(error.kind, 'invalid-response');
    assert.equal(elsewhere.requests.length, 0, 'the other server saw nothing (and no token)');
  });

  it('refuses absolute and scheme-relative URLs', async () => {
    const client = factoryFor([fhir.baseUrl]).forServer(fhir.baseUrl, TOKEN);
    assert.equal((await failure(client.get(`${elsewhere.baseUrl}/Patient/p1`))).kind, 'not-allowed');
    assert.equal((await failure(client.get('//127.0.0.1/Patient/p1'))).kind, 'not-allowed');
    assert.equal(elsewhere.requests.length, 0);
  });

  it('follows next links up to the page cap and merges the entries', async () => {
    const all = await factoryFor([fhir.baseUrl], 5).forServer(fhir.baseUrl).get('Observation?patient=p1&_count=2');
    assert.equal(all.resourceType === 'Bundle' && all.entry?.length, 5);
    const capped = await factoryFor([fhir.baseUrl], 2).forServer(fhir.baseUrl).get('Observation?patient=p1&_count=2');
    assert.equal(capped.resourceType === 'Bundle' && capped.entry?.length, 4);
  });

  it('refuses an answer bigger than fhir.maxResponseBytes from the real server as too-large, and reads it under a larger cap', async () => {
    const small = await failure(factoryFor([fhir.baseUrl], 5, 5000, 1024).forServer(fhir.baseUrl, TOKEN).get('Observation?patient=p1'));
    assert.equal(small.kind, 'too-large');
    const all = await factoryFor([fhir.baseUrl], 5, 5000, 64 * 1024).forServer(fhir.baseUrl, TOKEN).get('Observation?patient=p1');
    assert.equal(all.resourceType === 'Bundle' && all.entry?.length, 5);
  });

  it('stops an endless answer without Content-Length at the byte cap and closes the connection', async () => {
    let closed = false;
    // FAULT: a 200 whose body never ends.
    const endless = await startFaultServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      res.write('{"resourceType":"Bundle","type":"searchset","entry":[');
      const timer = setInterval(() => res.write(`${JSON.stringify({ resource: observations[0] })},`), 1);
      res.on('close', () => {
        clearInterval(timer);
        closed = true;
      });
    });
    try {
      const error = await failure(factoryFor([endless.baseUrl], 5, 30_000, 64 * 1024).forServer(endless.baseUrl, TOKEN).get('Observation?patient=p1'));
      assert.equal(error.kind, 'too-large');
      for (let i = 0; i < 200 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(closed, true, 'the client closed the connection');
    } finally {
      await endless.close();
    }
  });

  it('does not follow a redirect, to another origin or its own, and sends nothing to the target', async () => {
    for (const [status, location] of [
      [302, `${elsewhere.baseUrl}/Patient/p1`],
      [307, `${elsewhere.baseUrl}/Patient/p1`],
      [301, '/fhir/Patient/other'],
    ] as const) {
      // FAULT: a server that redirects.
      const redirecting = await startFaultServer((_req, res) => res.writeHead(status, { Location: location }).end());
      try {
        const error = await failure(factoryFor([redirecting.baseUrl]).forServer(redirecting.baseUrl, TOKEN).get('Patient/p1'));
        assert.deepEqual([error.kind, error.status], ['http', status]);
        assert.equal(redirecting.requests.length, 1, 'the redirect target on the same server was not requested either');
      } finally {
        await redirecting.close();
      }
    }
    assert.equal(elsewhere.requests.length, 0, 'the other origin saw nothing (and no token)');
  });

  it('reports 429 and 503 as unavailable with the status, after one request (no retry inside the deadline)', async () => {
    for (const status of [429, 503]) {
      // FAULT: a FHIR server that is throttling or down for maintenance.
      const busy = await startFaultServer((_req, res) => res.writeHead(status, { 'Retry-After': '30', 'Content-Type': 'application/fhir+json' }).end('{}'));
      try {
        const error = await failure(factoryFor([busy.baseUrl]).forServer(busy.baseUrl, TOKEN).get('Observation?patient=p1'));
        assert.deepEqual([error.kind, error.status], ['unavailable', status]);
        assert.equal(busy.requests.length, 1);
      } finally {
        await busy.close();
      }
    }
  });

  it('fails the whole search when a later page fails, and the chart reports it unavailable instead of cut short', async () => {
    // FAULT: page 1 of the Observation search is fine; page 2 answers 503. Every other chart query answers normally.
    const paging = await startFaultServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.endsWith('/Patient/p1')) return fhirJson(res, 200, { resourceType: 'Patient', id: 'p1' });
      if (!url.pathname.endsWith('/Observation')) return fhirJson(res, 200, searchset(0));
      if (url.searchParams.get('page') === '2') return fhirJson(res, 503, { resourceType: 'OperationOutcome', issue: [] });
      return fhirJson(res, 200, searchset(3, `${paging.baseUrl}/Observation?patient=p1&page=2`));
    });
    try {
      const client = factoryFor([paging.baseUrl]).forServer(paging.baseUrl, TOKEN);
      const error = await failure(client.get('Observation?patient=p1'));
      assert.deepEqual([error.kind, error.status], ['unavailable', 503]);
      const chart = await gatherChart({ patientId: 'p1', fhir: client });
      assert.deepEqual(chart.unavailable, ['observations'], 'the assessment turns this into chart-unavailable');
      assert.equal(chart.resources.observations.length, 0, 'page 1 alone is not passed on as the chart');
      assert.equal(chart.resources.patient?.id, 'p1');
    } finally {
      await paging.close();
    }
  });

  it('refuses a relative URL that climbs out of the base path, before any I/O', async () => {
    const client = factoryFor([failing.baseUrl]).forServer(failing.baseUrl, TOKEN);
    const before = failing.requests.length;
    for (const url of ['../admin', 'Patient/../../admin', '%2e%2e/admin']) assert.equal((await failure(client.get(url))).kind, 'not-allowed', url);
    assert.equal(failing.requests.length, before);
  });
});
