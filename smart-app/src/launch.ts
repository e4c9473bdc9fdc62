// launch.html: loads config.json (SmartAppConfig), then starts the SMART launch. EHR launch when the
// URL has `launch` (+ `iss`); standalone when it has only `iss`. PKCE S256 is required: fhirclient
// refuses a server that does not declare it rather than fall back to a plain code flow.
import type { SmartAppConfig } from '../../src/api/smart-api-contract.js';
import { launchKind, launchScope } from './context.js';
import { launchFailure, failureMessage, type Message } from './messages.js';
import { smartApi } from './smart.js';

function show(message: Message, detail?: string): void {
  const main = document.getElementById('main');
  if (!main) return;
  main.dataset.state = 'error';
  document.getElementById('launch-panel')?.classList.add('state-error');
  const heading = document.getElementById('launch-title');
  const text = document.getElementById('launch-text');
  if (heading) heading.textContent = message.title;
  if (text) text.textContent = detail ? `${message.next} (${detail})` : message.next;
  document.getElementById('launch-spinner')?.remove();
  heading?.focus();
}

async function loadConfig(): Promise<SmartAppConfig> {
  const response = await fetch('config.json', { cache: 'no-store', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`config.json: ${response.status} ${response.statusText}`);
  const config = (await response.json()) as Partial<SmartAppConfig>;
  if (typeof config.clientId !== 'string' || !Array.isArray(config.scopes) || typeof config.apiBase !== 'string') throw new Error('config.json is incomplete');
  return config as SmartAppConfig;
}

async function launch(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const kind = launchKind(params);
  if (kind === null) {
    show({ title: 'This app must be launched from the EHR', next: "Open it from a patient's chart or from the EHR's app list (the launch names the FHIR server).", retry: false });
    return;
  }
  let config: SmartAppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    show(failureMessage('config'), error instanceof Error ? error.message : undefined);
    return;
  }
  try {
    await smartApi().authorize({
      clientId: config.clientId,
      scope: launchScope(config.scopes, kind),
      redirectUri: 'index.html',
      pkceMode: 'required',
      // Complete sign-in in this window, iframe or not (EHRs often embed the app).
      completeInTarget: true,
    });
  } catch (error) {
    show(launchFailure(error instanceof Error ? error.message : String(error)));
  }
}

void launch();
