// The right-patient rule (DESIGN.md, "Safety rules"): a radiograph is read for a patient only when its
// DICOM PatientID is one of that patient's identifiers and, where both sides record them, the birth
// date and the family name agree. It is checked twice: on the PACS's metadata before the download, and
// on the file itself in the decode worker, so the pixels the model reads are the ones checked.
// Details never quote the values compared: they are patient data, and details reach logs.
import type { Patient } from 'fhir/r4.js';
import type { PatientIdentityRule } from '../config.js';
import type { DicomJsonDataset } from './dicomweb-client.js';

/** What the FHIR patient says the image's patient must be (plain data: it crosses into the worker). */
export interface ExpectedPatient {
  /** Values the DICOM PatientID may take. Empty: nothing to match it with, so no image is accepted. */
  ids: string[];
  /** YYYYMMDD, or YYYYMM / YYYY when FHIR records only part of the date; null when not compared. */
  birthDate: string | null;
  /** Family names, normalised (see `normalizedName`); empty when not compared. */
  familyNames: string[];
}

/** The patient attributes of a DICOM object, as written in it. */
export interface DicomPatient {
  patientId: string | undefined;
  /** PN, the alphabetic group: `Family^Given^Middle^Prefix^Suffix`. */
  patientName: string | undefined;
  /** DA, YYYYMMDD. */
  birthDate: string | undefined;
}

/** Case, accents, spaces and punctuation do not tell two family names apart (PACS and EHR spell them differently). */
export function normalizedName(name: string): string {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** The chart's Patient arrives as untrusted JSON (a prefetch is not validated): any shape gives an answer. */
export function expectedPatient(patient: Patient | null, patientId: string, rule: PatientIdentityRule): ExpectedPatient {
  const listed = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : []);
  const wanted = new Set(rule.identifierSystems);
  const ids = listed(patient?.identifier).flatMap(({ system, value }) =>
    typeof value === 'string' && (wanted.size === 0 || (typeof system === 'string' && wanted.has(system))) ? [value] : [],
  );
  if (wanted.size === 0) ids.push(patientId);
  const birthDate = rule.birthDate && typeof patient?.birthDate === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(patient.birthDate) ? patient.birthDate.replaceAll('-', '') : null;
  const familyNames = rule.familyName
    ? [...new Set(listed(patient?.name).flatMap(({ family }) => (typeof family === 'string' ? [normalizedName(family)] : [])).filter((name) => name !== ''))]
    : [];
  return { ids: [...new Set(ids)], birthDate, familyNames };
}

/** Why the image is not of the expected patient, or null when it is. */
export function patientMismatch(found: DicomPatient, expected: ExpectedPatient): string | null {
  const id = found.patientId?.trim();
  if (!id) return 'the image has no PatientID to match with the patient';
  if (expected.ids.length === 0) return 'the patient has no identifier the configured rule compares with the image’s PatientID';
  if (!expected.ids.includes(id)) return 'the image’s PatientID is not one of the patient’s identifiers';
  const birthDate = found.birthDate?.trim();
  if (expected.birthDate !== null && birthDate && /^\d{8}$/.test(birthDate) && !birthDate.startsWith(expected.birthDate)) {
    return 'the image’s PatientBirthDate differs from the patient’s birth date';
  }
  const family = normalizedName(found.patientName?.split('=')[0]?.split('^')[0] ?? '');
  if (expected.familyNames.length > 0 && family !== '' && !expected.familyNames.includes(family)) {
    return 'the family name in the image’s PatientName differs from the patient’s';
  }
  return null;
}

/** PatientName, PatientID, PatientBirthDate: for QIDO `includeFields`. */
export const PATIENT_FIELDS: readonly string[] = ['00100010', '00100020', '00100030'];

/** PN in DICOM JSON is `[{ "Alphabetic": "…" }]`. */
export function dicomPatientOfJson(dataset: DicomJsonDataset | undefined): DicomPatient {
  const first = (tag: string): unknown => dataset?.[tag]?.Value?.[0];
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const name = first('00100010');
  return {
    patientId: text(first('00100020')),
    patientName: typeof name === 'object' && name !== null ? text((name as { Alphabetic?: unknown }).Alphabetic) : text(name),
    birthDate: text(first('00100030')),
  };
}
