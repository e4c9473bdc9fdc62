// A synthetic patient's lateral lumbar spine radiograph as a DICOM file a PACS accepts: the phantom
// drawn from the patient's latent bone strength and deformities, with acquisition-like geometry,
// exposure, bit depth and photometric interpretation, and a realistic DX/CR header. Every file says
// in ImageComments that it is a synthetic phantom.
import dcmjsCodecs from 'dcmjs-codecs';
import type { SyntheticPatient } from './cohort.js';
import { SOP_CLASS, writeRadiograph, type DicomAttributes } from './dicom-file.js';
import { generateLumbarPhantom, type LumbarPhantomOptions } from './lumbar-phantom.js';
import { deriveSeed, draws, mulberry32 } from './random.js';

export const TRANSFER_SYNTAX = {
  explicitLittleEndian: '1.2.840.10008.1.2.1',
  rle: '1.2.840.10008.1.2.5',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
} as const;

export interface Acquisition {
  modality: 'DX' | 'CR';
  /** Millimetres per pixel at the detector. */
  spacingMm: number;
  rows: number;
  columns: number;
  bitsStored: number;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  transferSyntaxUid: string;
  kvp: number;
  /** Radiograph date, YYYYMMDD. */
  studyDate: string;
  /** DICOM PN (`Family^Given`) when the FHIR Patient is renamed (the demo); default `Synthetic^<id>`, as in FHIR. */
  patientName?: string;
  phantom: LumbarPhantomOptions;
}

/** A UID under the 2.25 (UUID-derived) root, fixed by the seed and a name, so regenerated files are identical. */
export function syntheticUid(seed: number, name: string): string {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(deriveSeed(seed, i, ...[...name].map((c) => c.charCodeAt(0))));
  return `2.25.${value}`;
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

function dicomDate(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}`;
}

/** How the patient's radiograph is acquired; drawn from its own stream, so it never changes the patient. */
export function acquisition(patient: SyntheticPatient, indexDate: Date): Acquisition {
  const d = draws(mulberry32(deriveSeed(patient.seed, 1)));
  const modality = d.pick([
    ['DX', 0.7],
    ['CR', 0.3],
  ] as const);
  const spacingMm = modality === 'DX' ? d.pick([[0.139, 0.4], [0.148, 0.3], [0.16, 0.3]] as const) : d.pick([[0.15, 0.5], [0.175, 0.3], [0.2, 0.2]] as const);
  // A 24 × 30 cm field, portrait, give or take collimation.
  const rows = Math.round((d.uniform(280, 310) / spacingMm) / 2) * 2;
  const columns = Math.round((d.uniform(220, 245) / spacingMm) / 2) * 2;
  const bitsStored = modality === 'CR' ? d.pick([[10, 0.3], [12, 0.7]] as const) : d.pick([[12, 0.5], [14, 0.35], [16, 0.15]] as const);
  const transferSyntaxUid = d.pick([
    [TRANSFER_SYNTAX.explicitLittleEndian, 0.85],
    [TRANSFER_SYNTAX.rle, 0.1],
    [TRANSFER_SYNTAX.jpegLsLossless, 0.05],
  ] as const);
  const { boneStrength, deformities } = patient.latent;
  const bmi = patient.factors.weightKg! / (patient.factors.heightCm! / 100) ** 2;
  // Bone strength shows as trabecular density against the cortex and the neighbouring discs; cortex,
  // beam quality, body habitus, exposure and a smooth attenuation field vary on their own, so that
  // no global intensity statistic gives the strength away: it has to be read locally.
  const boneDensity = 1 / (1 + Math.exp(-0.8 * boneStrength));
  const phantom: LumbarPhantomOptions = {
    seed: deriveSeed(patient.seed, 2),
    view: 'lateral',
    rows,
    columns,
    bitsStored,
    boneDensity,
    cortexDensity: Math.min(1, Math.max(0, d.normal(0.55 + 0.1 * (boneDensity - 0.5), 0.06))),
    boneContrast: d.uniform(0.85, 1.15),
    softTissue: Math.min(0.45, Math.max(0.12, d.normal(0.26 + 0.012 * (bmi - 24), 0.025))),
    exposure: d.uniform(0.45, 0.95),
    striation: Math.min(1, 0.8 * (1 - boneDensity)),
    noise: d.uniform(0.004, 0.012),
    deformities,
    photometric: modality === 'CR' && d.bernoulli(0.6) ? 'MONOCHROME1' : 'MONOCHROME2',
    field: d.uniform(0.12, 0.3),
  };
  const studyDate = new Date(indexDate.getTime() - Math.floor(d.uniform(0, 365)) * 86_400_000);
  return {
    modality,
    spacingMm,
    rows,
    columns,
    bitsStored,
    photometric: phantom.photometric!,
    transferSyntaxUid,
    kvp: Math.round(d.uniform(80, 96)),
    studyDate: dicomDate(studyDate),
    phantom,
  };
}

/** Every synthetic patient's family name, in FHIR and in DICOM (the given name is the patient id). */
export const SYNTHETIC_FAMILY_NAME = 'Synthetic';

/** The radiograph's StudyDate (YYYYMMDD) as a UTC date. */
export function acquisitionDate(a: Acquisition): Date {
  const s = a.studyDate;
  return new Date(Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))));
}

/** The date of birth the DICOM file and the FHIR Patient both give: `age` years before the radiograph. */
export function birthDateOf(patient: SyntheticPatient, radiographDate: Date): Date | null {
  const { age } = patient.factors;
  return age === null ? null : new Date(radiographDate.getTime() - Math.round(age * 365.25) * 86_400_000);
}

/** The UIDs of the patient's radiograph, shared by the DICOM file and its FHIR ImagingStudy. */
export function radiographUids(patient: SyntheticPatient): { study: string; series: string; instance: string } {
  return {
    study: syntheticUid(patient.seed, 'study'),
    series: syntheticUid(patient.seed, 'series'),
    instance: syntheticUid(patient.seed, 'instance'),
  };
}

function header(patient: SyntheticPatient, a: Acquisition): DicomAttributes {
  const uids = radiographUids(patient);
  const { age, sex } = patient.factors;
  const birthDate = birthDateOf(patient, acquisitionDate(a));
  const spacing = [a.spacingMm, a.spacingMm];
  return {
    SOPClassUID: a.modality === 'DX' ? SOP_CLASS.dxForPresentation : SOP_CLASS.crImage,
    SOPInstanceUID: uids.instance,
    StudyInstanceUID: uids.study,
    SeriesInstanceUID: uids.series,
    StudyID: '1',
    AccessionNumber: `ACC${patient.index}`,
    StudyDate: a.studyDate,
    StudyTime: '101500',
    SeriesDate: a.studyDate,
    ContentDate: a.studyDate,
    ContentTime: '101532',
    StudyDescription: 'XR LUMBAR SPINE',
    SeriesDescription: a.phantom.view === 'ap' ? 'L-SPINE AP' : 'L-SPINE LAT',
    PatientName: a.patientName ?? `${SYNTHETIC_FAMILY_NAME}^${patient.id}`,
    PatientID: patient.id,
    ...(birthDate === null ? {} : { PatientBirthDate: dicomDate(birthDate) }),
    PatientSex: sex === 'female' ? 'F' : 'M',
    PatientAge: `${String(Math.floor(age!)).padStart(3, '0')}Y`,
    Modality: a.modality,
    Manufacturer: 'SPINE-CDS SYNTHETIC',
    ManufacturerModelName: 'Lumbar phantom',
    ImageType: ['ORIGINAL', 'PRIMARY'],
    ImageComments: 'SYNTHETIC PHANTOM, NOT A PATIENT IMAGE',
    BodyPartExamined: 'LSPINE',
    // The demo's AP-only patient is rendered with view 'ap'; every cohort patient is lateral.
    ...(a.phantom.view === 'ap'
      ? { ViewPosition: 'AP', ViewCodeSequence: [{ CodeValue: '399348003', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Antero-posterior' }] }
      : { ViewPosition: 'LL', ViewCodeSequence: [{ CodeValue: '399067008', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Lateral' }] }),
    KVP: a.kvp,
    DistanceSourceToDetector: 1150,
    ...(a.modality === 'DX'
      ? { PresentationIntentType: 'FOR PRESENTATION', ImagerPixelSpacing: spacing, PixelSpacing: spacing, BurnedInAnnotation: 'NO' }
      : { PixelSpacing: spacing }),
    LossyImageCompression: '00',
  };
}

let codecsReady: Promise<void> | undefined;

/** The patient's radiograph as DICOM Part 10, compressed (losslessly) when its acquisition says so. */
export async function renderRadiograph(patient: SyntheticPatient, a: Acquisition): Promise<Uint8Array> {
  const part10 = writeRadiograph(generateLumbarPhantom(a.phantom), header(patient, a));
  if (a.transferSyntaxUid === TRANSFER_SYNTAX.explicitLittleEndian) return part10;
  codecsReady ??= dcmjsCodecs.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  await codecsReady;
  const transcoder = new dcmjsCodecs.Transcoder(part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer);
  transcoder.transcode(a.transferSyntaxUid);
  return new Uint8Array(transcoder.getDicomPart10());
}
