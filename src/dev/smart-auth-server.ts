// A SMART App Launch 2.x authorization server for tests and the local demo, in front of the dev FHIR server:
// oidc-provider (see smart-auth-provider.ts) behind express, plus the EHR's launch-context store and the token check
// the FHIR server calls. Loopback http only; one demo user; state in memory.
//
//   GET  /auth, POST /token, GET /jwks      oidc-provider (advertised by smartConfiguration())
//   GET  /interaction/:uid, POST …/confirm    sign-in and consent (smart-auth-interactions.ts, page ids in smart-auth-page.ts)
//   POST /ehr/launch                          JSON SmartLaunchContext → { "launch": "<id>" } (for an EHR in another process)
// and, in process only, issueAccessToken(): the EHR's own token service (its backend's FHIR access, and the
// `fhirAuthorization` it hands a CDS service).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { createInteractionRouter } from './smart-auth-interactions.js';
import { AUTHORIZATION_CODE_TTL_SECONDS, createSmartProvider, INTERACTION_TTL_SECONDS, ROUTES, SIGNING_ALG } from './smart-auth-provider.js';
import type { SmartClient } from './smart-auth-provider.js';
import { OIDC_SCOPES, supportedResourceScopes } from './smart-auth-scopes.js';
import { GrantContextStore, LaunchContextError, LaunchStore, parseLaunchContext } from './smart-auth-state.js';

export interface SmartLaunchContext {
  /** Patient id. */
  patient: string;
  /** Opaque string from a CDS card link, returned as `appContext` in the token response. */
  appContext?: string;
  /** Default true. */
  needPatientBanner?: boolean;
  smartStyleUrl?: string;
  encounter?: string;
}

export interface SmartAuthServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** The FHIR server it protects: the `aud` it accepts and the audience of its access tokens. */
  fhirBaseUrl: string;
  /** `scope`: the scopes the client may be granted, space-separated; default all supported. */
  clients: Array<{ clientId: string; redirectUris: string[]; scope?: string }>;
  /** The signed-in clinician; `fhirUser` e.g. 'Practitioner/dr-1' (the id_token carries it as an absolute URL). */
  user: { id: string; fhirUser: string; name?: string };
  /** For the standalone patient picker. */
  patients: () => Promise<Array<{ id: string; name: string }>>;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** smart_style_url for launches that bring none (standalone launches); default none. */
  smartStyleUrl?: string;
}

export interface AccessGrant {
  patient?: string;
  scopes: string[];
  /** Absolute URL of the user's FHIR resource, when the `fhirUser` scope was granted. */
  fhirUser?: string;
  clientId: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** What the EHR asks its token service for (issueAccessToken). */
export interface AccessTokenRequest {
  /** A client registered with this server (options.clients): the token's `client_id`. */
  clientId: string;
  /** The patient the token is for: its `patient` claim, and the only compartment it reaches at the FHIR server. */
  patient: string;
  /** Resource scopes the client may be granted, spelled as the server supports them (e.g. `patient/*.rs`). */
  scopes: readonly string[];
}

/** An access token as a token response carries it (and as CDS Hooks `fhirAuthorization` wants its fields). */
export interface IssuedAccessToken {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  /** The granted scopes, space-separated. */
  scope: string;
}

export interface SmartAuthServer {
  /** e.g. http://127.0.0.1:PORT */
  readonly issuer: string;
  /** The document to serve at <fhir base>/.well-known/smart-configuration. */
  smartConfiguration(): Record<string, unknown>;
  /** EHR side: stores the context and returns the opaque `launch` value to put in the app's launch URL. */
  createLaunch(context: SmartLaunchContext): string;
  /** Checks an access token (signature/format, expiry, audience = fhirBaseUrl, not revoked); null when invalid. */
  verifyAccessToken(token: string): Promise<AccessGrant | null>;
  /**
   * The EHR's token service, for its own backend and for the `fhirAuthorization` it gives a CDS service: an access
   * token for one patient with the given resource scopes, minted by oidc-provider's own Grant and AccessToken models
   * with the server's signing key. It is the same JWT as the authorization-code flow gives (`at+jwt`, audience the
   * FHIR server, the `patient` claim, `sub` the signed-in user), bound to a grant of its own, so verifyAccessToken and
   * the FHIR server's checks treat it exactly like one. In process only: no HTTP endpoint issues these (the EHR is
   * trusted; apps still go through /auth). Throws TypeError/RangeError for a bad request.
   */
  issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken>;
  close(): Promise<void>;
}

const CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'client-public',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'context-banner',
  'context-style',
  'permission-patient',
  'permission-v2',
  'permission-v1',
  'sso-openid-connect',
];

function isHttpUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:');
}

/** Validates the clients at the boundary and splits each one's allowed scopes into OIDC and resource scopes. */
function smartClients(clients: SmartAuthServerOptions['clients']): SmartClient[] {
  if (!Array.isArray(clients) || clients.length === 0) throw new TypeError('options.clients must list at least one client');
  const supportedResource = supportedResourceScopes();
  const oidc: ReadonlySet<string> = new Set(OIDC_SCOPES);
  const resource: ReadonlySet<string> = new Set(supportedResource);
  return clients.map((client, i) => {
    if (typeof client.clientId !== 'string' || client.clientId === '') throw new TypeError(`options.clients[${i}].clientId must be a non-empty string`);
    if (!Array.isArray(client.redirectUris) || client.redirectUris.length === 0 || !client.redirectUris.every(isHttpUrl)) {
      throw new TypeError(`options.clients[${i}].redirectUris must list http(s) URLs`);
    }
    if (client.scope === undefined) return { clientId: client.clientId, redirectUris: client.redirectUris, resourceScopes: resource };
    const allowed = client.scope.split(' ').filter(Boolean);
    const unsupported = allowed.filter((s) => !oidc.has(s) && !resource.has(s));
    if (unsupported.length > 0) throw new RangeError(`options.clients[${i}].scope has scopes this server does not support: ${unsupported.join(' ')}`);
    return {
      clientId: client.clientId,
      redirectUris: client.redirectUris,
      oidcScopes: allowed.filter((s) => oidc.has(s)),
      resourceScopes: new Set(allowed.filter((s) => resource.has(s))),
    };
  });
}

function validateOptions(options: SmartAuthServerOptions): number {
  if (typeof options.fhirBaseUrl !== 'string' || !isHttpUrl(options.fhirBaseUrl)) throw new TypeError('options.fhirBaseUrl must be an http(s) URL');
  if (typeof options.user?.id !== 'string' || typeof options.user.fhirUser !== 'string') throw new TypeError('options.user needs id and fhirUser');
  if (typeof options.patients !== 'function') throw new TypeError('options.patients must be a function');
  if (options.smartStyleUrl !== undefined && !isHttpUrl(options.smartStyleUrl)) throw new TypeError('options.smartStyleUrl must be an http(s) URL');
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new RangeError('options.accessTokenTtlSeconds must be a positive integer');
  return ttl;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('SMART auth server: not listening on TCP');
  return address.port;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Validates an issueAccessToken request against the registered clients; the client and its de-duplicated scopes. */
function tokenRequestOf(request: AccessTokenRequest, clients: ReadonlyMap<string, SmartClient>): { client: SmartClient; patient: string; scopes: string[] } {
  if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
  const { clientId, patient, scopes } = request;
  const client = typeof clientId === 'string' ? clients.get(clientId) : undefined;
  if (client === undefined) throw new RangeError('request.clientId must name a client registered with this server');
  if (typeof patient !== 'string' || !FHIR_ID.test(patient)) throw new TypeError('request.patient must be a FHIR id');
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string')) {
    throw new TypeError('request.scopes must list at least one scope');
  }
  const refused = scopes.filter((s) => !client.resourceScopes.has(s));
  if (refused.length > 0) throw new RangeError(`request.scopes has scopes client ${client.clientId} may not be granted: ${refused.join(' ')}`);
  return { client, patient, scopes: [...new Set(scopes)] };
}

function grantFromClaims(payload: JWTPayload): AccessGrant | null {
  const { patient, scope, fhirUser, client_id: clientId, exp } = payload;
  if (typeof clientId !== 'string' || typeof exp !== 'number') return null;
  return {
    ...(typeof patient === 'string' ? { patient } : {}),
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
    ...(typeof fhirUser === 'string' ? { fhirUser } : {}),
    clientId,
    expiresAt: exp,
  };
}

export async function startSmartAuthServer(options: SmartAuthServerOptions): Promise<SmartAuthServer> {
  const accessTokenTtlSeconds = validateOptions(options);
  const clients = smartClients(options.clients);
  const { fhirBaseUrl } = options;
  const host = options.host ?? '127.0.0.1';

  // A fresh key per start: tokens from another run (or another server) never verify.
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomUUID();
  const signingKey = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG, use: 'sig' };
  const publicKeys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' }] });

  // The issuer names the port, so listen first and attach the app once the provider exists.
  const server = createServer();
  const port = await listen(server, options.port ?? 0, host);
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const launches = new LaunchStore();
  const grants = new GrantContextStore(INTERACTION_TTL_SECONDS + AUTHORIZATION_CODE_TTL_SECONDS + accessTokenTtlSeconds);
  const provider = createSmartProvider({ issuer, fhirBaseUrl, clients, user: options.user, signingKey, accessTokenTtlSeconds, launches, grants });

  const app = express();
  app.disable('x-powered-by');
  app.post('/ehr/launch', express.json({ limit: '16kb' }), (req: Request, res: Response) => {
    res.status(201).json({ launch: launches.create(parseLaunchContext(req.body, 'body')) });
  });
  app.use('/ehr', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const parseFailed = typeof err === 'object' && err !== null && 'status' in err && err.status === 400;
    if (!(err instanceof LaunchContextError) && !parseFailed) return next(err);
    res.status(400).json({ error: 'invalid_request', error_description: err instanceof Error ? err.message : 'bad request' });
  });
  app.use(
    createInteractionRouter({
      provider,
      fhirBaseUrl,
      clients,
      user: options.user,
      patients: options.patients,
      launches,
      grants,
      ...(options.smartStyleUrl === undefined ? {} : { defaultSmartStyleUrl: options.smartStyleUrl }),
    }),
  );
  app.use(provider.callback());
  server.on('request', app);

  const smartConfiguration = (): Record<string, unknown> => ({
    issuer,
    authorization_endpoint: `${issuer}${ROUTES.authorization}`,
    token_endpoint: `${issuer}${ROUTES.token}`,
    jwks_uri: `${issuer}${ROUTES.jwks}`,
    grant_types_supported: ['authorization_code'],
    response_types_supported: ['code'],
    // SMART lets this list be partial: the identity and launch scopes, and the all-types resource scopes.
    scopes_supported: [...OIDC_SCOPES, ...supportedResourceScopes().filter((s) => s.startsWith('patient/*.'))],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    capabilities: CAPABILITIES,
  });

  async function verifyAccessToken(token: string): Promise<AccessGrant | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, publicKeys, { issuer, audience: fhirBaseUrl, typ: 'at+jwt', algorithms: [SIGNING_ALG] }));
    } catch {
      return null; // forged, expired, for another audience, or not a JWT at all
    }
    // Revoked: the grant behind the token is gone (e.g. its authorization code was used twice).
    const grantId = typeof payload.jti === 'string' ? grants.grantOfToken(payload.jti) : undefined;
    if (grantId === undefined || (await provider.Grant.find(grantId)) === undefined) return null;
    return grantFromClaims(payload);
  }

  const clientsById = new Map(clients.map((client) => [client.clientId, client]));
  async function issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const { client, patient, scopes } = tokenRequestOf(request, clientsById);
    const registered = await provider.Client.find(client.clientId);
    if (registered === undefined) throw new RangeError('request.clientId must name a client registered with this server');
    // A grant of its own, as an authorization ends with: its context gives the token its `patient` claim
    // (extraTokenClaims), and revoking it revokes the token (verifyAccessToken looks the grant up).
    const grant = new provider.Grant({ accountId: options.user.id, clientId: client.clientId });
    grant.addResourceScope(fhirBaseUrl, scopes);
    const grantId = await grant.save();
    grants.bindGrant(grantId, { patient, needPatientBanner: true });
    // The resource server the provider's resourceIndicators.getResourceServerInfo gives every client (smart-auth-provider.ts).
    const resourceServer = new provider.ResourceServer(fhirBaseUrl, {
      scope: [...client.resourceScopes].join(' '),
      audience: fhirBaseUrl,
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTokenTtlSeconds,
      jwt: { sign: { alg: SIGNING_ALG } },
    });
    const token = new provider.AccessToken({ accountId: options.user.id, client: registered, grantId, gty: 'ehr_token_service', resourceServer });
    token.scope = grant.getResourceScopeFiltered(fhirBaseUrl, scopes);
    // Saving signs the JWT and emits access_token.issued, which binds its jti to the grant (smart-auth-provider.ts).
    const accessToken = await token.save();
    return { access_token: accessToken, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  }

  let closing: Promise<void> | undefined;
  return {
    issuer,
    smartConfiguration,
    createLaunch: (context) => launches.create(parseLaunchContext(context)),
    verifyAccessToken,
    issueAccessToken,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}
