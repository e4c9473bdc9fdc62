// What the launch gives the app, read defensively: the kind of launch and the scopes to ask for, the
// token response's appContext, the granted scopes and whether they allow creating an order. Pure.

/** The appContext the CDS card's link carries: `{"assessment":"<key>"}` (cds-services/shared/risk-card.ts). */
export interface AppContext {
  assessment: string;
}

const KEY = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The token response's appContext: a JSON string (as the CDS Hooks link sends it) or, from servers
 * that parse it, an object. Missing, malformed, not an object or without a usable key → null, and the
 * app finds the patient's latest assessment instead.
 */
export function parseAppContext(raw: unknown): AppContext | null {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const key = (value as Record<string, unknown>).assessment;
  return typeof key === 'string' && KEY.test(key) ? { assessment: key } : null;
}

/** The granted scopes, from the token response's space-separated `scope`. */
export function grantedScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(/\s+/).filter((s) => s !== '') : [];
}

/**
 * Whether the scopes allow creating a ServiceRequest for the patient: SMART v2 `patient/` or `user/`
 * scopes on ServiceRequest or `*` whose permissions include `c` (`.c`, `.cruds`, `.cud`…), or v1
 * `.write` / `.*`. A v2 scope narrowed by a query (`…c?category=…`) is not counted: the app cannot
 * tell whether its order matches it, so it would rather say it lacks permission than fail.
 */
export function canCreateServiceRequest(scopes: readonly string[]): boolean {
  return scopes.some((scope) => {
    const match = /^(patient|user)\/(ServiceRequest|\*)\.(.+)$/.exec(scope);
    if (!match) return false;
    const permissions = match[3] as string;
    if (permissions === 'write' || permissions === '*') return true;
    return /^c?r?u?d?s?$/.test(permissions) && permissions.includes('c');
  });
}

export type LaunchKind = 'ehr' | 'standalone';

/** EHR launch when the URL carries `launch`; standalone when it names only the server (`iss`); else none. */
export function launchKind(params: { get(name: string): string | null }): LaunchKind | null {
  if (params.get('launch')) return 'ehr';
  if (params.get('iss') || params.get('fhirServiceUrl')) return 'standalone';
  return null;
}

/** The configured scopes plus `launch` (EHR launch) or `launch/patient` (standalone), each once. */
export function launchScope(configured: readonly string[], kind: LaunchKind): string {
  const scopes = configured.filter((s) => s !== 'launch' && s !== 'launch/patient');
  scopes.push(kind === 'ehr' ? 'launch' : 'launch/patient');
  return [...new Set(scopes)].join(' ');
}

/** The banner is shown unless the EHR says it already shows the patient (`need_patient_banner: false`). */
export function needsPatientBanner(value: unknown): boolean {
  return value !== false && value !== 'false';
}
