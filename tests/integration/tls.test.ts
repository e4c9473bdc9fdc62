// HTTPS to FHIR and to the PACS with a site's own CA, as docs/integration.md tells a site to set it up:
// a CA and server certificates made at run time with the openssl CLI, the real dev FHIR app behind
// node:https, the real Orthanc behind a TLS-terminating proxy (tests/helpers/tls-proxy.ts says why not
// Orthanc's own SslEnabled), and the service's FHIR and DICOMweb clients run in
// a child process started with NODE_EXTRA_CA_CERTS (read at process start only). The right host's
// certificate works; a certificate for another host name, or from a CA the process does not trust, is a
// typed error — never a crash, never a retry over plain http.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Patient } from 'fhir/r4.js';
import { createDevFhirApp, startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { writeRadiograph } from '../../src/synthetic/dicom-file.js';
import { tempDir } from '../helpers/cds-app.js';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.js';
import type { ProbeInput, ProbeResult } from '../helpers/tls-probe.js';

const run = promisify(execFile);
const PATIENT: Patient = { resourceType: 'Patient', id: 'tls-p1' };
const STUDY = '1.2.826.0.1.3680043.10.1477.13.1';
const INSTANCE = { study: STUDY, series: `${STUDY}.1`, sop: `${STUDY}.1.1` };

interface Pki {
  ca: string;
  /** Issued for 127.0.0.1 and localhost. */
  right: { cert: string; key: string };
  /** Issued by the same CA for another host name. */
  wrong: { cert: string; key: string };
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA and two server certificates it issued, made with the openssl CLI. */
async function makePki(dir: string): Promise<Pki> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Spine CDS test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = async (name: string, subjectAltName: string): Promise<{ cert: string; key: string }> => {
    await writeFile(join(dir, `${name}.ext`), `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };
  const right = await issue('right', 'IP:127.0.0.1,DNS:localhost');
  const wrong = await issue('wrong', 'DNS:wrong-host.example');
  return { ca: join(dir, 'ca.pem'), right, wrong };
}

interface HttpsFhir {
  baseUrl: string;
  /** HTTP requests that got past the TLS handshake. */
  requests: number;
  close(): Promise<void>;
}

/** The real dev FHIR app (over the dev server's repository) behind node:https with the given certificate. */
async function httpsFhir(dev: DevFhirServer, certificate: { cert: string; key: string }): Promise<HttpsFhir> {
  let baseUrl = '';
  let requests = 0;
  const app = createDevFhirApp(dev.repository, { baseUrl: () => baseUrl, onRequest: () => void requests++ });
  const server: Server = createServer({ cert: await readFile(certificate.cert), key: await readFile(certificate.key) }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/R4`;
  return {
    baseUrl,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs tests/helpers/tls-probe.ts in a fresh Node process with the given extra environment. */
async function probe(input: ProbeInput, env: Record<string, string>): Promise<Map<string, ProbeResult>> {
  const { NODE_EXTRA_CA_CERTS: _inherited, ...inherited } = process.env;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tests/helpers/tls-probe.ts', JSON.stringify(input)], {
    env: { ...inherited, ...env },
    timeout: 60_000,
  });
  return new Map((JSON.parse(stdout) as ProbeResult[]).map((r) => [r.url, r]));
}

describe('HTTPS to FHIR and DICOMweb with a local CA', () => {
  let pki: Pki;
  let dev: DevFhirServer;
  let rightFhir: HttpsFhir;
  let wrongFhir: HttpsFhir;
  let orthanc: RunningOrthanc;
  let rightPacs: TlsProxy;
  let wrongPacs: TlsProxy;
  let input: ProbeInput;
  let size: number;
  const dicomWebUrl = (proxy: TlsProxy): string => `${proxy.origin}/dicom-web`;

  before(async () => {
    pki = await makePki(tempDir('tls-'));
    dev = await startDevFhirServer({ resources: [PATIENT] });
    [rightFhir, wrongFhir, orthanc] = await Promise.all([httpsFhir(dev, pki.right), httpsFhir(dev, pki.wrong), startOrthanc()]);
    const target = { host: '127.0.0.1', port: Number(new URL(orthanc.url).port) };
    const proxyWith = async (c: { cert: string; key: string }): Promise<TlsProxy> => startTlsProxy({ cert: await readFile(c.cert), key: await readFile(c.key), target });
    [rightPacs, wrongPacs] = await Promise.all([proxyWith(pki.right), proxyWith(pki.wrong)]);
    const part10 = writeRadiograph(
      { rows: 32, columns: 24, data: new Uint16Array(32 * 24).map((_, i) => i % 4096), bitsStored: 12, photometric: 'MONOCHROME2' },
      { PatientID: 'TLS-1', Modality: 'DX', BodyPartExamined: 'LSPINE', StudyInstanceUID: INSTANCE.study, SeriesInstanceUID: INSTANCE.series, SOPInstanceUID: INSTANCE.sop },
    );
    size = part10.byteLength;
    await orthanc.upload(part10);
    input = { fhir: [rightFhir.baseUrl, wrongFhir.baseUrl], patientId: PATIENT.id!, dicomweb: [dicomWebUrl(rightPacs), dicomWebUrl(wrongPacs)], instance: INSTANCE };
  });

  after(async () => {
    await Promise.all([rightFhir?.close(), wrongFhir?.close(), rightPacs?.close(), wrongPacs?.close(), orthanc?.close()]);
    await dev?.close();
  });

  it('with NODE_EXTRA_CA_CERTS: the right host works; a certificate for another host is a typed error and nothing reaches the app', async () => {
    const results = await probe(input, { NODE_EXTRA_CA_CERTS: pki.ca });
    assert.deepEqual(results.get(rightFhir.baseUrl), { url: rightFhir.baseUrl, ok: true, value: PATIENT.id });
    assert.deepEqual(results.get(dicomWebUrl(rightPacs)), { url: dicomWebUrl(rightPacs), ok: true, value: size }, 'the stored file comes back over TLS');
    const wrong = results.get(wrongFhir.baseUrl);
    assert.deepEqual([wrong?.ok, wrong?.ok === false && wrong.type, wrong?.ok === false && wrong.error], [false, 'FhirRequestError', 'tls']);
    const otherName = results.get(dicomWebUrl(wrongPacs));
    assert.deepEqual([otherName?.ok, otherName?.ok === false && otherName.type, otherName?.ok === false && otherName.error], [false, 'ImagingError', 'pacs-unreachable']);
    assert.match(otherName?.ok === false ? otherName.message : '', /certificate/);
    assert.equal(wrongFhir.requests, 0, 'no HTTP request got past the refused handshake');
    assert.equal(wrongPacs.handshakes, 0, 'no connection to the PACS got past the refused handshake');
  });

  it('without the CA: the same servers are refused as untrusted, with the same typed errors', async () => {
    const rightBefore = rightFhir.requests;
    const pacsHandshakes = rightPacs.handshakes;
    const results = await probe({ ...input, fhir: [rightFhir.baseUrl], dicomweb: [dicomWebUrl(rightPacs)] }, {});
    const fhir = results.get(rightFhir.baseUrl);
    assert.deepEqual([fhir?.ok, fhir?.ok === false && fhir.error], [false, 'tls']);
    const pacs = results.get(dicomWebUrl(rightPacs));
    assert.deepEqual([pacs?.ok, pacs?.ok === false && pacs.error], [false, 'pacs-unreachable']);
    assert.match(pacs?.ok === false ? pacs.message : '', /certificate/);
    assert.equal(rightFhir.requests, rightBefore, 'nothing was sent without a trusted certificate');
    assert.equal(rightPacs.handshakes, pacsHandshakes);
  });
});
