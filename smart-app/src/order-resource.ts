// The DXA order as the app writes it, and the two things it reads back from the launch and the FHIR
// server: who requests it and the id it was given. Pure.
import type { ServiceRequest } from 'fhir/r4.js';

/**
 * The requester from the launch's `fhirUser` (id_token): `Practitioner/123` or
 * `PractitionerRole/123`, relative or as an absolute URL; null for anyone else (a patient, a
 * RelatedPerson) or an unreadable value.
 */
export function requesterFrom(fhirUser: unknown): string | null {
  if (typeof fhirUser !== 'string') return null;
  const m = /(?:^|\/)((?:Practitioner|PractitionerRole)\/[A-Za-z0-9.-]{1,64})$/.exec(fhirUser);
  return m ? (m[1] as string) : null;
}

/** The new resource's id from a Location header (`…/ServiceRequest/123/_history/1`). */
export function idFromLocation(location: string | null): string | undefined {
  return location ? /ServiceRequest\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]*)?\/?$/.exec(location)?.[1] : undefined;
}

/**
 * The order as it is written. It stays a `draft`, as on the card's suggestion: a SMART app cannot
 * sign an order, and the EHR's ordering workflow (signature, duplicate and coverage checks) is what
 * makes it active. The clinician clicking "Order DXA" puts it on their list to sign, no more. The
 * requester is the signed-in user when the launch names a practitioner (the contract leaves it to the app).
 */
export function dxaOrder(draft: ServiceRequest, requester: string | null): ServiceRequest {
  return { ...draft, status: 'draft', ...(requester ? { requester: { reference: requester } } : {}) };
}
