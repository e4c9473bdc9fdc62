// RadiographSource against real servers: ImagingStudy + Endpoint in the dev FHIR server, a real
// Orthanc holding phantom radiographs (plain, and compressed by DCMTK/GDCM) and public sample files,
// decode and preprocessing in a pool of two worker threads. Every expected tensor is computed
// independently, in this thread, by decodeDicom + preprocess on the file as it was written — never
// on what came back from the PACS. FAULT INJECTOR servers stand in only for PACS misbehaviour that
// Orthanc cannot be made to produce (hanging, truncated or non-DICOM bodies, an outsider endpoint).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import dcmjs from 'dcmjs';
import type { Bundle, Endpoint, ImagingStudy } from 'fhir/r4.js';
import type { DicomwebEndpointEntry, ImagingLimits } from '../../src/config.js';
import { startDevFhirServer, type DevFhirServer, type RecordedRequest } from '../../src/dev/fhir-server.js';
import { startOrthanc, type RunningOrthanc } from '../../src/dev/orthanc.js';
import { FhirClientFactory, type FhirClient } from '../../src/fhir/client.js';
import { decodeDicom } from '../../src/imaging/dicom-decode.js';
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { ImagingError, type ImagingErrorCode } from '../../src/imaging/errors.js';
import { preprocess, type PreprocessedImage, type PreprocessingRecord, type PreprocessingSpec } from '../../src/imaging/preprocessing.js';
import { RadiographSource, type PreparedRadiograph, type RadiographSourceDeps } from '../../src/imaging/radiograph-source.js';
import type { CandidateSeries } from '../../src/imaging/study-selection.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/imaging/transfer-syntax.js';
import { createWorkerPool, type WorkerPool } from '../../src/workers/pool.js';
import { writeRadiograph } from '../../src/synthetic/dicom-file.js';
import {
  COMPRESSED_SYNTAXES,
  COMPRESSION,
  compressPart10,
  dcmodify,
  lumbarFixtures,
  readTransferSyntax,
  type CompressedSyntax,
  type DicomFixture,
} from '../helpers/dicom-fixtures.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';
import { dicomWebEndpoint, lumbarImagingStudy, lumbarSeries } from '../helpers/imaging-resources.js';

const NOW = new Date('2025-01-15T09:00:00Z');
const LOOKBACK_DAYS = 3 * 365;
/** When the phantom study was acquired (its DICOM StudyDate is 20240115): a year before NOW. */
const STARTED = '2024-01-15T10:15:00.000Z';
const LIMITS: ImagingLimits = { maxBytes: 64 * 1024 * 1024, maxPixels: 40_000_000, maxFrames: 1, decodeTimeoutMs: 60_000 };
/** 256 × 192 phantoms, less a 2 % border, shrink by a non-integer factor (≈ 0.52) into 128 × 96: area averaging with partial pixels. */
const SPEC: PreprocessingSpec = {
  height: 128,
  width: 96,
  voi: { mode: 'window-else-percentile', lowPercentile: 0.5, highPercentile: 99.5 },
  borderCrop: 0.02,
  padValue: 0,
  normalisation: { mean: 0.5, std: 0.25 },
};
/**
 * Bounds, in normalised units (÷ std 0.25 from display units 0–1), for lossy images whose codec
 * guarantees no per-pixel error, on the largest and the mean |Δ| against the lossless tensor.
 * Measured when written, for scale: JPEG baseline 0.061 / 0.0084, JPEG 2000 0.043 / 0.0086,
 * JPEG extended 0.0039 / 0.0008, RG3_J2KI 0.0016 / 0.0001. A wrong image is far outside all of
 * them (the lateral and AP phantoms differ by more than ten times the coarse bounds; checked below).
 */
const TOLERANCE = {
  // 8-bit source with a 201-value window: one stored step is already 0.02 here, and JPEG baseline
  // quantisation moves values by several steps. Also used for JPEG 2000 at 10:1 on the 12-bit phantom.
  coarse: { max: 0.1, mean: 0.02 },
  // 12-bit source with a 3220-value window (one step is 0.0012): DCMTK's JPEG extended at its default quality 90.
  jpegExtended12: { max: 0.02, mean: 0.004 },
  // NEMA WG04's lossy copy (a quarter the lossless file's size), 10-bit with a 1024-value window (one
  // step is 0.004), shrunk 1760 → 128 by area averaging, which averages about 190 source pixels each.
  rg3Lossy: { max: 0.01, mean: 0.002 },
} as const;

/** Float32 rounding through the value LUT and the area sums, added to bounds derived exactly. */
const FLOAT_SLACK = 1e-5;

const MISSING_STUDY = '1.2.826.0.1.3680043.10.1477.9.404';

const fixtures = lumbarFixtures();
const { lateral, ap, forProcessing } = fixtures;

type UidKeyword = 'StudyInstanceUID' | 'SeriesInstanceUID' | 'SOPInstanceUID';
const uidOf = (fixture: DicomFixture, keyword: UidKeyword): string => fixture.attributes[keyword] as string;
const LATERAL_STUDY = uidOf(lateral, 'StudyInstanceUID');

interface Uids {
  study: string;
  series: string;
  sop: string;
}

/** Study, series and SOP instance UIDs as dcmjs reads them from a file. */
function uidsOf(part10: Uint8Array): Uids {
  const buffer = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
  const { dict } = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: '7FE00010' });
  const text = (tag: string): string => {
    const value = dict[tag]?.Value?.[0];
    assert.equal(typeof value, 'string', `tag ${tag}`);
    return value as string;
  };
  return { study: text('0020000D'), series: text('0020000E'), sop: text('00080018') };
}

const sample = async (name: string): Promise<Uint8Array> => new Uint8Array(await readFile(new URL(`../fixtures/dicom/${name}`, import.meta.url)));

/** The independent expectation: decode and preprocess in this thread, from the file as written. */
async function inThread(part10: Uint8Array, spec: PreprocessingSpec = SPEC): Promise<PreprocessedImage> {
  return preprocess(await decodeDicom(part10, LIMITS), spec);
}

function differences(actual: Float32Array, expected: Float32Array): { max: number; mean: number } {
  assert.equal(actual.length, expected.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i]! - expected[i]!);
    assert.ok(Number.isFinite(difference), `pixel ${i} is not finite`);
    max = Math.max(max, difference);
    sum += difference;
  }
  return { max, mean: sum / actual.length };
}

function assertWithin(actual: Float32Array, expected: Float32Array, tolerance: { max: number; mean: number }, label: string): void {
  const { max, mean } = differences(actual, expected);
  assert.ok(max <= tolerance.max && mean <= tolerance.mean, `${label}: max |Δ| ${max} (bound ${tolerance.max}), mean |Δ| ${mean} (bound ${tolerance.mean})`);
}

/** The record less what names the transfer syntax, which a compressed copy changes by design. */
function apartFromSyntax(record: PreprocessingRecord): unknown {
  const { transferSyntaxUid: _uid, transferSyntax: _name, lossyCompression: _lossy, ...source } = record.source;
  return { ...record, source };
}

function assertTensorShape(prepared: PreparedRadiograph): void {
  assert.equal(prepared.tensor.length, SPEC.height * SPEC.width);
  assert.ok(prepared.tensor.every(Number.isFinite), 'every tensor value is finite');
  assert.ok(new Set(prepared.tensor).size > 100, 'the tensor is an image, not a constant');
}

/** The ImagingError a promise rejects with, after checking its message holds no UID or address. */
async function failure(promise: Promise<unknown>, code: ImagingErrorCode): Promise<ImagingError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  const got = caught === undefined ? 'a result' : caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught;
  assert.ok(caught instanceof ImagingError, `expected ImagingError ${code}, got ${got}`);
  assert.equal(caught.code, code, caught.message);
  for (const secret of [LATERAL_STUDY, MISSING_STUDY, '127.0.0.1', '://']) {
    assert.ok(!caught.message.includes(secret), `message leaks ${secret}: ${caught.message}`);
  }
  return caught;
}

// ---- FHIR resources ----

/** The two-view lumbar study: lateral, AP and the lateral's For Processing twin, fetched from Endpoint/pacs. */
function imagingStudy(id: string, patient: string, overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  const series = [
    lumbarSeries(uidOf(lateral, 'SeriesInstanceUID'), 1),
    lumbarSeries(uidOf(ap, 'SeriesInstanceUID'), 2),
    lumbarSeries(uidOf(forProcessing, 'SeriesInstanceUID'), 3),
  ];
  return lumbarImagingStudy({ id, patient, studyUid: LATERAL_STUDY, started: STARTED, series }, overrides);
}

function searchset(...resources: (ImagingStudy | Endpoint)[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.map((resource) => ({ resource, search: { mode: resource.resourceType === 'ImagingStudy' ? 'match' : 'include' } })),
  };
}

/** A prefetched search answer: the lateral study's series, to be fetched from `address`. */
const prefetchFrom = (address: string): Bundle => searchset(imagingStudy('xr-lumbar', 'p-lumbar', { endpoint: [{ reference: 'Endpoint/other' }] }), dicomWebEndpoint('other', address));

// ---- servers ----

let orthanc: RunningOrthanc;
let fhir: DevFhirServer;
let fhirClient: FhirClient;
let pool: WorkerPool;
let source: RadiographSource;
/** A FAULT INJECTOR DICOMweb server that is not on the allow-list: it must never be contacted. */
let outsider: FaultServer;
const fhirRequests: RecordedRequest[] = [];
const faultServers: FaultServer[] = [];

/** The DICOMweb root on a FAULT INJECTOR (its baseUrl ends with /fhir; only the origin matters). */
const dicomWebOf = (server: FaultServer): string => `${new URL(server.baseUrl).origin}/dicom-web`;

async function faultPacs(respond: (req: IncomingMessage, res: ServerResponse) => void): Promise<FaultServer> {
  const server = await startFaultServer(respond);
  faultServers.push(server);
  return server;
}

interface SourceOptions {
  endpoints?: string[];
  timeoutMs?: number;
  limits?: Partial<ImagingLimits>;
  lookbackDays?: number;
}

/** A RadiographSource on the shared pool whose allow-list (and DICOMweb timeout) is `endpoints`. */
function makeSource(options: SourceOptions = {}): RadiographSource {
  const { endpoints = [orthanc.dicomWebUrl], timeoutMs = 15_000, limits = {}, lookbackDays = LOOKBACK_DAYS } = options;
  const entries: DicomwebEndpointEntry[] = endpoints.map((baseUrl) => ({ baseUrl, allowInsecureHttp: true, auth: { type: 'none' } }));
  const imaging: RadiographSourceDeps['imaging'] = { lookbackDays, dicomweb: { endpoints: entries, timeoutMs }, limits: { ...LIMITS, ...limits } };
  return new RadiographSource({ imaging, dicomweb: new DicomwebClientFactory({ endpoints: entries, timeoutMs, env: {} }), pool, now: () => NOW });
}

// Public samples, as stored in Orthanc. RG3 says BodyPartExamined EXTREMITY, which selection rightly
// refuses whatever FHIR says, so the stored copies have it erased (dcmodify leaves the pixel data and
// transfer syntax alone); the lossy twin shares the lossless file's study and series UIDs, so its
// copy gets new ones to be a study of its own. CR-ModalitySequenceLUT has no BodyPartExamined.
let rg3Lossless: Uint8Array;
let rg3LosslessStored: Uint8Array;
let rg3Lossy: Uint8Array;
let rg3LossyStored: Uint8Array;
let modalityLutFile: Uint8Array;

const studyCandidate = (part10: Uint8Array, reference: string, modality = 'CR'): CandidateSeries => ({
  imagingStudyReference: reference,
  studyInstanceUid: uidsOf(part10).study,
  started: new Date(STARTED),
  modality,
  wadoRsBaseUrl: orthanc.dicomWebUrl,
  bodySiteConfirmed: true,
});

let rg3Expected: Promise<PreprocessedImage> | undefined;
const expectedRg3 = (): Promise<PreprocessedImage> => (rg3Expected ??= inThread(rg3Lossless));

before(async () => {
  [orthanc, outsider] = await Promise.all([
    startOrthanc(),
    faultPacs((_req, res) => res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]')),
  ]);
  [rg3Lossless, rg3Lossy, modalityLutFile] = await Promise.all([sample('RG3_J2KR.dcm'), sample('RG3_J2KI.dcm'), sample('CR-ModalitySequenceLUT.dcm')]);
  [rg3LosslessStored, rg3LossyStored] = await Promise.all([
    dcmodify(rg3Lossless, ['-ea', '(0018,0015)']),
    dcmodify(rg3Lossy, ['-ea', '(0018,0015)', '-gst', '-gse']),
  ]);
  for (const file of [lateral.part10, ap.part10, forProcessing.part10, rg3LosslessStored, rg3LossyStored, modalityLutFile]) await orthanc.upload(file);

  const patients = ['p-lumbar', 'p-nothing', 'p-old', 'p-elsewhere', 'p-missing', 'p-missing-series'];
  const { series: _series, ...withoutSeries } = imagingStudy('xr-missing', 'p-missing', { identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${MISSING_STUDY}` }] });
  fhir = await startDevFhirServer({
    onRequest: (request) => fhirRequests.push(request),
    resources: [
      ...patients.map((id) => ({ resourceType: 'Patient' as const, id })),
      dicomWebEndpoint('pacs', orthanc.dicomWebUrl),
      dicomWebEndpoint('outsider', dicomWebOf(outsider)),
      imagingStudy('xr-lumbar', 'p-lumbar'),
      // The same study, but acquired long before the look-back window.
      imagingStudy('xr-old', 'p-old', { started: '2019-06-01T10:00:00Z' }),
      imagingStudy('xr-elsewhere', 'p-elsewhere', { endpoint: [{ reference: 'Endpoint/outsider' }] }),
      // Study-level (no series listed): the PACS is searched for the study and holds nothing.
      withoutSeries,
      imagingStudy('xr-missing-series', 'p-missing-series', {
        identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${MISSING_STUDY}` }],
        series: [lumbarSeries(`${MISSING_STUDY}.1`, 1)],
      }),
    ],
  });
  fhirClient = new FhirClientFactory({ servers: [{ baseUrl: fhir.baseUrl, allowInsecureHttp: true }], timeoutMs: 10_000, maxPages: 3 }).forServer(fhir.baseUrl);
  pool = createWorkerPool({ threads: 2, maxQueue: 16 });
  source = makeSource();
});

after(async () => {
  await Promise.all([pool?.close(), orthanc?.close(), fhir?.close(), ...faultServers.map((server) => server.close())]);
});

describe('RadiographSource through FHIR and Orthanc', () => {
  it('prepares the lateral of a two-view study, exactly as the file decodes in this thread', async () => {
    const prepared = await source.prepare({ patientId: 'p-lumbar', fhir: fhirClient, view: 'lateral', spec: SPEC });
    assertTensorShape(prepared);
    assert.deepEqual(prepared.source, {
      imagingStudyReference: 'ImagingStudy/xr-lumbar',
      studyInstanceUid: LATERAL_STUDY,
      seriesInstanceUid: uidOf(lateral, 'SeriesInstanceUID'),
      sopInstanceUid: uidOf(lateral, 'SOPInstanceUID'),
      studyStarted: STARTED,
      modality: 'DX',
      view: 'lateral',
      transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
      transcodedByPacs: false,
      selectionReasons: [],
    });

    const record = prepared.preprocessing;
    assert.equal(record.source.rows, lateral.pixels.rows);
    assert.equal(record.source.columns, lateral.pixels.columns);
    assert.equal(record.source.bitsStored, lateral.pixels.bitsStored);
    assert.equal(record.source.photometric, lateral.pixels.photometric);
    assert.equal(record.source.transferSyntaxUid, readTransferSyntax(lateral.part10));
    assert.equal(record.source.lossyCompression, false);
    assert.equal(record.inverted, false);
    assert.equal(record.modalityLut, 'identity');
    const [rowMm, columnMm] = lateral.attributes.PixelSpacing as number[];
    assert.deepEqual(record.pixelSpacing, { rowMm, columnMm, source: 'PixelSpacing' });
    assert.deepEqual(record.tensorPixelSpacingMm, { rowMm: rowMm! / record.resize.scaleRows, columnMm: columnMm! / record.resize.scaleColumns });
    assert.deepEqual(record.voi, { method: 'window', center: lateral.attributes.WindowCenter, width: lateral.attributes.WindowWidth, function: 'LINEAR' });
    assert.deepEqual(record.tensor, { height: SPEC.height, width: SPEC.width, padValue: SPEC.padValue, ...SPEC.normalisation });

    const expected = await inThread(lateral.part10);
    assert.deepEqual(prepared.tensor, expected.tensor);
    assert.deepEqual(record, expected.record);
  });

  it('returns the AP instance when asked for the AP view', async () => {
    const prepared = await source.prepare({ patientId: 'p-lumbar', fhir: fhirClient, view: 'ap', spec: SPEC });
    assertTensorShape(prepared);
    assert.equal(prepared.source.seriesInstanceUid, uidOf(ap, 'SeriesInstanceUID'));
    assert.equal(prepared.source.sopInstanceUid, uidOf(ap, 'SOPInstanceUID'));
    assert.equal(prepared.source.view, 'ap');
    assert.deepEqual(prepared.source.selectionReasons, []);
    const [rowMm, columnMm] = ap.attributes.ImagerPixelSpacing as number[];
    assert.deepEqual(prepared.preprocessing.pixelSpacing, { rowMm, columnMm, source: 'ImagerPixelSpacing' });

    const expected = await inThread(ap.part10);
    assert.deepEqual(prepared.tensor, expected.tensor);
    assert.deepEqual(prepared.preprocessing, expected.record);
    // The lossy tolerances used below must be able to tell two different images apart.
    const otherView = differences(prepared.tensor, (await inThread(lateral.part10)).tensor);
    assert.ok(otherView.mean > 10 * TOLERANCE.coarse.mean && otherView.max > 10 * TOLERANCE.coarse.max, `lateral vs AP: ${JSON.stringify(otherView)}`);
  });
});

describe('RadiographSource with prefetched ImagingStudy resources', () => {
  it('gives the same result from a prefetch Bundle without a FHIR client, and the FHIR server hears nothing', async () => {
    const viaFhir = await source.prepare({ patientId: 'p-lumbar', fhir: fhirClient, view: 'lateral', spec: SPEC });
    fhirRequests.length = 0;
    const prefetch = searchset(imagingStudy('xr-lumbar', 'p-lumbar'), dicomWebEndpoint('pacs', orthanc.dicomWebUrl));
    const viaPrefetch = await source.prepare({ patientId: 'p-lumbar', prefetch: [prefetch], view: 'lateral', spec: SPEC });
    assert.deepEqual(viaPrefetch, viaFhir);
    assert.ok(!fhirRequests.some((request) => request.url.includes('ImagingStudy')), 'no ImagingStudy search');
    assert.deepEqual(fhirRequests, []);
  });

  it('with a FHIR client too, reads only the Endpoint the prefetch references but leaves out', async () => {
    fhirRequests.length = 0;
    const prepared = await source.prepare({ patientId: 'p-lumbar', prefetch: [searchset(imagingStudy('xr-lumbar', 'p-lumbar'))], fhir: fhirClient, view: 'lateral', spec: SPEC });
    assert.equal(prepared.source.sopInstanceUid, uidOf(lateral, 'SOPInstanceUID'));
    assert.deepEqual(fhirRequests.map((request) => `${request.method} ${request.url}`), ['GET /fhir/R4/Endpoint/pacs']);
  });
});

/** A copy of the fixture of the bit depth `syntax` needs, as a study of its own, compressed and stored in Orthanc. */
async function storeCompressed(syntax: CompressedSyntax): Promise<{ uncompressed: Uint8Array; compressed: Uint8Array; uids: Uids }> {
  const recipe = COMPRESSION[syntax];
  const fixture = recipe.sourceBitsStored === undefined ? lateral : Object.values(fixtures).find((f) => f.pixels.bitsStored === recipe.sourceBitsStored && !(f.pixels.data instanceof Int16Array));
  assert.ok(fixture, `a fixture with BitsStored ${recipe.sourceBitsStored}`);
  const newUid = (): string => dcmjs.data.DicomMetaDictionary.uid();
  const uncompressed = writeRadiograph(fixture.pixels, { ...fixture.attributes, StudyInstanceUID: newUid(), SeriesInstanceUID: newUid(), SOPInstanceUID: newUid() });
  const { part10: compressed } = await compressPart10(uncompressed, syntax);
  await orthanc.upload(compressed);
  return { uncompressed, compressed, uids: uidsOf(compressed) };
}

const seriesCandidate = (uids: Uids, reference: string): CandidateSeries => ({
  imagingStudyReference: reference,
  studyInstanceUid: uids.study,
  seriesInstanceUid: uids.series,
  started: new Date(STARTED),
  modality: 'DX',
  wadoRsBaseUrl: orthanc.dicomWebUrl,
  bodySiteConfirmed: true,
});

describe('RadiographSource on compressed studies', () => {
  for (const syntax of COMPRESSED_SYNTAXES.filter((s) => COMPRESSION[s].serviceDecodes)) {
    const recipe = COMPRESSION[syntax];
    it(`${syntax} (${recipe.transferSyntaxUid}) is decoded by the service and matches the uncompressed source${recipe.lossy ? ' within its tolerance' : ' exactly'}`, async () => {
      const { uncompressed, uids } = await storeCompressed(syntax);
      const prepared = await source.prepareFromCandidates([seriesCandidate(uids, `ImagingStudy/${syntax}`)], { view: 'lateral', spec: SPEC });
      assertTensorShape(prepared);
      assert.equal(prepared.source.sopInstanceUid, uids.sop);
      assert.equal(prepared.source.transferSyntaxUid, recipe.transferSyntaxUid);
      assert.equal(prepared.source.transcodedByPacs, false);
      assert.equal(prepared.preprocessing.source.transferSyntaxUid, recipe.transferSyntaxUid);
      assert.equal(prepared.preprocessing.source.lossyCompression, recipe.lossy);

      const expected = await inThread(uncompressed);
      if (!recipe.lossy) {
        assert.deepEqual(prepared.tensor, expected.tensor);
        assert.deepEqual(apartFromSyntax(prepared.preprocessing), apartFromSyntax(expected.record));
        return;
      }
      // The window comes from the header, which compression leaves alone: the same VOI either way.
      assert.deepEqual(prepared.preprocessing.voi, expected.record.voi);
      if (recipe.maxError !== undefined) {
        // Bound derived from the codec's guarantee: |Δstored| ≤ maxError; the identity Modality LUT keeps
        // it; a LINEAR window maps x to (x − (c − ½)) / (w − 1) + ½, clipped, so |Δdisplay| ≤ maxError / (w − 1);
        // normalisation divides by std; area averaging is a convex combination, which cannot enlarge
        // the largest difference.
        const voi = expected.record.voi;
        assert.equal(voi.method, 'window');
        assert.equal(expected.record.modalityLut, 'identity');
        const bound = recipe.maxError / (voi.width - 1) / SPEC.normalisation.std + FLOAT_SLACK;
        const { max } = differences(prepared.tensor, expected.tensor);
        assert.ok(max <= bound, `${syntax}: max |Δ| ${max} > ${bound}`);
      } else {
        assertWithin(prepared.tensor, expected.tensor, TOLERANCE.coarse, syntax);
      }
    });
  }

  it('asks the PACS to transcode 12-bit JPEG Extended, which it cannot decode itself', async () => {
    const recipe = COMPRESSION.jpegExtended12;
    assert.equal(recipe.serviceDecodes, false);
    const { uncompressed, compressed, uids } = await storeCompressed('jpegExtended12');
    assert.equal(readTransferSyntax(compressed), recipe.transferSyntaxUid);
    const prepared = await source.prepareFromCandidates([seriesCandidate(uids, 'ImagingStudy/jpeg-extended')], { view: 'lateral', spec: SPEC });
    assertTensorShape(prepared);
    assert.equal(prepared.source.sopInstanceUid, uids.sop);
    assert.equal(prepared.source.transcodedByPacs, true);
    assert.equal(prepared.source.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(prepared.preprocessing.source.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(prepared.preprocessing.source.bitsStored, 12);
    // Arrived uncompressed, but LossyImageCompression "01" says it was lossy before the PACS transcoded it.
    assert.equal(prepared.preprocessing.source.lossyCompression, true);

    const expected = await inThread(uncompressed);
    assert.deepEqual(prepared.preprocessing.voi, expected.record.voi);
    assertWithin(prepared.tensor, expected.tensor, TOLERANCE.jpegExtended12, 'jpegExtended12');
  });
});

describe('RadiographSource on public sample files (study-level candidates)', () => {
  it('RG3_J2KR: JPEG 2000 lossless MONOCHROME1, equal to its decode in this thread', async () => {
    const prepared = await source.prepareFromCandidates([studyCandidate(rg3LosslessStored, 'ImagingStudy/rg3-j2kr')], { view: 'ap', spec: SPEC });
    assertTensorShape(prepared);
    const uids = uidsOf(rg3Lossless);
    assert.deepEqual(
      [prepared.source.studyInstanceUid, prepared.source.seriesInstanceUid, prepared.source.sopInstanceUid, prepared.source.modality, prepared.source.view],
      [uids.study, uids.series, uids.sop, 'CR', 'ap'],
    );
    assert.deepEqual(prepared.source.selectionReasons, []);
    assert.equal(prepared.source.transferSyntaxUid, readTransferSyntax(rg3Lossless));
    assert.equal(prepared.source.transcodedByPacs, false);

    const record = prepared.preprocessing;
    assert.equal(record.source.photometric, 'MONOCHROME1');
    assert.equal(record.inverted, true);
    assert.equal(record.source.lossyCompression, false);
    assert.deepEqual([record.source.rows, record.source.columns, record.source.bitsStored], [1760, 1760, 10]);
    assert.equal(record.pixelSpacing, null);

    // Expected from the file as published, not the copy with BodyPartExamined erased.
    const expected = await expectedRg3();
    assert.deepEqual(prepared.tensor, expected.tensor);
    assert.deepEqual(record, expected.record);
  });

  it('RG3_J2KI: the lossy twin comes out close to the lossless one', async () => {
    const prepared = await source.prepareFromCandidates([studyCandidate(rg3LossyStored, 'ImagingStudy/rg3-j2ki')], { view: 'ap', spec: SPEC });
    assertTensorShape(prepared);
    assert.equal(prepared.source.sopInstanceUid, uidsOf(rg3Lossy).sop);
    assert.equal(prepared.source.transferSyntaxUid, readTransferSyntax(rg3Lossy));
    assert.equal(prepared.preprocessing.source.lossyCompression, true);
    assert.equal(prepared.preprocessing.inverted, true);
    const lossless = await expectedRg3();
    assert.deepEqual(prepared.preprocessing.voi, lossless.record.voi);
    assertWithin(prepared.tensor, lossless.tensor, TOLERANCE.rg3Lossy, 'RG3_J2KI');
  });

  it('CR-ModalitySequenceLUT: JPEG lossless through its Modality LUT Sequence, equal to its decode in this thread', async () => {
    const prepared = await source.prepareFromCandidates([studyCandidate(modalityLutFile, 'ImagingStudy/cr-lut')], { view: 'lateral', spec: SPEC });
    assertTensorShape(prepared);
    assert.equal(prepared.source.sopInstanceUid, uidsOf(modalityLutFile).sop);
    assert.equal(prepared.source.transferSyntaxUid, readTransferSyntax(modalityLutFile));
    assert.equal(prepared.source.transcodedByPacs, false);
    assert.equal(prepared.source.view, 'unknown');
    assert.ok(prepared.source.selectionReasons.some((reason) => reason.startsWith('view-unknown')), prepared.source.selectionReasons.join('; '));

    const record = prepared.preprocessing;
    assert.match(record.modalityLut, /Modality LUT Sequence \(1024 entries\)/);
    assert.equal(record.inverted, true);
    assert.equal(record.source.photometric, 'MONOCHROME1');
    const expected = await inThread(modalityLutFile);
    assert.deepEqual(prepared.tensor, expected.tensor);
    assert.deepEqual(record, expected.record);
  });
});

/** A FAULT INJECTOR PACS that answers QIDO and metadata with `metadata` and every retrieve with one multipart part of `part`. */
function servesPart(metadata: string, part: Uint8Array): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://fault.invalid').pathname;
    if (path.endsWith('/metadata') || path.endsWith('/instances')) {
      res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end(metadata);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=part-boundary' });
    res.end(Buffer.concat([Buffer.from('--part-boundary\r\nContent-Type: application/dicom\r\n\r\n'), part, Buffer.from('\r\n--part-boundary--\r\n')]));
  };
}

describe('RadiographSource failures', () => {
  const lateralRequest = { patientId: 'p-lumbar', view: 'lateral', spec: SPEC } as const;

  it('no ImagingStudy → no-eligible-study', async () => {
    await failure(source.prepare({ ...lateralRequest, patientId: 'p-nothing', fhir: fhirClient }), 'no-eligible-study');
  });

  it('a study older than lookbackDays → study-too-old; a longer look-back takes it', async () => {
    const error = await failure(source.prepare({ ...lateralRequest, patientId: 'p-old', fhir: fhirClient }), 'study-too-old');
    assert.match(error.message, /look-back/);
    const longer = await makeSource({ lookbackDays: 10 * 365 }).prepare({ ...lateralRequest, patientId: 'p-old', fhir: fhirClient });
    assert.equal(longer.source.imagingStudyReference, 'ImagingStudy/xr-old');
  });

  it('an Endpoint not on the allow-list → endpoint-not-allowed, and it is never contacted', async () => {
    await failure(source.prepare({ ...lateralRequest, patientId: 'p-elsewhere', fhir: fhirClient }), 'endpoint-not-allowed');
    assert.deepEqual(outsider.requests, []);
  });

  it('a study the PACS does not hold → no-suitable-instance (study-level), pacs-not-found (series-level)', async () => {
    await failure(source.prepare({ ...lateralRequest, patientId: 'p-missing', fhir: fhirClient }), 'no-suitable-instance');
    // With series listed, WADO-RS series metadata answers 404 for the unknown series.
    await failure(source.prepare({ ...lateralRequest, patientId: 'p-missing-series', fhir: fhirClient }), 'pacs-not-found');
  });

  it('a PACS that has stopped → pacs-unreachable', async () => {
    const stopped = await startOrthanc();
    try {
      await stopped.upload(lateral.part10);
      const stoppedSource = makeSource({ endpoints: [stopped.dicomWebUrl] });
      const request = { ...lateralRequest, prefetch: [prefetchFrom(stopped.dicomWebUrl)] };
      const whileRunning = await stoppedSource.prepare(request);
      assert.equal(whileRunning.source.sopInstanceUid, uidOf(lateral, 'SOPInstanceUID'));
      await stopped.close();
      await failure(stoppedSource.prepare(request), 'pacs-unreachable');
    } finally {
      await stopped.close();
    }
  });

  it('a FAULT INJECTOR PACS that never answers → pacs-timeout', async () => {
    const silent = await faultPacs(() => undefined);
    const impatient = makeSource({ endpoints: [dicomWebOf(silent)], timeoutMs: 300 });
    await failure(impatient.prepare({ ...lateralRequest, prefetch: [prefetchFrom(dicomWebOf(silent))] }), 'pacs-timeout');
    assert.ok(silent.requests.length > 0, 'the PACS was asked');
  });

  it('an unreachable FHIR server → fhir-error', async () => {
    const gone = await startDevFhirServer();
    const client = new FhirClientFactory({ servers: [{ baseUrl: gone.baseUrl, allowInsecureHttp: true }], timeoutMs: 5_000, maxPages: 3 }).forServer(gone.baseUrl);
    await gone.close();
    await failure(source.prepare({ ...lateralRequest, fhir: client }), 'fhir-error');
  });

  it('decodeTimeoutMs 1 → decode-timeout, and the pool serves the next requests', async () => {
    const hasty = makeSource({ limits: { decodeTimeoutMs: 1 } });
    // A 1760 × 1760 JPEG 2000 frame: its decode cannot finish within a millisecond.
    await failure(hasty.prepareFromCandidates([studyCandidate(rg3LosslessStored, 'ImagingStudy/rg3-j2kr')], { view: 'ap', spec: SPEC }), 'decode-timeout');
    const [rg3, viaFhir] = await Promise.all([
      source.prepareFromCandidates([studyCandidate(rg3LosslessStored, 'ImagingStudy/rg3-j2kr')], { view: 'ap', spec: SPEC }),
      source.prepare({ ...lateralRequest, fhir: fhirClient }),
    ]);
    assert.deepEqual(rg3.tensor, (await expectedRg3()).tensor);
    assert.deepEqual(viaFhir.tensor, (await inThread(lateral.part10)).tensor);
  });

  it('limits.maxBytes below the file size → too-large; exactly the file size passes', async () => {
    const size = lateral.part10.byteLength;
    await failure(makeSource({ limits: { maxBytes: size - 1 } }).prepare({ ...lateralRequest, fhir: fhirClient }), 'too-large');
    const exact = await makeSource({ limits: { maxBytes: size } }).prepare({ ...lateralRequest, fhir: fhirClient });
    assert.equal(exact.source.sopInstanceUid, uidOf(lateral, 'SOPInstanceUID'));
  });

  describe('FAULT INJECTOR PACS with valid metadata', () => {
    let metadata: string;
    before(async () => {
      // The lateral series' real WADO-RS metadata, as Orthanc answers it.
      const client = new DicomwebClientFactory({ endpoints: [{ baseUrl: orthanc.dicomWebUrl, allowInsecureHttp: true, auth: { type: 'none' } }], timeoutMs: 10_000, env: {} }).forEndpoint(orthanc.dicomWebUrl);
      metadata = JSON.stringify(await client.seriesMetadata(LATERAL_STUDY, uidOf(lateral, 'SeriesInstanceUID')));
    });

    const prepareFrom = async (part: Uint8Array): Promise<{ pacs: FaultServer; result: Promise<PreparedRadiograph> }> => {
      const pacs = await faultPacs(servesPart(metadata, part));
      const result = makeSource({ endpoints: [dicomWebOf(pacs)] }).prepare({ ...lateralRequest, prefetch: [prefetchFrom(dicomWebOf(pacs))] });
      return { pacs, result };
    };

    it('serves the whole file: the control case succeeds', async () => {
      const { result } = await prepareFrom(lateral.part10);
      assert.deepEqual((await result).tensor, (await inThread(lateral.part10)).tensor);
    });

    it('a Part 10 body cut short inside the pixel data → truncated', async () => {
      const { pacs, result } = await prepareFrom(lateral.part10.subarray(0, lateral.part10.byteLength - 4096));
      await failure(result, 'truncated');
      const sop = uidOf(lateral, 'SOPInstanceUID');
      assert.ok(pacs.requests.some((request) => request.url.endsWith(`/instances/${sop}`)), 'the instance was retrieved');
    });

    it('a part that is not DICOM → not-dicom', async () => {
      const { result } = await prepareFrom(Buffer.from('<html><body>Please log in to the image archive.</body></html>\n'.repeat(4)));
      await failure(result, 'not-dicom');
    });
  });
});

describe('RadiographSource and the caller’s AbortSignal', () => {
  const request = { patientId: 'p-lumbar', view: 'lateral', spec: SPEC } as const;

  it('an already aborted signal → pacs-timeout, with Orthanc', async () => {
    await failure(source.prepare({ ...request, prefetch: [prefetchFrom(orthanc.dicomWebUrl)], signal: AbortSignal.abort() }), 'pacs-timeout');
  });

  // The PACS never answers and the DICOMweb timeout is ten minutes: only the signal can end these
  // (the test's own timeout turns a hang into a failure instead of a stalled run).
  it('an already aborted signal → pacs-timeout without waiting on a PACS that never answers', { timeout: 60_000 }, async () => {
    const silent = await faultPacs(() => undefined);
    const patient = makeSource({ endpoints: [dicomWebOf(silent)], timeoutMs: 600_000 });
    await failure(patient.prepare({ ...request, prefetch: [prefetchFrom(dicomWebOf(silent))], signal: AbortSignal.abort() }), 'pacs-timeout');
  });

  it('a signal aborted while the PACS is being asked → pacs-timeout', { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    const silent = await faultPacs(() => controller.abort());
    const patient = makeSource({ endpoints: [dicomWebOf(silent)], timeoutMs: 600_000 });
    await failure(patient.prepare({ ...request, prefetch: [prefetchFrom(dicomWebOf(silent))], signal: controller.signal }), 'pacs-timeout');
    assert.ok(silent.requests.length > 0, 'the PACS was asked');
  });
});
