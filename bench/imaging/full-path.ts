// The served imaging path against a real Orthanc on loopback: QIDO-RS (instances of the study) +
// WADO-RS series metadata + WADO-RS retrieve + decode and preprocess in the worker pool. The
// stages are timed one by one through the same client, then end to end through RadiographSource.
import { DicomwebClientFactory } from '../../src/imaging/dicomweb-client.js';
import { decodeInWorker } from '../../src/imaging/decode-in-worker.js';
import { SELECTION_FIELDS, selectInstance } from '../../src/imaging/instance-selection.js';
import { RadiographSource } from '../../src/imaging/radiograph-source.js';
import { startOrthanc } from '../../src/dev/orthanc.js';
import type { WorkerPool } from '../../src/workers/pool.js';
import { BENCH_LIMITS, BENCH_SPEC } from './common.js';

export interface FullPathTimes {
  qido: number[];
  metadata: number[];
  retrieve: number[];
  decode: number[];
  /** End to end through RadiographSource.prepareFromCandidates with a study-level candidate: QIDO + WADO-RS retrieve + decode. */
  total: number[];
}

function uid(dataset: Record<string, { Value?: unknown[] } | undefined>, tag: string): string {
  const value = dataset[tag]?.Value?.[0];
  if (typeof value !== 'string') throw new Error(`tag ${tag} missing`);
  return value;
}

export async function fullPath(pool: WorkerPool, part10: Uint8Array, runs: number): Promise<FullPathTimes> {
  const orthanc = await startOrthanc();
  try {
    await orthanc.upload(part10);
    const limits = { ...BENCH_LIMITS, decodeTimeoutMs: 60_000 };
    const dicomweb = new DicomwebClientFactory({ endpoints: [{ baseUrl: orthanc.dicomWebUrl, allowInsecureHttp: true, auth: { type: 'none' } }], timeoutMs: 30_000, env: {} });
    const client = dicomweb.forEndpoint(orthanc.dicomWebUrl);
    const studies = await fetch(`${orthanc.dicomWebUrl}/studies?PatientID=BENCH-1`).then((r) => r.json() as Promise<Record<string, { Value?: unknown[] }>[]>);
    const studyUid = uid(studies[0]!, '0020000D');
    const source = new RadiographSource({
      imaging: { lookbackDays: 36500, dicomweb: { endpoints: [], timeoutMs: 30_000 }, limits },
      dicomweb,
      pool,
      now: () => new Date(),
    });
    const candidate = { imagingStudyReference: 'ImagingStudy/bench', studyInstanceUid: studyUid, started: new Date(), modality: 'DX', wadoRsBaseUrl: orthanc.dicomWebUrl, bodySiteConfirmed: true };
    const times: FullPathTimes = { qido: [], metadata: [], retrieve: [], decode: [], total: [] };
    for (let i = 0; i < runs + 2; i++) {
      const warm = i >= 2;
      let t = performance.now();
      const found = await client.searchInstances(studyUid, undefined, { includeFields: SELECTION_FIELDS });
      const qido = performance.now() - t;
      const seriesUid = uid(found[0]!, '0020000E');
      t = performance.now();
      const metadata = await client.seriesMetadata(studyUid, seriesUid);
      const metadataTime = performance.now() - t;
      const choice = selectInstance([{ instances: metadata, bodySiteConfirmed: true }], 'lateral');
      if (!choice.ok) throw new Error(choice.reason);
      t = performance.now();
      const retrieved = await client.retrieveInstance(studyUid, seriesUid, choice.instance.sopInstanceUid, { transferSyntax: '*', maxBytes: limits.maxBytes });
      const retrieve = performance.now() - t;
      t = performance.now();
      await decodeInWorker(pool, retrieved.part10, limits, BENCH_SPEC);
      const decode = performance.now() - t;
      t = performance.now();
      await source.prepareFromCandidates([candidate], { view: 'lateral', spec: BENCH_SPEC });
      const total = performance.now() - t;
      if (warm) {
        times.qido.push(qido);
        times.metadata.push(metadataTime);
        times.retrieve.push(retrieve);
        times.decode.push(decode);
        times.total.push(total);
      }
    }
    return times;
  } finally {
    await orthanc.close();
  }
}
