// Carrying out an accepted suggestion's FHIR actions, as the EHR (the system of record) does, with its
// own token: `create` POSTs the resource, `update` PUTs it, `delete` DELETEs `resourceId`. The EHR
// writes only into the chart the card is about — a resource for another patient is refused here,
// before the FHIR server would refuse it too. Actions run in order; after a failure the rest are skipped,
// since a suggestion's actions belong together.
import type { FhirResource } from 'fhir/r4.js';
import type { Action } from '../../cds/types.js';
import { belongsToPatient } from '../smart-auth-fhir-guard.js';
import type { ActionResult } from './api-contract.js';
import { FhirCallError, type EhrFhir } from './ehr-fhir.js';

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const INSTANCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** Why the EHR will not carry out this action, or undefined when it will. */
function refusal(action: Action, patientId: string): string | undefined {
  if (action.type === 'delete') return INSTANCE.test(action.resourceId ?? '') ? undefined : 'resourceId is not a Type/id reference';
  const resource = action.resource;
  if (typeof resource !== 'object' || resource === null || !RESOURCE_TYPE.test(resource.resourceType)) return 'no resource to write';
  if (action.type === 'update' && !FHIR_ID.test(resource.id ?? '')) return 'an update needs the resource id';
  if (!belongsToPatient(resource, patientId)) return `the resource is not in this patient's chart (Patient/${patientId})`;
  return undefined;
}

async function perform(fhir: EhrFhir, patientId: string, action: Action): Promise<Pick<ActionResult, 'reference' | 'httpStatus'>> {
  switch (action.type) {
    case 'create': {
      // The server assigns the id of a created resource.
      const { id: _ignored, ...resource } = action.resource as FhirResource;
      const { status, resource: created } = await fhir.write(patientId, 'POST', resource.resourceType, resource);
      return { httpStatus: status, ...(created?.id ? { reference: `${created.resourceType}/${created.id}` } : {}) };
    }
    case 'update': {
      const resource = action.resource as FhirResource;
      const { status } = await fhir.write(patientId, 'PUT', `${resource.resourceType}/${resource.id ?? ''}`, resource);
      return { httpStatus: status, reference: `${resource.resourceType}/${resource.id ?? ''}` };
    }
    case 'delete': {
      const { status } = await fhir.write(patientId, 'DELETE', action.resourceId as string);
      return { httpStatus: status, reference: action.resourceId as string };
    }
  }
}

export async function applyActions(fhir: EhrFhir, patientId: string, actions: readonly Action[]): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  let failed = false;
  for (const action of actions) {
    const base = { type: action.type, description: action.description };
    if (failed) {
      results.push({ ...base, status: 'skipped', message: 'not done: an earlier action of this suggestion failed' });
      continue;
    }
    const refused = refusal(action, patientId);
    if (refused !== undefined) {
      failed = true;
      results.push({ ...base, status: 'failed', message: `Refused by the EHR: ${refused}` });
      continue;
    }
    try {
      results.push({ ...base, status: 'done', ...(await perform(fhir, patientId, action)) });
    } catch (error) {
      if (!(error instanceof FhirCallError)) throw error;
      failed = true;
      results.push({ ...base, status: 'failed', ...(error.status === null ? {} : { httpStatus: error.status }), message: error.message });
    }
  }
  return results;
}
