// URLs from outside — a hook's `fhirServer`, an ImagingStudy's Endpoint.address, a JWT's `jku` — against
// the allow-lists. Each unusual spelling of an allow-listed server (numeric, hex, octal or trailing-dot
// IPv4, IPv6, user info, dot segments, backslashes) is refused with the right typed error and never
// connected to: the servers behind the allow-listed URLs are real listening servers that would answer
// (the dev FHIR server, a DICOMweb and a JWKS endpoint that count connections), so a refusal that let
// the request through would show. Decision (src/net/allow-list.ts): only RFC 3986 equivalences (case,
// default port, trailing slash) count as the same URL; spellings the WHATWG parser rewrites are refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Observation } from 'fhir/r4.js';
import type { DicomwebEndpointEntry } from '../../src/config.js';
import { startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { FhirClientFactory, FhirRequestError } from '../../src/fhir/client.js';
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { ImagingError } from '../../src/imaging/errors.js';
import { selectCandidateSeries } from '../../src/imaging/study-selection.js';
import { CLIENT_ISS, PUBLIC_BASE, patientView, startTestApp, type TestApp } from '../helpers/cds-app.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { dicomWebEndpoint, lumbarImagingStudy, lumbarSeries } from '../helpers/imaging-resources.js';
import { jwksOf, makeKey, signJwt, type SigningKey } from '../helpers/jwt.js';

/** Spellings of `origin + path` (origin `http://127.0.0.1:<port>`) that must not count as it. */
function disguises(origin: string, path: string): string[] {
  const port = new URL(origin).port;
  const last = path.split('/').at(-1) ?? '';
  return [
    `http://127.0.0.1.:${port}${path}`, // trailing dot
    `http://2130706433:${port}${path}`, // one integer
    `http://0x7f.1:${port}${path}`, // hex, shortened
    `http://0177.0.0.1:${port}${path}`, // octal
    `http://[::1]:${port}${path}`, // IPv6 loopback
    `http://[::ffff:127.0.0.1]:${port}${path}`, // IPv4-mapped IPv6
    `http://%31%32%37.0.0.1:${port}${path}`, // percent-encoded host
    `http://allowed@127.0.0.1:${port}${path}`, // user info
    `http://127.0.0.1:${port}@169.254.169.254${path}`, // the allowed origin as user info in front of another host
    `http://127.0.0.1:${port}/admin/..${path}`, // dot segments that resolve onto the allowed path
    `http://127.0.0.1:${port}${path}/../${last}`,
    `http://127.0.0.1:${port}/admin/%2e%2e${path}`,
    `http://127.0.0.1:${port}${path}/../admin`, // climbs out of it
    `http://127.0.0.1:${port}${path.replaceAll('/', '\\')}`, // backslashes
    `https://127.0.0.1:${port}${path}`, // another scheme
    `http://127.0.0.1:${Number(port) + 1}${path}`, // another port
    `http://169.254.169.254${path}`, // link-local (cloud metadata)
    ` http://127.0.0.1:${port}${path}`, // leading space
  ];
}

const observation: Observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } };

let fhir: DevFhirServer;
const fhirRequests: string[] = [];
let pacs: FaultServer;

before(async () => {
  fhir = await startDevFhirServer({ resources: [observation], onRequest: (request) => fhirRequests.push(request.url) });
  // A DICOMweb endpoint that answers every QIDO search with no matches (a valid answer) and counts connections.
  pacs = await startFaultServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]'));
});

after(async () => {
  await Promise.all([fhir.close(), pacs.close()]);
});

describe('FHIR server allow-list against disguised URLs', () => {
  const fhirPath = (): string => new URL(fhir.baseUrl).pathname;
  const factory = (): FhirClientFactory => new FhirClientFactory({ servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: true }], timeoutMs: 5000, maxPages: 2 });

  it('reads from the allow-listed server, also spelled with an upper-case scheme and a trailing slash', async () => {
    const origin = new URL(fhir.baseUrl).origin;
    for (const url of [fhir.baseUrl, `HTTP://127.0.0.1:${new URL(origin).port}${fhirPath()}/`]) {
      const found = await factory().forServer(url).get('Observation?patient=p1');
      assert.equal(found.resourceType === 'Bundle' && found.entry?.length, 1, url);
    }
  });

  it('refuses every other spelling as not-allowed, before any request reaches the server', () => {
    const before = fhirRequests.length;
    for (const url of disguises(new URL(fhir.baseUrl).origin, fhirPath())) {
      assert.equal(factory().allows(url), false, url);
      assert.throws(() => factory().forServer(url, 'token'), (e: unknown) => e instanceof FhirRequestError && e.kind === 'not-allowed', url);
    }
    assert.equal(fhirRequests.length, before, 'the real FHIR server saw no request');
  });

  it('accepts a host of any kind when that exact URL is on the allow-list, and equates case and a written default port', () => {
    const listed = ['http://169.254.169.254/fhir', 'http://[::1]:8080/fhir', 'https://fhir.example.org/r4'];
    const f = new FhirClientFactory({ servers: listed.map((baseUrl) => ({ baseUrl, allowInsecureHttp: true })), timeoutMs: 1000, maxPages: 1 });
    for (const url of [...listed, 'https://FHIR.Example.ORG:443/r4/', 'http://[::1]:8080/fhir/']) assert.equal(f.allows(url), true, url);
    for (const url of ['http://169.254.169.254./fhir', 'http://[0:0::1]:8080/fhir', 'https://fhir.example.org./r4', 'https://fhir.example.org/R4']) {
      assert.equal(f.allows(url), false, url);
    }
  });

  it('ignores an http entry that is not marked allowInsecureHttp', () => {
    const f = new FhirClientFactory({ servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: false }], timeoutMs: 1000, maxPages: 1 });
    assert.equal(f.allows(fhir.baseUrl), false);
  });
});

describe('DICOMweb endpoint allow-list against disguised Endpoint.address values', () => {
  const entry = (): DicomwebEndpointEntry => ({ baseUrl: `${pacs.origin}/dicom-web`, allowInsecureHttp: true, auth: { type: 'none' } });
  const factory = (): DicomwebClientFactory => new DicomwebClientFactory({ endpoints: [entry()], timeoutMs: 5000, env: {} });
  const STUDY = '1.2.826.0.1.3680043.8.498.1';

  it('queries the allow-listed endpoint', async () => {
    const before = pacs.connections;
    assert.deepEqual(await factory().forEndpoint(`${pacs.origin}/dicom-web/`).searchInstances(STUDY), []);
    assert.ok(pacs.connections > before, 'the endpoint was reached');
  });

  it('refuses every other spelling as endpoint-not-allowed without connecting, and study selection passes such an Endpoint over', () => {
    const before = pacs.connections;
    for (const address of disguises(pacs.origin, '/dicom-web')) {
      assert.equal(factory().allows(address), false, address);
      assert.throws(() => factory().forEndpoint(address), (e: unknown) => e instanceof ImagingError && e.code === 'endpoint-not-allowed', address);
      const study = lumbarImagingStudy({ id: 's1', patient: 'p1', studyUid: STUDY, started: new Date().toISOString(), series: [lumbarSeries(`${STUDY}.1`, 1)] });
      const selection = selectCandidateSeries({
        studies: [study],
        endpoints: [dicomWebEndpoint('pacs', address)],
        now: new Date(),
        lookbackDays: 3650,
        allowsEndpoint: (a) => factory().allows(a),
      });
      assert.deepEqual(selection.candidates, [], address);
      assert.deepEqual(
        selection.rejected.map((r) => r.code),
        ['endpoint-not-allowed'],
        address,
      );
    }
    assert.equal(pacs.connections, before, 'the endpoint saw no connection');
  });
});

describe('jku against disguised URLs (real app)', () => {
  const SERVICE_PATH = '/cds-services/test-echo';
  let key: SigningKey;
  let jwks: FaultServer;
  let redirecting: FaultServer;
  let app: TestApp;

  const call = async (jku: string): Promise<{ status: number; authFailure: unknown }> => {
    const token = await signJwt(key, { iss: CLIENT_ISS, aud: `${PUBLIC_BASE}${SERVICE_PATH}`, jku });
    const res = await app.request
      .post(SERVICE_PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(patientView({ prefetch: { patient: { resourceType: 'Patient', id: 'p1' } } }));
    for (let i = 0; i < 100 && app.logLines().filter((l) => l.msg === 'request').length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    return { status: res.status, authFailure: app.logLines().filter((l) => l.msg === 'request').at(-1)?.authFailure };
  };

  before(async () => {
    key = await makeKey('ES384');
    // A JWKS endpoint serving the very key the tokens are signed with: fetching it from a disguised jku would let the token in.
    jwks = await startFaultServer((req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(jwksOf(key))));
    // FAULT: an allow-listed jku URL that redirects to the JWKS endpoint.
    redirecting = await startFaultServer((_req, res) => res.writeHead(302, { Location: `${jwks.origin}/jwks.json` }).end());
    app = startTestApp({
      config: { auth: { clients: [{ iss: CLIENT_ISS, allowedJku: [`${jwks.origin}/jwks.json`, `${redirecting.origin}/jwks.json`], algorithms: ['ES384'] }] } },
    });
  });

  after(async () => {
    app.close();
    await Promise.all([jwks.close(), redirecting.close()]);
  });

  it('refuses every other spelling of the allowed jku as jku-not-allowed without fetching it', async () => {
    for (const jku of [...disguises(jwks.origin, '/jwks.json'), `HTTP://127.0.0.1:${new URL(jwks.origin).port}/jwks.json`, `${jwks.origin}/jwks.json/`]) {
      assert.deepEqual(await call(jku), { status: 401, authFailure: 'jku-not-allowed' }, jku);
    }
    assert.equal(jwks.connections, 0, 'the JWKS endpoint saw no connection');
  });

  it('does not follow a redirect from an allowed jku', async () => {
    const refused = await call(`${redirecting.origin}/jwks.json`);
    assert.equal(refused.status, 401);
    assert.equal(redirecting.requests.length, 1);
    assert.equal(jwks.connections, 0, 'the redirect target was not fetched');
  });

  it('accepts the allowed jku spelled exactly', async () => {
    assert.deepEqual(await call(`${jwks.origin}/jwks.json`), { status: 200, authFailure: undefined });
    assert.equal(jwks.requests.length, 1);
  });
});
