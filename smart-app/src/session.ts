// What the app takes from a completed SMART launch: the FHIR server, the token, the patient, the
// appContext, whether to show the patient banner, the EHR's style and the granted scopes.
import { canCreateServiceRequest, grantedScopes, needsPatientBanner, parseAppContext, type AppContext } from './context.js';
import type { Client } from './smart.js';

export interface Session {
  serverUrl: string;
  token: string;
  patientId: string | null;
  appContext: AppContext | null;
  needPatientBanner: boolean;
  styleUrl: string | null;
  scopes: string[];
  canOrder: boolean;
}

export function readSession(client: Client): Session {
  const response = client.state.tokenResponse ?? {};
  const scopes = grantedScopes(response.scope ?? client.state.scope);
  const style: unknown = response.smart_style_url;
  return {
    serverUrl: client.state.serverUrl,
    token: typeof response.access_token === 'string' ? response.access_token : '',
    patientId: client.patient.id,
    appContext: parseAppContext(response.appContext),
    needPatientBanner: needsPatientBanner(response.need_patient_banner),
    styleUrl: typeof style === 'string' && /^https?:\/\//i.test(style) ? style : null,
    scopes,
    canOrder: canCreateServiceRequest(scopes),
  };
}
