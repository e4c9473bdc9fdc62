// The dev FHIR server behind the SMART authorization server, started together: each needs the other
// (the FHIR server checks tokens with the authorization server's verifier; the authorization server
// issues tokens for the FHIR server's base URL), so the FHIR server starts first with a late binding.
import { startDevFhirServer, type DevFhirAuth, type DevFhirServer, type DevFhirServerOptions } from './fhir-server.js';
import { startSmartAuthServer, type SmartAuthServer, type SmartAuthServerOptions } from './smart-auth-server.js';

export interface SmartFhirOptions {
  fhir?: Omit<DevFhirServerOptions, 'auth'>;
  auth: Omit<SmartAuthServerOptions, 'fhirBaseUrl'>;
}

export interface SmartFhir {
  fhir: DevFhirServer;
  auth: SmartAuthServer;
  close(): Promise<void>;
}

export async function startSmartFhir(options: SmartFhirOptions): Promise<SmartFhir> {
  let auth: SmartAuthServer | undefined;
  const bound = (): SmartAuthServer => {
    if (!auth) throw new Error('the SMART authorization server is not started yet');
    return auth;
  };
  const fhirAuth: DevFhirAuth = {
    verify: (token) => bound().verifyAccessToken(token),
    smartConfiguration: () => bound().smartConfiguration(),
  };
  const fhir = await startDevFhirServer({ ...options.fhir, auth: fhirAuth });
  try {
    auth = await startSmartAuthServer({ ...options.auth, fhirBaseUrl: fhir.baseUrl });
  } catch (error) {
    await fhir.close();
    throw error;
  }
  const started = auth;
  return { fhir, auth: started, close: async () => void (await Promise.all([started.close(), fhir.close()])) };
}
