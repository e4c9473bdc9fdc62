// SMART App Launch scopes as this dev stack understands them: which ones the authorization server grants, and what a
// granted one lets a token do at the dev FHIR server. Shared by both sides so they cannot disagree.

/** OpenID Connect-level scopes: identity (`openid`, `fhirUser`) and launch context (`launch`, `launch/patient`). */
export const OIDC_SCOPES = ['openid', 'fhirUser', 'launch', 'launch/patient'] as const;

/**
 * Resource types in the patient compartment, with the element that names the patient. A patient-context token sees a
 * resource of these types only when that element references its patient.
 */
export const PATIENT_REFERENCE_ELEMENT: Readonly<Record<string, 'subject' | 'patient' | 'beneficiary'>> = {
  AllergyIntolerance: 'patient',
  CarePlan: 'subject',
  Condition: 'subject',
  Coverage: 'beneficiary',
  DiagnosticReport: 'subject',
  DocumentReference: 'subject',
  Encounter: 'subject',
  FamilyMemberHistory: 'patient',
  Goal: 'subject',
  ImagingStudy: 'subject',
  Immunization: 'patient',
  MedicationAdministration: 'subject',
  MedicationDispense: 'subject',
  MedicationRequest: 'subject',
  MedicationStatement: 'subject',
  Observation: 'subject',
  Procedure: 'subject',
  RiskAssessment: 'subject',
  ServiceRequest: 'subject',
};

/** Types outside any patient compartment (directories, catalogues, imaging endpoints): readable with a scope. */
export const SHARED_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Endpoint',
  'Location',
  'Medication',
  'Organization',
  'Practitioner',
  'PractitionerRole',
]);

export type SmartPermission = 'c' | 'r' | 'u' | 'd' | 's';
/** What the dev FHIR server checks: read, search, create. */
export type FhirInteraction = Extract<SmartPermission, 'r' | 's' | 'c'>;

/** SMART v1 permission words and the v2 permissions they stand for. */
const V1_PERMISSIONS: Readonly<Record<string, readonly SmartPermission[]>> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};
/** v2 permissions appear in this order, each at most once (`.rs`, `.cruds`; not `.sr`). */
const V2_PERMISSIONS = /^(c?)(r?)(u?)(d?)(s?)$/;
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)$/;

export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  /** A resource type, or `*` for all. */
  resourceType: string;
  permissions: ReadonlySet<SmartPermission>;
}

/** Parses `patient/Observation.rs` (v2) or `patient/*.read` (v1); undefined for anything else, including granular `?…` scopes. */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const match = RESOURCE_SCOPE.exec(scope);
  if (!match) return undefined;
  const [, context, resourceType, suffix] = match as unknown as [string, ResourceScope['context'], string, string];
  const v1 = V1_PERMISSIONS[suffix];
  if (v1) return { context, resourceType, permissions: new Set(v1) };
  const v2 = V2_PERMISSIONS.exec(suffix);
  if (!v2 || suffix === '') return undefined;
  return { context, resourceType, permissions: new Set(v2.slice(1).filter(Boolean) as SmartPermission[]) };
}

/** Whether patient-level scopes allow `interaction` on `resourceType` (user/ and system/ scopes give nothing here). */
export function scopesAllow(scopes: readonly string[], resourceType: string, interaction: FhirInteraction): boolean {
  return scopes.some((scope) => {
    const parsed = parseResourceScope(scope);
    return (
      parsed?.context === 'patient' &&
      (parsed.resourceType === '*' || parsed.resourceType === resourceType) &&
      parsed.permissions.has(interaction)
    );
  });
}

/**
 * The patient-level resource scopes the server grants, exactly as a client must spell them (oidc-provider matches
 * scope strings literally): every type above and `*`, with the v2 permissions the FHIR server acts on (subsets of
 * `c`, `r`, `s` in order) and the v1 words.
 */
export function supportedResourceScopes(): string[] {
  const types = ['*', 'Patient', ...Object.keys(PATIENT_REFERENCE_ELEMENT), ...SHARED_RESOURCE_TYPES];
  const suffixes = ['c', 'r', 's', 'cr', 'cs', 'rs', 'crs', 'read', 'write', '*'];
  return types.flatMap((type) => suffixes.map((suffix) => `patient/${type}.${suffix}`));
}

const PERMISSION_VERBS: Readonly<Record<SmartPermission, string>> = {
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
};

/** Plain words for the consent page: "read and search all of the patient's records". */
export function describeResourceScope(scope: string): string {
  const parsed = parseResourceScope(scope);
  if (!parsed) return scope;
  const verbs = (['c', 'r', 'u', 'd', 's'] as const).filter((p) => parsed.permissions.has(p)).map((p) => PERMISSION_VERBS[p]);
  const spoken = verbs.length > 1 ? `${verbs.slice(0, -1).join(', ')} and ${verbs.at(-1)}` : (verbs[0] ?? '');
  const what = parsed.resourceType === '*' ? "all of the patient's records" : `the patient's ${parsed.resourceType} resources`;
  return `${spoken.charAt(0).toUpperCase()}${spoken.slice(1)} ${what}`;
}
