// Child-process side of tests/integration/tls.test.ts: NODE_EXTRA_CA_CERTS is read once, when a Node
// process starts, so the service's clients are exercised against the TLS servers from a fresh process.
// Input (argv[2], JSON): FHIR base URLs to read `Patient/<id>` from and DICOMweb roots to retrieve one
// instance from. Output (stdout, JSON): per URL, what came back or the typed error (kind/code + message).
import { FhirClientFactory, FhirRequestError } from '../../src/fhir/client.js';
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { ImagingError } from '../../src/imaging/errors.js';

export interface ProbeInput {
  fhir: string[];
  patientId: string;
  dicomweb: string[];
  instance: { study: string; series: string; sop: string };
}

export type ProbeResult = { url: string; ok: true; value: string | number } | { url: string; ok: false; error: string; type: string; message: string };

const input = JSON.parse(process.argv[2] ?? '{}') as ProbeInput;
const fhirClients = new FhirClientFactory({ servers: input.fhir.map((baseUrl) => ({ baseUrl, allowInsecureHttp: false })), timeoutMs: 10_000, maxPages: 1 });
const dicomweb = new DicomwebClientFactory({ endpoints: input.dicomweb.map((baseUrl) => ({ baseUrl, allowInsecureHttp: false, auth: { type: 'none' } })), timeoutMs: 10_000, env: {} });

function failed(url: string, error: unknown): ProbeResult {
  if (error instanceof FhirRequestError) return { url, ok: false, type: 'FhirRequestError', error: error.kind, message: error.message };
  if (error instanceof ImagingError) return { url, ok: false, type: 'ImagingError', error: error.code, message: error.message };
  return { url, ok: false, type: 'other', error: String(error), message: '' };
}

const results: ProbeResult[] = [];
for (const url of input.fhir) {
  try {
    const patient = await fhirClients.forServer(url).get(`Patient/${input.patientId}`);
    results.push({ url, ok: true, value: patient.id ?? '' });
  } catch (error) {
    results.push(failed(url, error));
  }
}
for (const url of input.dicomweb) {
  try {
    const { study, series, sop } = input.instance;
    const retrieved = await dicomweb.forEndpoint(url).retrieveInstance(study, series, sop, { transferSyntax: '*', maxBytes: 10_000_000 });
    results.push({ url, ok: true, value: retrieved.part10.byteLength });
  } catch (error) {
    results.push(failed(url, error));
  }
}
process.stdout.write(JSON.stringify(results));
