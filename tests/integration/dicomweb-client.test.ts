// The DICOMweb client against a real Orthanc (QIDO-RS, WADO-RS metadata and retrieve, HTTP Basic),
// and against FAULT INJECTOR servers for what Orthanc cannot be made to do (hang, break multipart,
// answer 500, redirect, stream without end, drop the connection).
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { DicomwebEndpointEntry } from '../../src/config.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { DicomwebClientFactory, DicomwebHttpError, type DicomwebClient } from '../../src/imaging/dicomweb-client.js';
import { ImagingError, type ImagingErrorCode } from '../../src/imaging/errors.js';
import { SELECTION_FIELDS, selectInstance } from '../../src/imaging/instance-selection.js';
import { writeRadiograph, type DicomAttributes } from '../../src/synthetic/dicom-file.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';

const STUDY = '1.2.826.0.1.3680043.10.1477.7.1';
const LATERAL_SERIES = `${STUDY}.1`;
const AP_SERIES = `${STUDY}.2`;
const LATERAL_SOP = `${LATERAL_SERIES}.1`;
const AP_SOP = `${AP_SERIES}.1`;
const UNKNOWN_SOP = `${LATERAL_SERIES}.99`;
const TOKEN = 'bearer-token-that-must-not-leak-71c';
const PASSWORD = 'orthanc-password-5d2';
const TIMEOUT_MS = 400;

function radiograph(attributes: DicomAttributes): Uint8Array {
  const rows = 64;
  const columns = 48;
  const data = new Uint16Array(rows * columns).map((_, i) => (i * 37) % 4096);
  return writeRadiograph(
    { rows, columns, data, bitsStored: 12, photometric: 'MONOCHROME2' },
    { PatientID: 'SYN-0001', Modality: 'DX', BodyPartExamined: 'LSPINE', StudyInstanceUID: STUDY, ...attributes },
  );
}

const lateralFile = radiograph({ SeriesInstanceUID: LATERAL_SERIES, SOPInstanceUID: LATERAL_SOP, ViewPosition: 'LL', SeriesNumber: 1 });
const apFile = radiograph({ SeriesInstanceUID: AP_SERIES, SOPInstanceUID: AP_SOP, ViewPosition: 'AP', SeriesNumber: 2 });

let orthanc: RunningOrthanc;
let guarded: RunningOrthanc;

const entry = (baseUrl: string, auth: DicomwebEndpointEntry['auth'] = { type: 'none' }): DicomwebEndpointEntry => ({ baseUrl, allowInsecureHttp: true, auth });

function clientFor(baseUrl: string, auth?: DicomwebEndpointEntry['auth'], env: Record<string, string> = {}): DicomwebClient {
  return new DicomwebClientFactory({ endpoints: [entry(baseUrl, auth)], timeoutMs: TIMEOUT_MS, env }).forEndpoint(baseUrl);
}

/** The ImagingError a promise rejects with, after checking its message holds no UID, token or address. */
async function failure(promise: Promise<unknown>, code: ImagingErrorCode): Promise<ImagingError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ImagingError, `expected an ImagingError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const secret of [STUDY, TOKEN, PASSWORD, '127.0.0.1', 'http']) assert.ok(!error.message.includes(secret), `message leaks ${secret}: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** A DICOMweb root on a FAULT INJECTOR (its baseUrl ends with /fhir; only the origin matters). */
const dicomWebOf = (server: FaultServer): string => `${new URL(server.baseUrl).origin}/dicom-web`;

function multipart(res: ServerResponse, boundary: string, body: Buffer | string): void {
  res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` }).end(body);
}

before(async () => {
  [orthanc, guarded] = await Promise.all([startOrthanc(), startOrthanc({ users: { pacs: PASSWORD } })]);
  for (const file of [lateralFile, apFile]) {
    await orthanc.upload(file);
    await guarded.upload(file);
  }
});

after(async () => {
  await Promise.all([orthanc?.close(), guarded?.close()]);
});

describe('DICOMweb client against Orthanc', () => {
  it('finds the instances of a study and of one series with QIDO-RS', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    const all = await client.searchInstances(STUDY, undefined, { includeFields: SELECTION_FIELDS });
    assert.deepEqual(all.map((d) => d['00080018']?.Value?.[0]).sort(), [LATERAL_SOP, AP_SOP].sort());
    assert.ok(all.every((d) => d['00185101']?.Value?.length === 1), 'includefield brings ViewPosition back');
    const one = await client.searchInstances(STUDY, AP_SERIES);
    assert.deepEqual(one.map((d) => d['00080018']?.Value?.[0]), [AP_SOP]);
    assert.deepEqual(await client.searchInstances(`${STUDY}.404`), []);
  });

  it('reads series and instance metadata with WADO-RS', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    const [series] = await client.seriesMetadata(STUDY, LATERAL_SERIES);
    assert.deepEqual(series?.['00185101']?.Value, ['LL']);
    assert.deepEqual(series?.['00180015']?.Value, ['LSPINE']);
    const instance = await client.instanceMetadata(STUDY, AP_SERIES, AP_SOP);
    assert.deepEqual(instance['00280010']?.Value, [64]);
    assert.ok(instance['7FE00010']?.BulkDataURI, 'pixel data is referenced, not inlined');
  });

  it('retrieves the stored file bit for bit, as stored and as explicit little endian', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    for (const transferSyntax of ['*', '1.2.840.10008.1.2.1']) {
      const { part10, contentType } = await client.retrieveInstance(STUDY, LATERAL_SERIES, LATERAL_SOP, { transferSyntax, maxBytes: 1_000_000 });
      assert.deepEqual(part10, lateralFile, `transfer syntax ${transferSyntax}`);
      assert.match(contentType, /^application\/dicom/);
    }
  });

  it('chooses the lateral from a study holding a lateral and an AP series, and retrieves it', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    const instances = await client.searchInstances(STUDY, undefined, { includeFields: SELECTION_FIELDS });
    const lateral = selectInstance([{ instances, bodySiteConfirmed: false }], 'lateral');
    assert.ok(lateral.ok);
    assert.deepEqual([lateral.instance.seriesUid, lateral.instance.sopInstanceUid, lateral.instance.view, lateral.instance.reasons], [LATERAL_SERIES, LATERAL_SOP, 'lateral', []]);
    const ap = selectInstance([{ instances, bodySiteConfirmed: false }], 'ap');
    assert.ok(ap.ok);
    assert.equal(ap.instance.sopInstanceUid, AP_SOP);
    const { part10 } = await client.retrieveInstance(STUDY, lateral.instance.seriesUid, lateral.instance.sopInstanceUid, { transferSyntax: '*', maxBytes: 1_000_000 });
    assert.deepEqual(part10, lateralFile);
  });

  it('answers pacs-not-found for an unknown UID', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    const error = await failure(client.retrieveInstance(STUDY, LATERAL_SERIES, UNKNOWN_SOP, { transferSyntax: '*', maxBytes: 1_000_000 }), 'pacs-not-found');
    assert.ok(error instanceof DicomwebHttpError && error.status === 404);
    await failure(client.seriesMetadata(STUDY, `${STUDY}.404`), 'pacs-not-found');
  });

  it('fails too-large, without reading the body, when the answer is bigger than the cap', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    await failure(client.retrieveInstance(STUDY, LATERAL_SERIES, LATERAL_SOP, { transferSyntax: '*', maxBytes: 1000 }), 'too-large');
  });

  it('authenticates with HTTP Basic from configuration; a wrong or missing password is pacs-auth-failed', async () => {
    const basic = { type: 'basic', username: 'pacs', passwordEnv: 'PACS_PASSWORD' } as const;
    const right = clientFor(guarded.dicomWebUrl, basic, { PACS_PASSWORD: PASSWORD });
    const { part10 } = await right.retrieveInstance(STUDY, AP_SERIES, AP_SOP, { transferSyntax: '*', maxBytes: 1_000_000 });
    assert.deepEqual(part10, apFile);

    const wrong = clientFor(guarded.dicomWebUrl, basic, { PACS_PASSWORD: 'not-the-password' });
    const error = await failure(wrong.searchInstances(STUDY), 'pacs-auth-failed');
    assert.ok(error instanceof DicomwebHttpError && error.status === 401);
    await failure(clientFor(guarded.dicomWebUrl).searchInstances(STUDY), 'pacs-auth-failed');
    assert.throws(() => clientFor(guarded.dicomWebUrl, basic, {}), (e: unknown) => e instanceof ImagingError && e.code === 'pacs-auth-failed');
  });

  it('refuses UIDs that are not UIDs before building a URL', async () => {
    const client = clientFor(orthanc.dicomWebUrl);
    await assert.rejects(client.seriesMetadata(STUDY, '../../instances'), RangeError);
    await assert.rejects(client.retrieveInstance(STUDY, LATERAL_SERIES, LATERAL_SOP, { transferSyntax: '*\r\nx: y', maxBytes: 10 }), RangeError);
  });
});

describe('DICOMweb allow-list', () => {
  let outsider: FaultServer;
  before(async () => {
    outsider = await startFaultServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]'));
  });
  after(() => outsider.close());

  it('never contacts an endpoint that is not listed', () => {
    const factory = new DicomwebClientFactory({ endpoints: [entry(orthanc.dicomWebUrl)], timeoutMs: TIMEOUT_MS, env: {} });
    assert.equal(factory.allows(dicomWebOf(outsider)), false);
    assert.throws(() => factory.forEndpoint(dicomWebOf(outsider)), (e: unknown) => e instanceof ImagingError && e.code === 'endpoint-not-allowed');
    assert.equal(outsider.requests.length, 0);
  });

  it('matches exactly after normalising, and needs https unless insecure http is allowed', () => {
    const factory = new DicomwebClientFactory({
      endpoints: [
        { baseUrl: 'https://pacs.example.org/dicom-web/', allowInsecureHttp: false, auth: { type: 'none' } },
        { baseUrl: 'http://plain.example.org/dicom-web', allowInsecureHttp: false, auth: { type: 'none' } },
      ],
      timeoutMs: TIMEOUT_MS,
      env: {},
    });
    assert.equal(factory.allows('https://PACS.example.org/dicom-web'), true);
    assert.equal(factory.allows('https://pacs.example.org/dicom-web/studies'), false);
    assert.equal(factory.allows('http://pacs.example.org/dicom-web'), false);
    assert.equal(factory.allows('https://pacs.example.org:8443/dicom-web'), false);
    assert.equal(factory.allows('https://user:pw@pacs.example.org/dicom-web'), false);
    assert.equal(factory.allows('http://plain.example.org/dicom-web'), false);
  });
});

describe('DICOMweb client against a FAULT INJECTOR', () => {
  const servers: FaultServer[] = [];
  const start = async (respond: Parameters<typeof startFaultServer>[0]): Promise<{ server: FaultServer; client: DicomwebClient }> => {
    const server = await startFaultServer(respond);
    servers.push(server);
    const client = clientFor(dicomWebOf(server), { type: 'bearer', tokenEnv: 'PACS_TOKEN' }, { PACS_TOKEN: TOKEN });
    return { server, client };
  };
  const retrieve = (client: DicomwebClient, maxBytes = 1_000_000): Promise<unknown> =>
    client.retrieveInstance(STUDY, LATERAL_SERIES, LATERAL_SOP, { transferSyntax: '*', maxBytes });
  after(() => Promise.all(servers.map((s) => s.close())));

  it('sends the bearer token and keeps it out of the error on a 500', async () => {
    const { server, client } = await start((_req, res) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`internal error for ${TOKEN}`));
    const error = await failure(client.searchInstances(STUDY), 'pacs-error');
    assert.ok(error instanceof DicomwebHttpError && error.status === 500);
    assert.equal(server.requests[0]?.authorization, `Bearer ${TOKEN}`);
    assert.equal(server.requests[0]?.url, `/dicom-web/studies/${STUDY}/instances`);
  });

  it('times out a server that never answers, within the timeout', async () => {
    const { client } = await start(() => undefined);
    const started = Date.now();
    await failure(retrieve(client), 'pacs-timeout');
    assert.ok(Date.now() - started < TIMEOUT_MS + 1000, `took ${Date.now() - started} ms`);
  });

  it('times out a body that stalls half way', async () => {
    const { client } = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=b' });
      res.write('--b\r\nContent-Type: application/dicom\r\n\r\nDICM');
    });
    await failure(retrieve(client), 'pacs-timeout');
  });

  it('honours the caller’s abort signal', async () => {
    const { client } = await start(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await failure(client.searchInstances(STUDY, undefined, { signal: controller.signal }), 'pacs-timeout');
    assert.ok(Date.now() - started < TIMEOUT_MS);
  });

  it('reports a refused connection as pacs-unreachable', async () => {
    const { server, client } = await start(() => undefined);
    await server.close();
    await failure(client.searchInstances(STUDY), 'pacs-unreachable');
  });

  it('reports a connection dropped mid-answer as pacs-unreachable', async () => {
    const { client } = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=b', 'Content-Length': '100000' });
      res.write('--b\r\nContent-Type: application/dicom\r\n\r\nDICM', () => res.destroy());
    });
    await failure(retrieve(client), 'pacs-unreachable');
  });

  it('rejects broken multipart, multipart without parts, and parts that are not DICOM as pacs-invalid-response', async () => {
    const noBoundary = await start((_req, res) => multipart(res, 'b', 'no boundary anywhere in this body'));
    await failure(retrieve(noBoundary.client), 'pacs-invalid-response');
    const unterminated = await start((_req, res) => multipart(res, 'b', '--b\r\nContent-Type: application/dicom\r\n\r\nDICM and then the end'));
    await failure(retrieve(unterminated.client), 'pacs-invalid-response');
    const empty = await start((_req, res) => multipart(res, 'b', '--b--\r\n'));
    await failure(retrieve(empty.client), 'pacs-invalid-response');
    const json = await start((_req, res) => multipart(res, 'b', '--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n'));
    await failure(retrieve(json.client), 'pacs-invalid-response');
    const html = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>'));
    await failure(retrieve(html.client), 'pacs-invalid-response');
  });

  it('takes the first part of a multipart answer and ignores the rest; accepts plain application/dicom', async () => {
    const twoParts = await start((_req, res) =>
      multipart(res, 'xyz', Buffer.concat([
        Buffer.from('--xyz\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n'),
        Buffer.from(lateralFile),
        Buffer.from('\r\n--xyz\r\nContent-Type: application/dicom\r\n\r\n'),
        Buffer.from(apFile),
        Buffer.from('\r\n--xyz--\r\n'),
      ])),
    );
    const first = (await retrieve(twoParts.client)) as { part10: Uint8Array; contentType: string };
    assert.deepEqual(first.part10, lateralFile);
    assert.equal(first.contentType, 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1');

    const plain = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom' }).end(apFile));
    assert.deepEqual(((await retrieve(plain.client)) as { part10: Uint8Array }).part10, apFile);
  });

  it('stops an endless answer as soon as it passes the byte cap and closes the connection', async () => {
    let closed = false;
    let written = 0;
    const chunk = Buffer.alloc(16 * 1024, 7);
    const { client } = await start((_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=b' });
      res.write('--b\r\nContent-Type: application/dicom\r\n\r\n');
      const pump = (): void => {
        while (!closed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    await failure(retrieve(client, 200_000), 'too-large');
    const deadline = Date.now() + 2000;
    while (!closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(closed, 'the server saw the connection close');
    assert.ok(written < 16 * 1024 * 1024, `the server could send only ${written} bytes before the close`);
  });

  it('applies the cap to a plain application/dicom answer without Content-Length too', async () => {
    const { client } = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/dicom' });
      res.write(Buffer.alloc(150_000));
      res.end(Buffer.alloc(150_000));
    });
    await failure(retrieve(client, 200_000), 'too-large');
  });

  it('does not follow a redirect to another host', async () => {
    const elsewhere = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]'));
    const { client } = await start((_req, res) => res.writeHead(302, { Location: `${dicomWebOf(elsewhere.server)}/studies/${STUDY}/instances` }).end());
    const error = await failure(client.searchInstances(STUDY), 'pacs-error');
    assert.ok(error instanceof DicomwebHttpError && error.status === 302);
    assert.equal(elsewhere.server.requests.length, 0);
  });

  it('rejects JSON that is not JSON, or not an array of datasets, as pacs-invalid-response', async () => {
    const broken = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[{"00080018": '));
    await failure(broken.client.searchInstances(STUDY), 'pacs-invalid-response');
    const wrongShape = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('{"Message":"ok"}'));
    await failure(wrongShape.client.seriesMetadata(STUDY, LATERAL_SERIES), 'pacs-invalid-response');
    const noDataset = await start((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]'));
    await failure(noDataset.client.instanceMetadata(STUDY, LATERAL_SERIES, LATERAL_SOP), 'pacs-invalid-response');
  });

  it('maps 403 to pacs-auth-failed and 406 to pacs-error with the status', async () => {
    const forbidden = await start((_req, res) => res.writeHead(403).end());
    await failure(forbidden.client.searchInstances(STUDY), 'pacs-auth-failed');
    const notAcceptable = await start((_req, res) => res.writeHead(406).end());
    const error = await failure(retrieve(notAcceptable.client), 'pacs-error');
    assert.ok(error instanceof DicomwebHttpError && error.status === 406);
  });
});
