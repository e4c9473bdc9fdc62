// A programmatic SMART App Launch client for tests: the authorization-code + PKCE flow over HTTP with fetch, as a
// browser running fhirclient would do it (discovery at <fhir base>/.well-known/smart-configuration, redirects followed
// by hand, cookies kept, the standalone consent page filled in and submitted), returning the token response.
// It drives the dev authorization server's page by the names documented in src/dev/smart-auth-page.ts.
import { createHash, randomBytes } from 'node:crypto';

export interface SmartLoginOptions {
  fhirBaseUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** EHR launch: the `launch` id the EHR created. */
  launch?: string;
  /** Standalone launch with `launch/patient`: the Patient id to pick on the consent page. */
  pickPatient?: string;
  /** Scopes to untick on the consent page. */
  denyScopes?: string[];
  /** Press Cancel on the consent page instead of Allow. */
  cancel?: boolean;
  /** Send this code_verifier to the token endpoint instead of the right one. */
  codeVerifierOverride?: string;
  /** How to send PKCE; default S256 ('omit' sends no code_challenge). */
  pkce?: 'S256' | 'plain' | 'omit';
  /** Authorization request parameters to add or replace (e.g. a wrong `aud`); undefined removes one. */
  authorizeParams?: Record<string, string | undefined>;
}

export interface SmartTokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  id_token?: string;
  patient?: string;
  encounter?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  appContext?: string;
  [key: string]: unknown;
}

export interface SmartLoginResult {
  tokenResponse: SmartTokenResponse;
  grantedScopes: string[];
}

/** The flow ended with an OAuth error: at the authorization endpoint (redirect or error page) or the token endpoint. */
export class SmartLoginError extends Error {
  override readonly name = 'SmartLoginError';
  constructor(
    readonly error: string,
    readonly errorDescription: string | undefined,
    readonly stage: 'authorize' | 'token',
  ) {
    super(`${stage}: ${error}${errorDescription ? ` (${errorDescription})` : ''}`);
  }
}

export interface AuthorizationResult {
  code: string;
  codeVerifier: string;
  tokenEndpoint: string;
}

/** Cookies by name: every request goes to one loopback host, so path and domain can be ignored. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') <= Date.now());
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text: string): string => text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => HTML_ENTITIES[e] ?? e);

function attribute(tag: string, name: string): string | undefined {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  return value === undefined ? undefined : unescapeHtml(value);
}

function inputsNamed(html: string, name: string): string[] {
  return [...html.matchAll(/<input\b[^>]*>/g)]
    .map(([tag]) => tag)
    .filter((tag) => attribute(tag, 'name') === name)
    .map((tag) => attribute(tag, 'value') ?? '');
}

function errorFromPage(html: string, status: number): SmartLoginError {
  const error = /id="error">([^<]*)</.exec(html)?.[1];
  const description = /id="error-description">([^<]*)</.exec(html)?.[1];
  return new SmartLoginError(unescapeHtml(error ?? `http_${status}`), description === undefined ? undefined : unescapeHtml(description), 'authorize');
}

/** The consent page as a user would answer it: the form's fields after picking the patient and unticking scopes. */
function answerConsentPage(html: string, options: SmartLoginOptions): { action: string; form: URLSearchParams } {
  const formTag = /<form\b[^>]*id="smart-consent"[^>]*>/.exec(html)?.[0];
  const action = formTag && attribute(formTag, 'action');
  if (!action) throw new Error('smartLogin: the consent page has no form#smart-consent');
  const form = new URLSearchParams();
  if (options.cancel) {
    form.set('action', 'cancel');
    return { action, form };
  }
  form.set('action', 'allow');
  const patients = inputsNamed(html, 'patient');
  if (patients.length > 0) {
    if (options.pickPatient === undefined) throw new Error(`smartLogin: the consent page asks for a patient (${patients.join(', ')}); pass pickPatient`);
    form.set('patient', options.pickPatient);
  }
  const denied = new Set(options.denyScopes ?? []);
  for (const scope of inputsNamed(html, 'scope')) if (!denied.has(scope)) form.append('scope', scope);
  return { action, form };
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Discovery, then the authorization request through to the redirect back to the app; returns the code. */
export async function smartAuthorize(options: SmartLoginOptions): Promise<AuthorizationResult> {
  const discovery = await fetch(`${options.fhirBaseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`);
  if (!discovery.ok) throw new Error(`smartLogin: smart-configuration answered ${discovery.status}`);
  const config = (await discovery.json()) as { authorization_endpoint: string; token_endpoint: string };

  const codeVerifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: options.clientId,
    scope: options.scopes.join(' '),
    redirect_uri: options.redirectUri,
    state,
    aud: options.fhirBaseUrl,
    launch: options.launch,
  };
  const pkce = options.pkce ?? 'S256';
  if (pkce === 'S256') Object.assign(params, { code_challenge: base64url(createHash('sha256').update(codeVerifier).digest()), code_challenge_method: 'S256' });
  if (pkce === 'plain') Object.assign(params, { code_challenge: codeVerifier, code_challenge_method: 'plain' });
  Object.assign(params, options.authorizeParams);
  const authorizeUrl = new URL(config.authorization_endpoint);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) authorizeUrl.searchParams.set(name, value);

  const jar = new CookieJar();
  let request: { url: string; method?: 'POST'; body?: string } = { url: authorizeUrl.href };
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { cookie: jar.header() };
    if (request.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(request.url, { method: request.method ?? 'GET', body: request.body, headers, redirect: 'manual' });
    jar.store(response.headers);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, request.url);
      if (`${next.origin}${next.pathname}` === options.redirectUri.split('?')[0]) {
        const error = next.searchParams.get('error');
        if (error) throw new SmartLoginError(error, next.searchParams.get('error_description') ?? undefined, 'authorize');
        if (next.searchParams.get('state') !== state) throw new Error('smartLogin: state mismatch in the redirect');
        const code = next.searchParams.get('code');
        if (!code) throw new Error('smartLogin: redirect without code or error');
        return { code, codeVerifier, tokenEndpoint: config.token_endpoint };
      }
      request = { url: next.href };
      continue;
    }
    const html = await response.text();
    if (response.status >= 400) throw errorFromPage(html, response.status);
    const { action, form } = answerConsentPage(html, options);
    request = { url: new URL(action, request.url).href, method: 'POST', body: form.toString() };
  }
  throw new Error('smartLogin: too many redirects');
}

/** The token request of a public client: code, redirect_uri, client_id and code_verifier. */
export async function exchangeCode(
  authorization: AuthorizationResult,
  options: Pick<SmartLoginOptions, 'clientId' | 'redirectUri' | 'codeVerifierOverride'>,
): Promise<SmartTokenResponse> {
  const response = await fetch(authorization.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: authorization.code,
      redirect_uri: options.redirectUri,
      client_id: options.clientId,
      code_verifier: options.codeVerifierOverride ?? authorization.codeVerifier,
    }).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    throw new SmartLoginError(typeof body.error === 'string' ? body.error : `http_${response.status}`, description, 'token');
  }
  return body as SmartTokenResponse;
}

/** The whole flow: authorize (through the consent page when there is one) and exchange the code. */
export async function smartLogin(options: SmartLoginOptions): Promise<SmartLoginResult> {
  const tokenResponse = await exchangeCode(await smartAuthorize(options), options);
  return { tokenResponse, grantedScopes: tokenResponse.scope.split(' ').filter(Boolean) };
}
