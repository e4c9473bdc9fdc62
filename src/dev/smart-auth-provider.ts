// oidc-provider configured as a SMART App Launch 2.x authorization server: public clients with PKCE S256, `aud` and
// `launch` checked at the authorization endpoint, JWT access tokens for the one FHIR server it protects, and the launch
// context (patient, banner, style, appContext) added to the access token and the token response.
import { randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type { Configuration, JWK, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import { createMemoryAdapter } from './smart-auth-adapter.js';
import { renderErrorPage } from './smart-auth-page.js';
import { OIDC_SCOPES } from './smart-auth-scopes.js';
import type { GrantContextStore, LaunchStore } from './smart-auth-state.js';

export const AUTHORIZATION_CODE_TTL_SECONDS = 60;
export const INTERACTION_TTL_SECONDS = 10 * 60;
const SESSION_TTL_SECONDS = 60 * 60;
const ID_TOKEN_TTL_SECONDS = 60 * 60;
export const SIGNING_ALG = 'ES256';

/** oidc-provider's default routes, named here because the SMART configuration document advertises them. */
export const ROUTES = { authorization: '/auth', token: '/token', jwks: '/jwks' } as const;

export interface SmartClient {
  clientId: string;
  redirectUris: string[];
  /** OIDC-level scopes this client may ask for; undefined: all. */
  oidcScopes?: readonly string[];
  /** Resource scopes this client may be granted. */
  resourceScopes: ReadonlySet<string>;
}

export interface SmartProviderSettings {
  issuer: string;
  fhirBaseUrl: string;
  clients: readonly SmartClient[];
  user: { id: string; fhirUser: string; name?: string };
  /** Private signing key (with `kid` and `alg`), for id tokens and access tokens. */
  signingKey: JWK;
  accessTokenTtlSeconds: number;
  launches: LaunchStore;
  grants: GrantContextStore;
}

/** The FHIR server's base URL as SMART clients send it in `aud` (with or without a trailing slash). */
export function sameBaseUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** The user's FHIR resource as an absolute URL, as SMART wants the `fhirUser` claim. */
export function absoluteFhirUser(fhirUser: string, fhirBaseUrl: string): string {
  return URL.canParse(fhirUser) ? fhirUser : `${fhirBaseUrl.replace(/\/+$/, '')}/${fhirUser}`;
}

/**
 * Every authorization goes through our interaction, even when the browser already has a session and a grant: that is
 * where the launch (or the user's patient choice) is bound to a fresh grant. oidc-provider would otherwise reuse the
 * previous grant, and with it the previous patient.
 */
function smartInteractionPolicy(): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('consent')?.checks.add(
    new interactionPolicy.Check('smart_launch_context', 'each SMART authorization binds its own launch context', (ctx) =>
      ctx.oidc.result?.consent ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
  );
  return policy;
}

export function createSmartProvider(settings: SmartProviderSettings): Provider {
  const { fhirBaseUrl, user, accessTokenTtlSeconds, launches, grants } = settings;
  const clients = new Map(settings.clients.map((client) => [client.clientId, client]));

  const resourceServer = (clientId: string): ResourceServer => ({
    scope: [...(clients.get(clientId)?.resourceScopes ?? [])].join(' '),
    audience: fhirBaseUrl,
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtlSeconds,
    jwt: { sign: { alg: SIGNING_ALG } },
  });

  const configuration: Configuration = {
    adapter: createMemoryAdapter(),
    clients: settings.clients.map((client) => ({
      client_id: client.clientId,
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: SIGNING_ALG,
      ...(client.oidcScopes ? { scope: client.oidcScopes.join(' ') } : {}),
    })),
    responseTypes: ['code'],
    jwks: { keys: [settings.signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: [...OIDC_SCOPES],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'] },
    pkce: { required: () => true },
    extraParams: {
      // SMART: the app names the FHIR server it wants a token for, and the server must refuse one it does not protect.
      aud(_ctx, value) {
        if (value === undefined || !sameBaseUrl(value, fhirBaseUrl)) {
          throw new errors.InvalidRequest(`aud must be the FHIR server this server authorizes for (${fhirBaseUrl})`);
        }
      },
      launch(_ctx, value) {
        if (value !== undefined && !launches.has(value)) throw new errors.InvalidRequest('launch is unknown or has expired');
      },
    },
    features: {
      devInteractions: { enabled: false },
      // SMART apps learn the user from the id_token's fhirUser claim; there is no userinfo endpoint to point tokens at.
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // SMART clients send `aud`, not `resource`: every authorization is for the one FHIR server.
        defaultResource: () => fhirBaseUrl,
        // fhirclient sends no `resource` at the token endpoint either.
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator, client) {
          if (!sameBaseUrl(indicator, fhirBaseUrl)) throw new errors.InvalidTarget(`only ${fhirBaseUrl} is served`);
          return resourceServer(client.clientId);
        },
      },
    },
    extraTokenClaims(_ctx, token) {
      const context = 'grantId' in token && typeof token.grantId === 'string' ? grants.contextOf(token.grantId) : undefined;
      if (!context) return undefined;
      return {
        ...(context.patient === undefined ? {} : { patient: context.patient }),
        ...(context.fhirUser === undefined ? {} : { fhirUser: context.fhirUser }),
      };
    },
    findAccount(_ctx, sub) {
      if (sub !== user.id) return undefined;
      return {
        accountId: user.id,
        claims: () => ({ sub: user.id, fhirUser: absoluteFhirUser(user.fhirUser, fhirBaseUrl) }),
      };
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: smartInteractionPolicy(),
    },
    // Browser apps call the token endpoint cross-origin: allow the origins of the client's own redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out.error, out.error_description);
    },
    ttl: {
      AccessToken: accessTokenTtlSeconds,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      IdToken: ID_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: SESSION_TTL_SECONDS,
      // A grant must outlive everything issued under it: revocation is checked as "its grant still exists".
      Grant: INTERACTION_TTL_SECONDS + AUTHORIZATION_CODE_TTL_SECONDS + accessTokenTtlSeconds,
    },
  };

  const provider = new Provider(settings.issuer, configuration);
  // JWT access tokens are not stored; remember which grant issued each, to refuse it once that grant is revoked.
  provider.on('access_token.issued', (token) => grants.bindToken(token.jti, token.grantId));
  provider.use(addLaunchContextToTokenResponse(grants));
  return provider;
}

/** SMART puts the launch context beside the token: a post-middleware on the token route is oidc-provider's way. */
function addLaunchContextToTokenResponse(grants: GrantContextStore) {
  return async (koaCtx: unknown, next: () => Promise<void>): Promise<void> => {
    await next();
    const ctx = koaCtx as Partial<KoaContextWithOIDC>;
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    const code = ctx.oidc.entities.AuthorizationCode;
    if (typeof body?.access_token !== 'string' || code?.grantId === undefined) return;
    const context = grants.contextOf(code.grantId);
    ctx.body = {
      ...body,
      // oidc-provider reports only the access token's (resource) scopes; SMART apps expect every granted scope.
      ...(code.scope === undefined ? {} : { scope: code.scope }),
      ...(context?.patient === undefined ? {} : { patient: context.patient }),
      ...(context?.encounter === undefined ? {} : { encounter: context.encounter }),
      ...(context === undefined ? {} : { need_patient_banner: context.needPatientBanner }),
      ...(context?.smartStyleUrl === undefined ? {} : { smart_style_url: context.smartStyleUrl }),
      ...(context?.appContext === undefined ? {} : { appContext: context.appContext }),
    };
  };
}
