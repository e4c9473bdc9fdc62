// Starts the dev FHIR server on a free port and talks to it over real HTTP with global fetch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Patient, Resource } from 'fhir/r4.js';
import { startDevFhirServer } from '../../src/dev/fhir-server.js';
import type { DevFhirServer, RecordedRequest } from '../../src/dev/fhir-server.js';

const FHIR_JSON = 'application/fhir+json';

function observation(id: string, patientId: string): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '38263-9' }] },
    subject: { reference: `Patient/${patientId}` },
  };
}

const seed: Resource[] = [
  { resourceType: 'Patient', id: 'p1' } satisfies Patient,
  { resourceType: 'Patient', id: 'p2' } satisfies Patient,
  ...['o1', 'o2', 'o3', 'o4', 'o5'].map((id) => observation(id, 'p1')),
  observation('o6', 'p2'),
];

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

function ids(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((entry) => entry.resource?.id ?? '?').sort();
}

// node:test's describe/it return promises the runner tracks itself; `void` marks that for the linter.
void describe('dev FHIR server', () => {
  let server: DevFhirServer;
  const recorded: RecordedRequest[] = [];

  before(async () => {
    server = await startDevFhirServer({
      resources: seed,
      onRequest: (request) => {
        recorded.push(request);
        if (request.url.endsWith('/__throw')) throw new Error('kaboom: secret internals');
      },
    });
  });
  after(async () => {
    await server.close();
  });

  void it('listens on a free port under /fhir/R4', () => {
    assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/fhir\/R4$/);
  });

  void it('answers /metadata with a CapabilityStatement', async () => {
    const { status, body, headers } = await getJson<CapabilityStatement>(`${server.baseUrl}/metadata`);
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^application\/fhir\+json/);
    assert.equal(body.resourceType, 'CapabilityStatement');
    assert.equal(body.fhirVersion, '4.0.1');
    assert.ok(body.format.includes('json'));
    const rest = body.rest?.[0];
    assert.equal(rest?.mode, 'server');
    const used = ['Patient', 'Observation', 'Condition', 'MedicationRequest', 'MedicationStatement', 'FamilyMemberHistory',
      'ImagingStudy', 'Endpoint', 'Practitioner', 'Encounter', 'ServiceRequest', 'RiskAssessment'];
    for (const type of used) {
      const resource = rest?.resource?.find((r) => r.type === type);
      assert.ok(resource, `${type} listed`);
      const codes = resource.interaction?.map((i) => i.code) ?? [];
      for (const code of ['read', 'search-type', 'create', 'update'] as const) assert.ok(codes.includes(code), `${type} ${code}`);
    }
    const observationParams = rest?.resource?.find((r) => r.type === 'Observation')?.searchParam ?? [];
    assert.deepEqual(
      observationParams.find((p) => p.name === 'patient'),
      { name: 'patient', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient' },
    );
  });

  void it('creates with PUT and POST and reads back', async () => {
    const put = await getJson<Patient>(`${server.baseUrl}/Patient/put-1`, {
      method: 'PUT',
      headers: { 'content-type': FHIR_JSON },
      body: JSON.stringify({ resourceType: 'Patient', id: 'put-1', name: [{ family: 'Put' }] }),
    });
    assert.ok(put.status === 200 || put.status === 201, `PUT status ${put.status}`);
    assert.equal(put.body.id, 'put-1');

    const post = await getJson<Observation>(`${server.baseUrl}/Observation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(observation('ignored', 'put-1')),
    });
    assert.equal(post.status, 201);
    const newId = post.body.id ?? '';
    assert.ok(newId.length > 0);
    assert.equal(post.headers.get('location'), `${server.baseUrl}/Observation/${newId}`);

    const readPatient = await getJson<Patient>(`${server.baseUrl}/Patient/put-1`);
    assert.equal(readPatient.status, 200);
    assert.equal(readPatient.body.name?.[0]?.family, 'Put');
    const readObservation = await getJson<Observation>(`${server.baseUrl}/Observation/${newId}`);
    assert.equal(readObservation.body.subject?.reference, 'Patient/put-1');
  });

  void it('searches references by bare id and by type/id', async () => {
    const bare = await getJson<Bundle>(`${server.baseUrl}/Observation?patient=p1`);
    assert.equal(bare.body.type, 'searchset');
    assert.deepEqual(ids(bare.body), ['o1', 'o2', 'o3', 'o4', 'o5']);
    const typed = await getJson<Bundle>(`${server.baseUrl}/Observation?subject=Patient/p1`);
    assert.deepEqual(ids(typed.body), ['o1', 'o2', 'o3', 'o4', 'o5']);
    const other = await getJson<Bundle>(`${server.baseUrl}/Observation?patient=p2`);
    assert.deepEqual(ids(other.body), ['o6']);
    assert.equal(other.body.entry?.[0]?.fullUrl, `${server.baseUrl}/Observation/o6`);
  });

  void it('pages with _count and next links that point back at this server', async () => {
    let url: string | undefined = `${server.baseUrl}/Observation?patient=p1&_count=2`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      assert.ok(url.startsWith(`${server.baseUrl}/Observation?`), url);
      const { status, body }: { status: number; body: Bundle } = await getJson<Bundle>(url);
      assert.equal(status, 200);
      assert.ok((body.entry?.length ?? 0) <= 2);
      seen.push(...ids(body));
      pages += 1;
      url = body.link?.find((link) => link.relation === 'next')?.url;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['o1', 'o2', 'o3', 'o4', 'o5']);
  });

  void it('processes a transaction Bundle POSTed to the base URL', async () => {
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:5b0c3e1a-2f7d-4d7e-9a53-1f1f2f3f4f5f',
          resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { ...observation('tx-obs', 'x'), subject: { reference: 'urn:uuid:5b0c3e1a-2f7d-4d7e-9a53-1f1f2f3f4f5f' } },
          request: { method: 'PUT', url: 'Observation/tx-obs' },
        },
      ],
    };
    const { status, body } = await getJson<Bundle>(server.baseUrl, {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON },
      body: JSON.stringify(transaction),
    });
    assert.equal(status, 200);
    assert.equal(body.type, 'transaction-response');
    assert.equal(body.entry?.length, 2);
    const patientId = body.entry?.[0]?.resource?.id ?? '';
    assert.match(body.entry?.[0]?.response?.status ?? '', /^201/);
    const search = await getJson<Bundle>(`${server.baseUrl}/Observation?patient=${patientId}`);
    assert.deepEqual(ids(search.body), ['tx-obs']);
  });

  void it('answers CORS preflight and adds Access-Control-Allow-Origin', async () => {
    const preflight = await fetch(`${server.baseUrl}/Patient/p1`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['authorization', 'content-type', 'accept']) assert.ok(allowedHeaders.includes(header), header);
    const allowedMethods = preflight.headers.get('access-control-allow-methods') ?? '';
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) assert.ok(allowedMethods.includes(method), method);

    const get = await fetch(`${server.baseUrl}/Patient/p1`, { headers: { origin: 'http://localhost:5173' } });
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
    await get.body?.cancel();
  });

  void it('answers bad input with OperationOutcomes and keeps serving', async () => {
    const malformed = await getJson<OperationOutcome>(`${server.baseUrl}/Patient`, {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON },
      body: '{"resourceType": "Patient",',
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.resourceType, 'OperationOutcome');
    assert.match(malformed.headers.get('content-type') ?? '', /^application\/fhir\+json/);

    const missing = await getJson<OperationOutcome>(`${server.baseUrl}/Patient/no-such-patient`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.resourceType, 'OperationOutcome');
    const unknownRoute = await getJson<OperationOutcome>(`${server.baseUrl.replace('/fhir/R4', '')}/not-fhir`);
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.body.resourceType, 'OperationOutcome');

    const thrown = await fetch(`${server.baseUrl}/__throw`);
    assert.equal(thrown.status, 500);
    const text = await thrown.text();
    assert.equal((JSON.parse(text) as OperationOutcome).resourceType, 'OperationOutcome');
    assert.ok(!text.includes('kaboom') && !text.includes('    at '), `no internals in ${text}`);

    const stillUp = await fetch(`${server.baseUrl}/metadata`);
    assert.equal(stillUp.status, 200);
    await stillUp.body?.cancel();
  });

  void it('reports the Authorization header of every request to onRequest', async () => {
    const response = await fetch(`${server.baseUrl}/Patient/p1`, { headers: { authorization: 'Bearer test-token-123' } });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const seen = recorded.find((request) => request.authorization === 'Bearer test-token-123');
    assert.deepEqual(seen, { method: 'GET', url: '/fhir/R4/Patient/p1', authorization: 'Bearer test-token-123' });
  });
});
