// FHIR resources for imaging tests: a DICOMweb Endpoint and a lumbar spine DX series, coded as an
// EHR would code them, so each test only writes what it varies.
import type { Coding, Endpoint, ImagingStudy, ImagingStudySeries } from 'fhir/r4.js';

export const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
export const LUMBAR: Coding = { system: 'http://snomed.info/sct', code: '122496007', display: 'Lumbar spine structure' };

/** An active `dicom-wado-rs` Endpoint at `address`. */
export function dicomWebEndpoint(id: string, address: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    resourceType: 'Endpoint',
    id,
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
    payloadType: [{ text: 'DICOM' }],
    address,
    ...overrides,
  };
}

/** A DX series whose body site is coded as lumbar spine. */
export function lumbarSeries(uid: string, number: number): ImagingStudySeries {
  return { uid, number, modality: { system: DCM, code: 'DX' }, bodySite: LUMBAR };
}

export interface LumbarStudyOptions {
  id: string;
  patient: string;
  studyUid: string;
  started: string;
  series: ImagingStudySeries[];
}

/** An available DX ImagingStudy of the patient, identified by its Study Instance UID, fetched from Endpoint/pacs. */
export function lumbarImagingStudy(options: LumbarStudyOptions, overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  return {
    resourceType: 'ImagingStudy',
    id: options.id,
    status: 'available',
    subject: { reference: `Patient/${options.patient}` },
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${options.studyUid}` }],
    started: options.started,
    modality: [{ system: DCM, code: 'DX' }],
    series: options.series,
    endpoint: [{ reference: 'Endpoint/pacs' }],
    ...overrides,
  };
}
