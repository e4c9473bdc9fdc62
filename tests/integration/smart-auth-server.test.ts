// The SMART authorization server (oidc-provider) in front of the dev FHIR server, both on loopback, driven over HTTP
// the way a browser SMART app (fhirclient) would: EHR and standalone launches, PKCE and request checks, and the FHIR
// server's token checks (401 for no valid token, 403 outside the token's patient or scopes).
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Bundle, CapabilityStatement, Endpoint, ImagingStudy, Observation, OperationOutcome, Patient, Resource, ServiceRequest } from 'fhir/r4.js';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import type { DevFhirServer } from '../../src/dev/fhir-server.js';
import type { SmartAuthServer } from '../../src/dev/smart-auth-server.js';
import { startSmartFhir, type SmartFhirOptions } from '../../src/dev/smart-fhir.js';
import { exchangeCode, smartAuthorize, smartLogin, SmartLoginError } from '../helpers/smart-login.js';
import type { SmartLoginOptions } from '../helpers/smart-login.js';

const CLIENT_ID = 'fracture-risk-app';
const REDIRECT_URI = 'http://127.0.0.1:7357/app/index.html'; // never contacted: the helper stops at the redirect
const EHR_SCOPES = ['openid', 'fhirUser', 'launch', 'patient/*.rs', 'patient/ServiceRequest.c'];
const STANDALONE_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'patient/ServiceRequest.c'];

function observation(id: string, patient: string): Observation {
  return { resourceType: 'Observation', id, status: 'final', code: { text: 'BMD' }, subject: { reference: `Patient/${patient}` } };
}

function imagingStudy(id: string, patient: string): ImagingStudy {
  return { resourceType: 'ImagingStudy', id, status: 'available', subject: { reference: `Patient/${patient}` }, endpoint: [{ reference: 'Endpoint/pacs' }] };
}

const alice: Patient = { resourceType: 'Patient', id: 'alice', name: [{ family: 'Alvarez', given: ['Alice'] }] };
const bob: Patient = { resourceType: 'Patient', id: 'bob', name: [{ family: 'Brown', given: ['Bob'] }] };
const pacs: Endpoint = {
  resourceType: 'Endpoint',
  id: 'pacs',
  status: 'active',
  connectionType: { code: 'dicom-wado-rs' },
  payloadType: [{ text: 'DICOM' }],
  address: 'http://pacs.invalid/dicom-web',
};
const seed: Resource[] = [
  alice,
  bob,
  observation('obs-alice-1', 'alice'),
  observation('obs-alice-2', 'alice'),
  observation('obs-bob-1', 'bob'),
  imagingStudy('img-alice', 'alice'),
  imagingStudy('img-bob', 'bob'),
  pacs,
];

function serviceRequest(patient: string): ServiceRequest {
  return { resourceType: 'ServiceRequest', status: 'draft', intent: 'proposal', subject: { reference: `Patient/${patient}` }, code: { text: 'DXA scan' } };
}

interface Stack {
  fhir: DevFhirServer;
  auth: SmartAuthServer;
  close(): Promise<void>;
}

async function startStack(overrides: Partial<SmartFhirOptions['auth']> = {}): Promise<Stack> {
  return startSmartFhir({
    fhir: { resources: seed },
    auth: {
      clients: [{ clientId: CLIENT_ID, redirectUris: [REDIRECT_URI] }],
      user: { id: 'dr-1', fhirUser: 'Practitioner/dr-1', name: 'Dr. Dana Demo' },
      patients: () => Promise.resolve([{ id: 'alice', name: 'Alice Alvarez' }, { id: 'bob', name: 'Bob Brown' }]),
      ...overrides,
    },
  });
}

async function fhirGet(stack: Stack, path: string, token?: string): Promise<{ status: number; body: Resource; headers: Headers }> {
  const response = await fetch(`${stack.fhir.baseUrl}/${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Resource, headers: response.headers };
}

async function fhirCreate(stack: Stack, resource: Resource, token: string): Promise<{ status: number; body: Resource }> {
  const response = await fetch(`${stack.fhir.baseUrl}/${resource.resourceType}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  return { status: response.status, body: (await response.json()) as Resource };
}

async function assertLoginError(promise: Promise<unknown>, error: string, stage: SmartLoginError['stage']): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SmartLoginError, `expected SmartLoginError, got ${String(err)}`);
    assert.equal(err.error, error, err.message);
    assert.equal(err.stage, stage);
    return true;
  });
}

function entryIds(bundle: Resource): string[] {
  return ((bundle as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();
}

void describe('SMART authorization server + dev FHIR server', () => {
  let stack: Stack;
  let login: (options: Partial<SmartLoginOptions>) => ReturnType<typeof smartLogin>;
  /** A token for Alice from an EHR launch, with every scope the app asks for. */
  let aliceToken: string;

  before(async () => {
    stack = await startStack();
    login = (options) =>
      smartLogin({ fhirBaseUrl: stack.fhir.baseUrl, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: EHR_SCOPES, ...options });
    aliceToken = (await login({ launch: stack.auth.createLaunch({ patient: 'alice' }) })).tokenResponse.access_token;
  });
  after(async () => {
    await stack.close();
  });

  void it('serves .well-known/smart-configuration at the FHIR base without a token, and metadata with the SMART security section', async () => {
    const response = await fetch(`${stack.fhir.baseUrl}/.well-known/smart-configuration`);
    assert.equal(response.status, 200);
    const config = (await response.json()) as Record<string, unknown>;
    assert.equal(config.issuer, stack.auth.issuer);
    assert.equal(config.authorization_endpoint, `${stack.auth.issuer}/auth`);
    assert.equal(config.token_endpoint, `${stack.auth.issuer}/token`);
    assert.deepEqual(config.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(config.token_endpoint_auth_methods_supported, ['none']);
    for (const capability of ['launch-ehr', 'launch-standalone', 'client-public', 'context-ehr-patient', 'context-standalone-patient', 'context-banner', 'context-style', 'permission-patient', 'permission-v2', 'sso-openid-connect']) {
      assert.ok((config.capabilities as string[]).includes(capability), capability);
    }
    assert.ok((config.scopes_supported as string[]).includes('patient/*.rs'));
    const jwks = await fetch(String(config.jwks_uri));
    assert.equal(jwks.status, 200);

    const metadata = await fhirGet(stack, 'metadata');
    assert.equal(metadata.status, 200);
    const oauthUris = (metadata.body as CapabilityStatement).rest?.[0]?.security?.extension?.[0];
    assert.equal(oauthUris?.url, 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    assert.deepEqual(oauthUris.extension?.map((e) => [e.url, e.valueUri]), [
      ['authorize', config.authorization_endpoint],
      ['token', config.token_endpoint],
    ]);
  });

  void it('EHR launch: patient, appContext, banner and style in the token response; fhirUser in a signed id_token', async () => {
    const launch = stack.auth.createLaunch({ patient: 'alice', appContext: 'assessment=abc123', smartStyleUrl: 'https://ehr.example.org/smart-style.json' });
    const { tokenResponse, grantedScopes } = await login({ launch });
    assert.equal(tokenResponse.token_type, 'Bearer');
    assert.equal(tokenResponse.patient, 'alice');
    assert.equal(tokenResponse.appContext, 'assessment=abc123');
    assert.equal(tokenResponse.need_patient_banner, true);
    assert.equal(tokenResponse.smart_style_url, 'https://ehr.example.org/smart-style.json');
    assert.equal(tokenResponse.expires_in, 3600);
    assert.deepEqual(grantedScopes.sort(), [...EHR_SCOPES].sort());

    const config = stack.auth.smartConfiguration();
    const { payload } = await jwtVerify(tokenResponse.id_token ?? '', createRemoteJWKSet(new URL(String(config.jwks_uri))), {
      issuer: stack.auth.issuer,
      audience: CLIENT_ID,
    });
    assert.equal(payload.fhirUser, `${stack.fhir.baseUrl}/Practitioner/dr-1`);

    const accessClaims = decodeJwt(tokenResponse.access_token);
    assert.equal(decodeProtectedHeader(tokenResponse.access_token).typ, 'at+jwt');
    assert.equal(accessClaims.patient, 'alice');
    assert.equal(accessClaims.aud, stack.fhir.baseUrl);
    assert.deepEqual(await stack.auth.verifyAccessToken(tokenResponse.access_token), {
      patient: 'alice',
      scopes: ['patient/*.rs', 'patient/ServiceRequest.c'],
      fhirUser: `${stack.fhir.baseUrl}/Practitioner/dr-1`,
      clientId: CLIENT_ID,
      expiresAt: accessClaims.exp,
    });
  });

  void it('EHR launch through POST /ehr/launch; a launch works once; bad launch bodies get 400', async () => {
    const created = await fetch(`${stack.auth.issuer}/ehr/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patient: 'bob', needPatientBanner: false }),
    });
    assert.equal(created.status, 201);
    const { launch } = (await created.json()) as { launch: string };
    const { tokenResponse } = await login({ launch });
    assert.equal(tokenResponse.patient, 'bob');
    assert.equal(tokenResponse.need_patient_banner, false);
    assert.equal(tokenResponse.appContext, undefined);
    await assertLoginError(login({ launch }), 'invalid_request', 'authorize');

    for (const body of ['{"patient":', '{}', '{"patient":"a b"}', '{"patient":"p","smartStyleUrl":"javascript:x"}', '{"patient":"p","extra":1}']) {
      const response = await fetch(`${stack.auth.issuer}/ehr/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(response.status, 400, body);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
    }
  });

  void it('standalone launch: the user picks the patient and may untick a scope', async () => {
    const { tokenResponse, grantedScopes } = await login({ scopes: STANDALONE_SCOPES, pickPatient: 'bob', denyScopes: ['patient/ServiceRequest.c'] });
    assert.equal(tokenResponse.patient, 'bob');
    assert.equal(tokenResponse.need_patient_banner, true);
    assert.deepEqual(grantedScopes.sort(), ['fhirUser', 'launch/patient', 'openid', 'patient/*.rs']);
    assert.equal(decodeJwt(tokenResponse.access_token).scope, 'patient/*.rs');

    await assertLoginError(login({ scopes: STANDALONE_SCOPES, cancel: true }), 'access_denied', 'authorize');
  });

  void it('requires PKCE with S256 and the matching code_verifier', async () => {
    const launch = (): string => stack.auth.createLaunch({ patient: 'alice' });
    await assertLoginError(login({ launch: launch(), pkce: 'omit' }), 'invalid_request', 'authorize');
    await assertLoginError(login({ launch: launch(), pkce: 'plain' }), 'invalid_request', 'authorize');
    await assertLoginError(login({ launch: launch(), codeVerifierOverride: 'a'.repeat(43) }), 'invalid_grant', 'token');
  });

  void it('refuses a wrong aud, an unknown launch, an unknown redirect_uri and an unknown client', async () => {
    await assertLoginError(login({ launch: stack.auth.createLaunch({ patient: 'alice' }), authorizeParams: { aud: 'http://127.0.0.1:1/fhir/R4' } }), 'invalid_request', 'authorize');
    await assertLoginError(login({ authorizeParams: { aud: undefined }, scopes: STANDALONE_SCOPES, pickPatient: 'alice' }), 'invalid_request', 'authorize');
    await assertLoginError(login({ launch: 'no-such-launch' }), 'invalid_request', 'authorize');
    await assertLoginError(login({ launch: stack.auth.createLaunch({ patient: 'alice' }), redirectUri: 'http://127.0.0.1:7357/evil' }), 'invalid_redirect_uri', 'authorize');
    await assertLoginError(login({ launch: stack.auth.createLaunch({ patient: 'alice' }), clientId: 'stranger' }), 'invalid_client', 'authorize');
  });

  void it('FHIR server: 401 with a Bearer challenge and an OperationOutcome without a valid token', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const realClaims = decodeJwt(aliceToken);
    const forged = await new SignJWT({ ...realClaims })
      .setProtectedHeader({ ...decodeProtectedHeader(aliceToken), alg: 'ES256' })
      .sign(privateKey); // same header and claims, another key
    for (const token of [undefined, 'not-a-jwt', forged]) {
      const { status, body, headers } = await fhirGet(stack, 'Patient/alice', token);
      assert.equal(status, 401, String(token));
      assert.equal(headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.equal(body.resourceType, 'OperationOutcome');
    }
  });

  void it('FHIR server: a token is refused once its grant is revoked (its code used a second time)', async () => {
    const options = { fhirBaseUrl: stack.fhir.baseUrl, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: EHR_SCOPES };
    const authorization = await smartAuthorize({ ...options, launch: stack.auth.createLaunch({ patient: 'alice' }) });
    const { access_token: token } = await exchangeCode(authorization, options);
    assert.equal((await fhirGet(stack, 'Patient/alice', token)).status, 200);
    await assertLoginError(exchangeCode(authorization, options), 'invalid_grant', 'token');
    assert.equal((await fhirGet(stack, 'Patient/alice', token)).status, 401);
  });

  void it("FHIR server: a patient-A token reads A's data and nothing of B's", async () => {
    assert.equal((await fhirGet(stack, 'Patient/alice', aliceToken)).status, 200);
    const observations = await fhirGet(stack, 'Observation?patient=alice', aliceToken);
    assert.equal(observations.status, 200);
    assert.deepEqual(entryIds(observations.body), ['Observation/obs-alice-1', 'Observation/obs-alice-2']);
    assert.equal((await fhirGet(stack, 'Observation?subject=Patient/alice', aliceToken)).status, 200);
    assert.equal((await fhirGet(stack, 'Observation/obs-alice-1', aliceToken)).status, 200);
    const studies = await fhirGet(stack, 'ImagingStudy?patient=alice&_include=ImagingStudy:endpoint', aliceToken);
    assert.equal(studies.status, 200);
    assert.deepEqual(entryIds(studies.body), ['Endpoint/pacs', 'ImagingStudy/img-alice']);
    assert.equal((await fhirGet(stack, 'Endpoint/pacs', aliceToken)).status, 200);

    for (const path of ['Patient/bob', 'Observation?patient=bob', 'Observation?subject=Patient/bob', 'Observation', 'Observation?patient=alice,bob', 'Observation/obs-bob-1', 'ImagingStudy/img-bob', 'Patient?name=Brown', 'Observation/obs-alice-1/_history']) {
      const { status, body } = await fhirGet(stack, path, aliceToken);
      assert.equal(status, 403, path);
      assert.equal((body as OperationOutcome).issue[0]?.code, 'forbidden', path);
    }
    // A reverse include cannot pull in Bob's resources either.
    const widened = await fhirGet(stack, 'Patient?_id=alice&_revinclude=Observation:subject', aliceToken);
    assert.equal(widened.status, 200);
    assert.ok(entryIds(widened.body).every((id) => !id.includes('bob')), entryIds(widened.body).join());
  });

  void it('FHIR server: creating a ServiceRequest needs the .c scope and the token\'s patient', async () => {
    const created = await fhirCreate(stack, serviceRequest('alice'), aliceToken);
    assert.equal(created.status, 201);
    assert.equal((created.body as ServiceRequest).subject.reference, 'Patient/alice');
    assert.equal((await fhirCreate(stack, serviceRequest('bob'), aliceToken)).status, 403);

    const { tokenResponse } = await login({ scopes: STANDALONE_SCOPES, pickPatient: 'alice', denyScopes: ['patient/ServiceRequest.c'] });
    const refused = await fhirCreate(stack, serviceRequest('alice'), tokenResponse.access_token);
    assert.equal(refused.status, 403);
    assert.equal((refused.body as OperationOutcome).issue[0]?.code, 'forbidden');
  });

  void it('CORS: preflights pass without a token, at the FHIR server and the token endpoint', async () => {
    const origin = new URL(REDIRECT_URI).origin;
    const fhirPreflight = await fetch(`${stack.fhir.baseUrl}/Patient/alice`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(fhirPreflight.status, 204);
    assert.match(fhirPreflight.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.equal(fhirPreflight.headers.get('access-control-allow-origin'), '*');

    const tokenPreflight = await fetch(`${stack.auth.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(tokenPreflight.status, 204);

    // The token request itself (form-encoded, so no preflight in a browser) must be readable by the app's origin.
    const authorization = await smartAuthorize({ fhirBaseUrl: stack.fhir.baseUrl, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: EHR_SCOPES, launch: stack.auth.createLaunch({ patient: 'alice' }) });
    const tokenResponse = await fetch(authorization.tokenEndpoint, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: authorization.code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: authorization.codeVerifier }).toString(),
    });
    assert.equal(tokenResponse.status, 200);
    assert.equal(tokenResponse.headers.get('access-control-allow-origin'), origin);
  });
});

void describe('SMART access token expiry', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ accessTokenTtlSeconds: 2 });
  });
  after(async () => {
    await stack.close();
  });

  void it('FHIR server: 401 once the access token has expired', async () => {
    const { tokenResponse } = await smartLogin({
      fhirBaseUrl: stack.fhir.baseUrl,
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      scopes: EHR_SCOPES,
      launch: stack.auth.createLaunch({ patient: 'alice' }),
    });
    assert.equal(tokenResponse.expires_in, 2);
    assert.equal((await fhirGet(stack, 'Patient/alice', tokenResponse.access_token)).status, 200);
    await delay(2100);
    const { status, headers } = await fhirGet(stack, 'Patient/alice', tokenResponse.access_token);
    assert.equal(status, 401);
    assert.equal(headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });
});
