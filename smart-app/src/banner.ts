// The patient banner (when the EHR does not show its own) and the patient line of the printout.
import type { Patient } from 'fhir/r4.js';
import { fill, h } from './dom.js';
import { day } from './format.js';

export interface PatientSummary {
  name: string;
  details: string[];
}

/** The official (else first) name, sex, birth date and an identifier such as the MRN. */
export function patientSummary(patient: Patient): PatientSummary {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const text = name?.text ?? [name?.given?.join(' '), name?.family].filter((p) => p).join(' ');
  const mrn = patient.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ?? patient.identifier?.[0];
  const details = [
    patient.gender ? patient.gender.charAt(0).toUpperCase() + patient.gender.slice(1) : '',
    patient.birthDate ? `Born ${day(patient.birthDate)}` : '',
    mrn?.value ? `${mrn.type?.text ?? (mrn.type?.coding?.some((c) => c.code === 'MR') ? 'MRN' : 'ID')} ${mrn.value}` : '',
  ].filter((d) => d !== '');
  return { name: text || 'Name not recorded', details };
}

export function showBanner(host: HTMLElement, summary: PatientSummary, visible: boolean): void {
  host.hidden = !visible;
  fill(host, h('span', { class: 'patient-name', id: 'patient-name' }, summary.name), ...summary.details.map((d) => h('span', { class: 'patient-detail' }, d)));
}
