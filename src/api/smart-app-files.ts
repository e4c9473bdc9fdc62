// Serves the built SMART app (smart-app/, built by `npm run build` into smartApp.dir) at /smart-app/,
// with its config.json made from the service's configuration. When the app was not built the route
// says so instead of answering a bare 404.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import express, { Router } from 'express';
import type { SmartAppSettings } from '../config.js';
import type { SmartAppConfig } from './smart-api-contract.js';

// The app runs only its own bundled scripts; it talks to the EHR's FHIR and authorization servers,
// whose origins are not known here, hence no connect-src restriction.
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src *";

export function smartAppRouter(settings: SmartAppSettings): Router {
  const router = Router();
  const dir = resolve(settings.dir);
  const config: SmartAppConfig = { clientId: settings.clientId, scopes: settings.scopes, apiBase: '../api' };
  router.get('/config.json', (_req, res) => {
    res.set('cache-control', 'no-cache').json(config);
  });
  router.use((_req, res, next) => {
    res.set('content-security-policy', CONTENT_SECURITY_POLICY);
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'no-referrer'); // the app's URL carries the OAuth code on its way back
    next();
  });
  if (existsSync(dir)) {
    router.use(express.static(dir, { index: 'index.html', maxAge: 0, fallthrough: true }));
  }
  router.use((_req, res) => {
    res.status(404).json({ error: { code: 'not-found', message: existsSync(dir) ? 'No such file in the SMART app' : `The SMART app is not built (no ${settings.dir}); run npm run build` } });
  });
  return router;
}
