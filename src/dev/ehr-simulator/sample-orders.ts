// The draft orders behind the simulator's order buttons, as an EHR's order entry would send them in an
// order-select `context.draftOrders` Bundle (with `selections` naming the one just selected): a
// long-term oral prednisone (10 mg a day, 90 days' supply with one refill, so 180 days: past FRAX's 3
// months) or a DXA scan. Codes are the project's own (src/fhir/terminology.ts), so the service reads
// them as it reads a chart.
import { randomUUID } from 'node:crypto';
import type { Bundle, MedicationRequest, Reference, ServiceRequest } from 'fhir/r4.js';
import { DXA_PROCEDURE, GLUCOCORTICOIDS, SYSTEM } from '../../fhir/terminology.js';
import type { DraftOrderKind } from './api-contract.js';

export interface DraftOrderInput {
  patientId: string;
  /** The ordering user, e.g. `Practitioner/dr-demo`. */
  userId: string;
  now: Date;
}

export interface DraftOrder {
  draftOrders: Bundle;
  selections: string[];
  /** The order in words, for the page. */
  description: string;
}

const requesterOf = (userId: string): Reference | undefined => (/^(Practitioner|PractitionerRole)\//.test(userId) ? { reference: userId } : undefined);

function prednisone(id: string, input: DraftOrderInput): MedicationRequest {
  const { rxnorm, atc } = GLUCOCORTICOIDS.prednisone;
  const requester = requesterOf(input.userId);
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ ...rxnorm }, { ...atc }], text: 'Prednisone 10 mg oral tablet' },
    subject: { reference: `Patient/${input.patientId}` },
    authoredOn: input.now.toISOString(),
    ...(requester ? { requester } : {}),
    dosageInstruction: [
      {
        text: '10 mg by mouth once a day',
        route: { coding: [{ system: SYSTEM.snomed, code: '26643006', display: 'Oral route' }] },
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
        doseAndRate: [{ doseQuantity: { value: 10, unit: 'mg', system: SYSTEM.ucum, code: 'mg' } }],
      },
    ],
    dispenseRequest: { numberOfRepeatsAllowed: 1, expectedSupplyDuration: { value: 90, unit: 'days', system: SYSTEM.ucum, code: 'd' } },
  };
}

function dxa(id: string, input: DraftOrderInput): ServiceRequest {
  const requester = requesterOf(input.userId);
  return {
    resourceType: 'ServiceRequest',
    id,
    status: 'draft',
    intent: 'order',
    category: [{ coding: [{ system: SYSTEM.snomed, code: '363679005', display: 'Imaging' }] }],
    code: { coding: [{ ...DXA_PROCEDURE }], text: 'DXA bone densitometry' },
    subject: { reference: `Patient/${input.patientId}` },
    authoredOn: input.now.toISOString(),
    ...(requester ? { requester } : {}),
  };
}

export function draftOrder(kind: DraftOrderKind, input: DraftOrderInput): DraftOrder {
  const id = `draft-${randomUUID()}`;
  const resource = kind === 'glucocorticoid' ? prednisone(id, input) : dxa(id, input);
  return {
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource }] },
    selections: [`${resource.resourceType}/${id}`],
    description: kind === 'glucocorticoid' ? 'Prednisone 10 mg once a day, 90 days with 1 refill (draft)' : 'DXA bone densitometry (draft)',
  };
}
