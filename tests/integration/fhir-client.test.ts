// The FHIR client's defences against slow, failing and hostile servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Observation } from 'fhir/r4.js';
import { FhirClientFactory, FhirRequestError } from '../../src/fhir/client.js';
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

const factoryFor = (baseUrls: string[], maxPages = 5, timeoutMs = 400): FhirClientFactory =>
  new FhirClientFactory({ servers: baseUrls.map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })), timeoutMs, maxPages });

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
});
