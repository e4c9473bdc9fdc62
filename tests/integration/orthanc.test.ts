// Starts the real Orthanc (Debian package, DICOMweb + GDCM plugins) and checks what the imaging code
// relies on: QIDO finds the phantom study, re-uploading an instance is harmless, WADO-RS returns files
// as stored (and should transcode the 12-bit JPEG Extended the service's decoder refuses), and close()
// cleans up.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getMultipartBoundary, parseMultipart } from '@remix-run/multipart-parser';
import dcmjs from 'dcmjs';
import { startOrthanc } from '../../src/dev/orthanc.js';
import type { RunningOrthanc } from '../../src/dev/orthanc.js';
import { compressPart10, lumbarFixtures, readTransferSyntax } from '../helpers/dicom-fixtures.js';
import type { CompressedVariant } from '../helpers/dicom-fixtures.js';

const DICOM_JSON = { accept: 'application/dicom+json' };
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

type DicomJson = Record<string, { Value?: unknown[] }>[];

function naturalised(part10: Uint8Array): Record<string, unknown> {
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(part10.slice().buffer).dict);
}

async function qido(url: string): Promise<DicomJson> {
  const response = await fetch(url, { headers: DICOM_JSON });
  assert.equal(response.status, 200, url);
  return (await response.json()) as DicomJson;
}

void describe('Orthanc PACS (integration)', () => {
  const fixtures = lumbarFixtures({ seed: 7 });
  const { lateral, ap } = fixtures;
  let orthanc: RunningOrthanc;
  let scratch: string;
  let extended: CompressedVariant;

  before(async () => {
    // os.tmpdir() follows TMPDIR, so Orthanc's storage lands where the last test can look for it.
    scratch = await mkdtemp(join(tmpdir(), 'orthanc-test-'));
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    const starting = startOrthanc();
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    [orthanc, extended] = await Promise.all([starting, compressPart10(lateral.part10, 'jpegExtended12')]);
  });
  after(async () => {
    await orthanc?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  void it('stores the two-view study and a compressed variant, and QIDO finds the DX series', async () => {
    for (const part10 of [lateral.part10, ap.part10, extended.part10]) await orthanc.upload(part10);
    const series = await qido(`${orthanc.dicomWebUrl}/series?Modality=DX`);
    const found = new Set(series.map((s) => s['0020000E']?.Value?.[0]));
    assert.ok(found.has(lateral.attributes.SeriesInstanceUID));
    assert.ok(found.has(ap.attributes.SeriesInstanceUID));
    const studies = await qido(`${orthanc.dicomWebUrl}/studies?PatientID=${encodeURIComponent(String(lateral.attributes.PatientID))}`);
    assert.deepEqual(
      studies.map((s) => s['0020000D']?.Value?.[0]),
      [lateral.attributes.StudyInstanceUID],
    );
    const instances = await qido(`${orthanc.dicomWebUrl}/studies/${String(lateral.attributes.StudyInstanceUID)}/instances`);
    assert.equal(instances.length, 3, 'lateral, AP and the lossy (new SOPInstanceUID) JPEG Extended copy');
  });

  void it('accepts the same SOPInstanceUID twice without failing or duplicating', async () => {
    const first = await orthanc.upload(lateral.part10);
    const second = await orthanc.upload(lateral.part10);
    assert.equal(second, first);
    const instances = (await (await fetch(`${orthanc.url}/instances`)).json()) as string[];
    assert.equal(instances.length, 3);
  });

  /** WADO-RS retrieval of the JPEG Extended copy, as one Part 10 file in the transfer syntax asked for. */
  async function retrieveExtended(transferSyntax: string): Promise<Uint8Array> {
    const sopInstanceUid = String(naturalised(extended.part10).SOPInstanceUID);
    const { StudyInstanceUID: study, SeriesInstanceUID: series } = lateral.attributes as Record<string, string>;
    const url = `${orthanc.dicomWebUrl}/studies/${study}/series/${series}/instances/${sopInstanceUid}`;
    const response = await fetch(url, { headers: { accept: `multipart/related; type="application/dicom"; transfer-syntax=${transferSyntax}` } });
    assert.equal(response.status, 200);
    const boundary = getMultipartBoundary(response.headers.get('content-type') ?? '');
    assert.ok(boundary);
    const parts = [...parseMultipart(new Uint8Array(await response.arrayBuffer()), { boundary })];
    assert.equal(parts.length, 1);
    return parts[0]!.bytes;
  }

  void it('returns a stored instance byte for byte with transfer-syntax=*', async () => {
    assert.deepEqual(await retrieveExtended('*'), extended.part10);
  });

  // Orthanc 1.10.1 with orthanc-gdcm 1.5 (Debian 12) would hand this file to GDCM, which cannot read
  // 12-bit JPEG, and segfault; src/dev/orthanc.ts limits GDCM to JPEG 2000 so DCMTK transcodes it.
  // Asked several times: the crash came within 1–3 requests.
  void it('transcodes 12-bit JPEG Extended to explicit VR little endian over WADO-RS, repeatedly', async () => {
    for (let i = 0; i < 4; i++) assert.equal(readTransferSyntax(await retrieveExtended(EXPLICIT_VR_LITTLE_ENDIAN)), EXPLICIT_VR_LITTLE_ENDIAN);
    const part10 = await retrieveExtended(EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(readTransferSyntax(part10), EXPLICIT_VR_LITTLE_ENDIAN);
    // Lossy, so compare with the original within JPEG's error rather than exactly.
    const decoded = new Uint16Array((naturalised(part10).PixelData as ArrayBuffer[])[0]!, 0, lateral.pixels.data.length);
    let worst = 0;
    for (const [i, value] of decoded.entries()) worst = Math.max(worst, Math.abs(value - lateral.pixels.data[i]!));
    assert.ok(worst < 64, `largest difference ${worst}`);
  });

  void it('close() stops Orthanc and removes its temporary directory', async () => {
    assert.notDeepEqual(await readdir(scratch), []);
    await orthanc.close();
    assert.deepEqual(await readdir(scratch), []);
    await assert.rejects(fetch(`${orthanc.url}/system`), (error: unknown) => error instanceof TypeError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED');
  });
});
