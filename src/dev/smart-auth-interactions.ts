// Where oidc-provider sends the browser to sign in and consent (`interactions.url`). An EHR launch signs the EHR's
// user in and grants at once (the clinician is already signed in to the EHR); a standalone launch shows one page to
// sign in as the demo user, pick the patient and untick scopes. Either way a fresh grant carries the launch context.
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { renderConsentPage, renderErrorPage } from './smart-auth-page.js';
import type { ConsentPageModel } from './smart-auth-page.js';
import { absoluteFhirUser } from './smart-auth-provider.js';
import type { SmartClient } from './smart-auth-provider.js';
import { describeResourceScope, OIDC_SCOPES } from './smart-auth-scopes.js';
import type { GrantContext, GrantContextStore, LaunchStore } from './smart-auth-state.js';

export interface InteractionSettings {
  provider: Provider;
  fhirBaseUrl: string;
  clients: readonly SmartClient[];
  user: { id: string; fhirUser: string; name?: string };
  patients: () => Promise<Array<{ id: string; name: string }>>;
  launches: LaunchStore;
  grants: GrantContextStore;
  /** smart_style_url for launches that bring none (standalone ones). */
  defaultSmartStyleUrl?: string;
}

/** The authorization request behind an interaction, as far as this server cares. */
interface PendingAuthorization {
  uid: string;
  clientId: string;
  oidcScopes: string[];
  /** Requested resource scopes the client may be granted (others are dropped silently, as SMART allows). */
  resourceScopes: string[];
  launch?: string;
  /** Standalone launch asking for `launch/patient`: the user picks the patient. */
  picksPatient: boolean;
}

const OIDC_SCOPE_SET: ReadonlySet<string> = new Set(OIDC_SCOPES);

function formValues(value: unknown): string[] {
  return [value].flat().filter((item): item is string => typeof item === 'string');
}

export function createInteractionRouter(settings: InteractionSettings): Router {
  const { provider, fhirBaseUrl, user, launches, grants } = settings;
  const clients = new Map(settings.clients.map((client) => [client.clientId, client]));

  async function pendingAuthorization(req: Request, res: Response): Promise<PendingAuthorization> {
    const details = await provider.interactionDetails(req, res);
    // The interaction comes from the cookie; a URL naming another one is a stale or forged page.
    if (details.uid !== req.params.uid) throw new errors.SessionNotFound('interaction does not match this browser session');
    const { client_id: clientId, scope, launch } = details.params;
    const client = typeof clientId === 'string' ? clients.get(clientId) : undefined;
    if (client === undefined) throw new errors.InvalidClient('client not found');
    const requested = typeof scope === 'string' ? scope.split(' ') : [];
    const launchId = typeof launch === 'string' ? launch : undefined;
    return {
      uid: details.uid,
      clientId: client.clientId,
      oidcScopes: requested.filter((s) => OIDC_SCOPE_SET.has(s)),
      resourceScopes: requested.filter((s) => client.resourceScopes.has(s)),
      ...(launchId === undefined ? {} : { launch: launchId }),
      picksPatient: launchId === undefined && requested.includes('launch/patient'),
    };
  }

  /** A new grant per authorization, so that its launch context cannot leak into another one. */
  async function finish(req: Request, res: Response, pending: PendingAuthorization, granted: string[], context: Omit<GrantContext, 'fhirUser'>): Promise<void> {
    const grant = new provider.Grant({ accountId: user.id, clientId: pending.clientId });
    if (pending.oidcScopes.length > 0) grant.addOIDCScope(pending.oidcScopes);
    if (granted.length > 0) grant.addResourceScope(fhirBaseUrl, granted);
    // Denied scopes are recorded as such; else oidc-provider would see them as never asked and prompt again.
    const denied = pending.resourceScopes.filter((s) => !granted.includes(s));
    if (denied.length > 0) grant.rejectResourceScope(fhirBaseUrl, denied);
    const grantId = await grant.save();
    grants.bindGrant(grantId, {
      ...context,
      ...(pending.oidcScopes.includes('fhirUser') ? { fhirUser: absoluteFhirUser(user.fhirUser, fhirBaseUrl) } : {}),
    });
    const result: InteractionResults = { login: { accountId: user.id }, consent: { grantId } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  async function showConsentPage(res: Response, pending: PendingAuthorization, status: number, formError?: string): Promise<void> {
    const model: ConsentPageModel = {
      uid: pending.uid,
      clientId: pending.clientId,
      userName: user.name ?? user.id,
      resourceScopes: pending.resourceScopes.map((scope) => ({ scope, description: describeResourceScope(scope) })),
      ...(pending.oidcScopes.includes('fhirUser') ? { fhirUser: absoluteFhirUser(user.fhirUser, fhirBaseUrl) } : {}),
      ...(pending.picksPatient ? { patients: await settings.patients() } : {}),
      ...(formError === undefined ? {} : { formError }),
    };
    res.status(status).type('html').set('Cache-Control', 'no-store').send(renderConsentPage(model));
  }

  const router = express.Router();

  router.get('/interaction/:uid', async (req, res) => {
    const pending = await pendingAuthorization(req, res);
    if (pending.launch === undefined) return showConsentPage(res, pending, 200);
    const launch = launches.take(pending.launch);
    if (launch === undefined) {
      // Checked at the authorization endpoint, but used up (or expired) since: tell the app, not just the browser.
      const result = { error: 'invalid_request', error_description: 'launch is unknown or has expired' };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    const smartStyleUrl = launch.smartStyleUrl ?? settings.defaultSmartStyleUrl;
    return finish(req, res, pending, pending.resourceScopes, {
      patient: launch.patient,
      needPatientBanner: launch.needPatientBanner ?? true,
      ...(launch.encounter === undefined ? {} : { encounter: launch.encounter }),
      ...(launch.appContext === undefined ? {} : { appContext: launch.appContext }),
      ...(smartStyleUrl === undefined ? {} : { smartStyleUrl }),
    });
  });

  router.post('/interaction/:uid/confirm', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const pending = await pendingAuthorization(req, res);
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (form.action === 'cancel') {
      const result = { error: 'access_denied', error_description: 'the user did not allow the app' };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    if (form.action !== 'allow' || pending.launch !== undefined) throw new errors.InvalidRequest('unexpected form submission');
    let patient: string | undefined;
    if (pending.picksPatient) {
      const [chosen] = formValues(form.patient);
      const known = (await settings.patients()).some((p) => p.id === chosen);
      if (!known || chosen === undefined) return showConsentPage(res, pending, 400, 'Choose one of the listed patients.');
      patient = chosen;
    }
    const ticked = new Set(formValues(form.scope));
    return finish(req, res, pending, pending.resourceScopes.filter((s) => ticked.has(s)), {
      needPatientBanner: true,
      ...(patient === undefined ? {} : { patient }),
      ...(settings.defaultSmartStyleUrl === undefined ? {} : { smartStyleUrl: settings.defaultSmartStyleUrl }),
    });
  });

  // oidc-provider's refusals (expired interaction, wrong cookie) become the error page; anything else is a bug.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof errors.OIDCProviderError)) return next(err);
    res.status(err.status).type('html').send(renderErrorPage(err.error, err.error_description));
  });
  return router;
}
