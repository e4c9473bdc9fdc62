// Synthetic patients end to end on real servers: their FHIR records loaded into the dev FHIR server
// (a transaction each), their radiographs stored in a real Orthanc, and the service's RadiographSource
// finding each image through FHIR → ImagingStudy → Endpoint → WADO-RS → decode → preprocess. The
// served tensor must be bit-for-bit the one `synth` makes for the same patient (synthesizePatient),
// so training data and served requests cannot drift apart. Patients are chosen for variety: plain DX,
// MONOCHROME1 CR, RLE and JPEG-LS files as acquisition() draws them, and charts with the rarer
// resources (a glucocorticoid order, a family history).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import dcmjs from 'dcmjs';
import type { Bundle, FhirResource } from 'fhir/r4.js';
import type { DicomwebEndpointEntry, ImagingLimits } from '../../src/config.js';
import { startDevFhirServer, type DevFhirServer } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { FhirClientFactory, type FhirClient } from '../../src/fhir/client.js';
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { parsePreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { RadiographSource, type RadiographSourceDeps } from '../../src/imaging/radiograph-source.js';
import { syntheticPatient, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientBundle, patientResources, recordResources, type SyntheticFhirRecord } from '../../src/synthetic/fhir-resources.js';
import { TRANSFER_SYNTAX, acquisition, radiographUids, renderRadiograph, type Acquisition } from '../../src/synthetic/radiograph.js';
import { synthesizePatient } from '../../src/synthetic/synth-task.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import demoSpec from '../../models/training/demo-preprocessing.json' with { type: 'json' };

const SEED = 7;
/** The index date: every radiograph is dated in the year before it, inside the look-back window. */
const ASOF = new Date('2025-01-15T00:00:00Z');
const SPEC = parsePreprocessingSpec(demoSpec);
const LIMITS: ImagingLimits = { maxBytes: 64 * 1024 * 1024, maxPixels: 40_000_000, maxFrames: 1, decodeTimeoutMs: 60_000 };
const { decodeTimeoutMs: _timeout, ...DECODE_LIMITS } = LIMITS;

/**
 * The patients to load: the first (of the first 200, none twice) with each kind of radiograph, and
 * with the risk factors that add the rarer resources, so that every kind is stored and searched back.
 */
const WANTED: Record<string, (p: SyntheticPatient, a: Acquisition) => boolean> = {
  'plain DX': (_p, a) => a.modality === 'DX' && a.photometric === 'MONOCHROME2' && a.transferSyntaxUid === TRANSFER_SYNTAX.explicitLittleEndian,
  'MONOCHROME1 CR': (_p, a) => a.photometric === 'MONOCHROME1' && a.transferSyntaxUid === TRANSFER_SYNTAX.explicitLittleEndian,
  RLE: (_p, a) => a.transferSyntaxUid === TRANSFER_SYNTAX.rle,
  'JPEG-LS': (_p, a) => a.transferSyntaxUid === TRANSFER_SYNTAX.jpegLsLossless,
  'glucocorticoids and a condition': ({ factors: f }) => f.glucocorticoids === true && (f.priorFragilityFracture === true || f.rheumatoidArthritis === true || f.secondaryOsteoporosis === true),
  "a parent's hip fracture": (p) => p.factors.parentHipFracture === true,
};

function choosePatients(): [string, SyntheticPatient][] {
  const candidates = Array.from({ length: 200 }, (_, index) => syntheticPatient(SEED, index));
  const taken = new Set<SyntheticPatient>();
  return Object.entries(WANTED).map(([label, wanted]) => {
    const patient = candidates.find((p) => !taken.has(p) && wanted(p, acquisition(p, ASOF)));
    assert.ok(patient, `no patient with ${label} among the first 200 of seed ${SEED}`);
    taken.add(patient);
    return [label, patient];
  });
}

const chosen = choosePatients();
const patients = chosen.map(([, patient]) => patient);

let orthanc: RunningOrthanc;
let fhir: DevFhirServer;
let fhirClient: FhirClient;
let pool: WorkerPool;
let source: RadiographSource;
let records: Map<string, SyntheticFhirRecord>;
/** Each patient's radiograph as rendered for upload. */
const files = new Map<string, Uint8Array>();

/** POSTs a transaction Bundle to the server base and returns the answer. */
async function transact(bundle: Bundle): Promise<Bundle> {
  const response = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Bundle;
}

async function search(query: string): Promise<FhirResource[]> {
  const bundle = await fhirClient.get(query);
  assert.equal(bundle.resourceType, 'Bundle');
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

/** A resource as stored, less what the server adds to meta (version id, last updated). */
function asWritten(resource: FhirResource): FhirResource {
  const { versionId: _version, lastUpdated: _updated, ...meta } = resource.meta ?? {};
  return { ...resource, meta };
}

/** The DICOM header attributes the ImagingStudy restates. */
function dicomHeader(part10: Uint8Array): Record<string, unknown> {
  const buffer = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
  const { dict } = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: '7FE00010' });
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict);
}

const bytesOf = (tensor: Float32Array): Buffer => Buffer.from(tensor.buffer, tensor.byteOffset, tensor.byteLength);

before(async () => {
  [orthanc, fhir] = await Promise.all([startOrthanc(), startDevFhirServer()]);
  const options = { asOf: ASOF, dicomWebBaseUrl: orthanc.dicomWebUrl };
  records = new Map(patients.map((p) => [p.id, patientResources(p, options)]));
  for (const patient of patients) await transact(patientBundle(patient, options));
  for (const patient of patients) {
    const part10 = await renderRadiograph(patient, acquisition(patient, ASOF));
    files.set(patient.id, part10);
    await orthanc.upload(part10);
  }
  fhirClient = new FhirClientFactory({ servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: true }], timeoutMs: 10_000, maxPages: 3 }).forServer(fhir.baseUrl);
  pool = createWorkerPool({ threads: 2, maxQueue: 16 });
  const endpoints: DicomwebEndpointEntry[] = [{ baseUrl: orthanc.dicomWebUrl, allowInsecureHttp: true, auth: { type: 'none' } }];
  const imaging: RadiographSourceDeps['imaging'] = { lookbackDays: 3 * 365, dicomweb: { endpoints, timeoutMs: 15_000 }, limits: LIMITS };
  source = new RadiographSource({ imaging, dicomweb: new DicomwebClientFactory({ endpoints, timeoutMs: 15_000, env: {} }), pool, now: () => ASOF });
});

after(async () => {
  await Promise.all([pool?.close(), orthanc?.close(), fhir?.close()]);
});

describe('synthetic patients through FHIR and Orthanc', () => {
  for (const [label, patient] of chosen) {
    it(`${label} (${patient.id}): the served tensor is bit-for-bit the one synth makes`, async () => {
      const a = acquisition(patient, ASOF);
      const record = records.get(patient.id)!;
      const prepared = await source.prepare({ patientId: patient.id, fhir: fhirClient, view: 'lateral', spec: SPEC });
      const synth = await synthesizePatient({ seed: SEED, index: patient.index, indexDate: ASOF.toISOString(), spec: SPEC, limits: DECODE_LIMITS, keepDicom: false });

      assert.equal(prepared.tensor.length, SPEC.height * SPEC.width);
      assert.ok(bytesOf(prepared.tensor).equals(bytesOf(synth.tensor)), 'served and synthesised tensors differ');
      const uids = radiographUids(patient);
      assert.deepEqual(prepared.source, {
        imagingStudyReference: `ImagingStudy/${record.imagingStudy.id}`,
        studyInstanceUid: uids.study,
        seriesInstanceUid: uids.series,
        sopInstanceUid: uids.instance,
        studyStarted: `${record.imagingStudy.started}T00:00:00.000Z`,
        modality: a.modality,
        view: 'lateral',
        transferSyntaxUid: a.transferSyntaxUid,
        transcodedByPacs: false,
        selectionReasons: [],
      });
      assert.equal(prepared.preprocessing.source.photometric, a.photometric);
      assert.equal(prepared.preprocessing.inverted, a.photometric === 'MONOCHROME1');
    });
  }

  it('the ImagingStudy restates the DICOM file: UIDs, SOP class, modality, date, body part', () => {
    for (const patient of patients) {
      const header = dicomHeader(files.get(patient.id)!);
      const study = records.get(patient.id)!.imagingStudy;
      const series = study.series![0]!;
      assert.equal(study.identifier?.[0]?.value, `urn:oid:${String(header.StudyInstanceUID)}`);
      assert.equal(series.uid, header.SeriesInstanceUID);
      assert.equal(series.instance?.[0]?.uid, header.SOPInstanceUID);
      assert.equal(series.instance?.[0]?.sopClass.code, `urn:oid:${String(header.SOPClassUID)}`);
      assert.equal(series.modality.code, header.Modality);
      assert.equal(study.started?.replaceAll('-', ''), header.StudyDate);
      assert.equal(header.BodyPartExamined, 'LSPINE');
      assert.equal(header.PatientID, patient.id);
    }
  });
});

describe('synthetic patients searched back from the FHIR server', () => {
  it('finds each patient’s Observations, Conditions, MedicationRequests and FamilyMemberHistories as written', async () => {
    const kinds = [
      ['Observation', (r: SyntheticFhirRecord) => r.observations],
      ['Condition', (r: SyntheticFhirRecord) => r.conditions],
      ['MedicationRequest', (r: SyntheticFhirRecord) => r.medicationRequests],
      ['FamilyMemberHistory', (r: SyntheticFhirRecord) => r.familyMemberHistories],
    ] as const;
    for (const [type, written] of kinds) {
      assert.ok(patients.some((p) => written(records.get(p.id)!).length > 0), `no ${type} among the patients: the search check would say nothing`);
    }
    for (const patient of patients) {
      const record = records.get(patient.id)!;
      assert.deepEqual(asWritten(await fhirClient.get(`Patient/${patient.id}`)), record.patient);
      for (const [type, written] of kinds) {
        const found = await search(`${type}?patient=${patient.id}&_count=50`);
        const byId = (x: { id?: string }, y: { id?: string }): number => (x.id ?? '').localeCompare(y.id ?? '');
        assert.deepEqual(found.map(asWritten).sort(byId), [...written(record)].sort(byId), `${patient.id}: ${type}`);
      }
    }
  });

  it('loading the same transactions again adds nothing', async () => {
    const types = ['Patient', 'Endpoint', 'Observation', 'Condition', 'MedicationRequest', 'FamilyMemberHistory', 'ImagingStudy'];
    const countAll = async (): Promise<number> => (await Promise.all(types.map((type) => search(`${type}?_count=200`)))).reduce((sum, found) => sum + found.length, 0);
    const written = patients.reduce((sum, p) => sum + recordResources(records.get(p.id)!).length, 0);
    assert.equal(await countAll(), written);
    for (const patient of patients) await transact(patientBundle(patient, { asOf: ASOF, dicomWebBaseUrl: orthanc.dicomWebUrl }));
    assert.equal(await countAll(), written);
  });
});
