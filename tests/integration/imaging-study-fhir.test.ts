// From FHIR to pixels' file: ImagingStudy + Endpoint in the dev FHIR server point at a running
// Orthanc; candidates are resolved through the FHIR client, an instance chosen, and retrieved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, ImagingStudy } from 'fhir/r4.js';
import { startDevFhirServer, type DevFhirServer, type RecordedRequest } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { FhirClientFactory, type FhirClient } from '../../src/fhir/client.js';
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { selectInstance, type InstanceSource } from '../../src/imaging/instance-selection.js';
import { loadImagingResources, noCandidateCode, selectCandidateSeries, type ImagingResources } from '../../src/imaging/study-selection.js';
import { writeRadiograph, type DicomAttributes } from '../../src/synthetic/dicom-file.js';
import { DCM, dicomWebEndpoint, lumbarImagingStudy, lumbarSeries } from '../helpers/imaging-resources.js';

const NOW = new Date('2025-01-15T09:00:00Z');
const STUDY = '1.2.826.0.1.3680043.10.1477.8.1';
const LATERAL_SERIES = `${STUDY}.1`;
const AP_SERIES = `${STUDY}.2`;
const LATERAL_SOP = `${LATERAL_SERIES}.1`;

function radiograph(attributes: DicomAttributes): Uint8Array {
  const data = new Uint16Array(32 * 24).map((_, i) => (i * 101) % 1024);
  return writeRadiograph(
    { rows: 32, columns: 24, data, bitsStored: 10, photometric: 'MONOCHROME2' },
    { PatientID: 'SYN-0002', Modality: 'DX', BodyPartExamined: 'LSPINE', StudyInstanceUID: STUDY, ...attributes },
  );
}

const lateralFile = radiograph({ SeriesInstanceUID: LATERAL_SERIES, SOPInstanceUID: LATERAL_SOP, ViewPosition: 'LL' });
const apFile = radiograph({ SeriesInstanceUID: AP_SERIES, SOPInstanceUID: `${AP_SERIES}.1`, ViewPosition: 'AP' });

let orthanc: RunningOrthanc;
let fhir: DevFhirServer;
let fhirClient: FhirClient;
let dicomweb: DicomwebClientFactory;
const requests: RecordedRequest[] = [];

function study(id: string, patient: string, overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  const series = [lumbarSeries(AP_SERIES, 2), lumbarSeries(LATERAL_SERIES, 1)];
  return lumbarImagingStudy({ id, patient, studyUid: STUDY, started: '2024-11-02T10:15:00Z', series }, overrides);
}

before(async () => {
  orthanc = await startOrthanc();
  await orthanc.upload(lateralFile);
  await orthanc.upload(apFile);
  fhir = await startDevFhirServer({
    onRequest: (request) => requests.push(request),
    resources: [
      { resourceType: 'Patient', id: 'p1' },
      { resourceType: 'Patient', id: 'p2' },
      { resourceType: 'Patient', id: 'p3' },
      dicomWebEndpoint('pacs', orthanc.dicomWebUrl),
      dicomWebEndpoint('elsewhere', 'https://pacs.elsewhere.example/dicom-web'),
      study('xr-lumbar', 'p1'),
      study('ct-head', 'p1', { modality: [{ system: DCM, code: 'CT' }], series: [{ uid: `${STUDY}.9`, modality: { system: DCM, code: 'CT' } }] }),
      study('xr-no-endpoint', 'p2', { endpoint: [{ reference: 'Endpoint/deleted' }] }),
      study('xr-elsewhere', 'p3', { endpoint: [{ reference: 'Endpoint/elsewhere' }] }),
    ],
  });
  fhirClient = new FhirClientFactory({ servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: true }], timeoutMs: 5000, maxPages: 3 }).forServer(fhir.baseUrl);
  dicomweb = new DicomwebClientFactory({
    endpoints: [{ baseUrl: orthanc.dicomWebUrl, allowInsecureHttp: true, auth: { type: 'none' } }],
    timeoutMs: 5000,
    env: {},
  });
});

after(async () => {
  await Promise.all([fhir?.close(), orthanc?.close()]);
});

const select = (resources: ImagingResources): ReturnType<typeof selectCandidateSeries> =>
  selectCandidateSeries({ ...resources, now: NOW, lookbackDays: 3 * 365, allowsEndpoint: (address) => dicomweb.allows(address) });

describe('ImagingStudy → Endpoint → DICOMweb', () => {
  it('resolves the candidates with one _include search, chooses the lateral and retrieves it', async () => {
    requests.length = 0;
    const resources = await loadImagingResources({ client: fhirClient, patientId: 'p1' });
    assert.deepEqual(
      requests.map((r) => r.url),
      ['/fhir/R4/ImagingStudy?patient=p1&_include=ImagingStudy:endpoint'],
    );
    const { candidates, rejected } = select(resources);
    assert.deepEqual(rejected.map((r) => [r.reference, r.code]), [['ImagingStudy/ct-head', 'no-eligible-study']]);
    assert.deepEqual(
      candidates.map((c) => [c.imagingStudyReference, c.seriesInstanceUid, c.wadoRsBaseUrl]),
      [
        ['ImagingStudy/xr-lumbar', AP_SERIES, orthanc.dicomWebUrl],
        ['ImagingStudy/xr-lumbar', LATERAL_SERIES, orthanc.dicomWebUrl],
      ],
    );

    const sources: InstanceSource[] = [];
    for (const candidate of candidates) {
      const client = dicomweb.forEndpoint(candidate.wadoRsBaseUrl);
      const instances = await client.seriesMetadata(candidate.studyInstanceUid, candidate.seriesInstanceUid as string);
      sources.push({ instances, bodySiteConfirmed: candidate.bodySiteConfirmed });
    }
    const chosen = selectInstance(sources, 'lateral');
    assert.ok(chosen.ok);
    assert.deepEqual([chosen.instance.seriesUid, chosen.instance.sopInstanceUid, chosen.instance.view, chosen.instance.reasons], [LATERAL_SERIES, LATERAL_SOP, 'lateral', []]);

    const { part10 } = await dicomweb
      .forEndpoint(candidates[0]!.wadoRsBaseUrl)
      .retrieveInstance(chosen.instance.studyUid, chosen.instance.seriesUid, chosen.instance.sopInstanceUid, { transferSyntax: '*', maxBytes: 1_000_000 });
    assert.deepEqual(part10, lateralFile);
  });

  it('reads Endpoints a prefetched Bundle references but does not include', async () => {
    const prefetch = (await fhirClient.get('ImagingStudy?patient=p1')) as Bundle;
    assert.ok(!prefetch.entry?.some((e) => e.resource?.resourceType === 'Endpoint'));
    requests.length = 0;
    const resources = await loadImagingResources({ client: fhirClient, patientId: 'p1', prefetch: [prefetch] });
    assert.deepEqual(requests.map((r) => r.url), ['/fhir/R4/Endpoint/pacs']);
    assert.equal(select(resources).candidates.length, 2);
  });

  it('reports an eligible study whose Endpoint is gone as no-dicomweb-endpoint', async () => {
    const selection = select(await loadImagingResources({ client: fhirClient, patientId: 'p2' }));
    assert.deepEqual(selection.candidates, []);
    assert.deepEqual(selection.rejected.map((r) => [r.reference, r.code]), [
      ['ImagingStudy/xr-no-endpoint', 'no-dicomweb-endpoint'],
      ['ImagingStudy/xr-no-endpoint', 'no-dicomweb-endpoint'],
    ]);
    assert.equal(noCandidateCode(selection), 'no-dicomweb-endpoint');
  });

  it('reports a study whose PACS is not on the DICOMweb allow-list as endpoint-not-allowed', async () => {
    const selection = select(await loadImagingResources({ client: fhirClient, patientId: 'p3' }));
    assert.deepEqual(selection.candidates, []);
    assert.equal(noCandidateCode(selection), 'endpoint-not-allowed');
  });

  it('answers no-eligible-study for a patient without imaging', async () => {
    const selection = select(await loadImagingResources({ client: fhirClient, patientId: 'nobody' }));
    assert.deepEqual(selection, { candidates: [], rejected: [] });
    assert.equal(noCandidateCode(selection), 'no-eligible-study');
  });
});
