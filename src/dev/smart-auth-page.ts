// The authorization server's two HTML pages: the standalone-launch sign-in/consent page and the error page.
// Plain, escaped, labelled HTML; browser tests and tests/helpers/smart-login.ts drive it by these stable names:
//
//   consent page (GET /interaction/<uid>)
//     form#smart-consent                 method=post, action=/interaction/<uid>/confirm
//     p#signed-in-user                   "Sign in as <name> (demo user)"
//     fieldset#patient-picker            only when the app asked for `launch/patient`
//       input[type=radio][name=patient]  value = Patient id; ids patient-0, patient-1, … in list order; required
//     p#no-patients                      instead of the radios when there is no patient to pick
//     fieldset#scope-choices             one checkbox per resource scope the app asked for (checked)
//       input[type=checkbox][name=scope] value = the scope string; ids scope-0, scope-1, … in request order
//     button#allow                       name=action value=allow
//     button#cancel                      name=action value=cancel (formnovalidate) → access_denied to the app
//     p#form-error                       role=alert, when the page is shown again after a bad submission
//
//   error page (any status ≥ 400)
//     code#error                         the OAuth error code, e.g. invalid_request
//     p#error-description                its description

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}fieldset{margin:1rem 0}
label{margin-left:.4rem}code{font-size:.9em}#form-error{color:#a00}button{margin-right:.5rem;padding:.4rem 1rem}</style>
</head>
<body>
<main>
${main}
</main>
</body>
</html>`;
}

export function renderErrorPage(error: string, description: string | undefined): string {
  return page(
    'Authorization error',
    `<h1>Authorization error</h1>
<p>Error: <code id="error">${escapeHtml(error)}</code></p>
<p id="error-description">${escapeHtml(description ?? '')}</p>`,
  );
}

export interface ConsentPageModel {
  uid: string;
  clientId: string;
  userName: string;
  /** Absolute URL of the user's FHIR resource, shown when the app asked for `fhirUser`. */
  fhirUser?: string;
  /** Patients to pick from; undefined when the app did not ask for `launch/patient`. */
  patients?: ReadonlyArray<{ id: string; name: string }>;
  resourceScopes: ReadonlyArray<{ scope: string; description: string }>;
  formError?: string;
}

function patientPicker(patients: ConsentPageModel['patients']): string {
  if (patients === undefined) return '';
  const choices =
    patients.length === 0
      ? '<p id="no-patients">There is no patient to choose from.</p>'
      : patients
          .map(
            (patient, i) =>
              `<div><input type="radio" id="patient-${i}" name="patient" value="${escapeHtml(patient.id)}" required>` +
              `<label for="patient-${i}">${escapeHtml(patient.name)} <small>(Patient/${escapeHtml(patient.id)})</small></label></div>`,
          )
          .join('\n');
  return `<fieldset id="patient-picker">
<legend>Choose the patient the app may see</legend>
${choices}
</fieldset>`;
}

function scopeChoices(scopes: ConsentPageModel['resourceScopes']): string {
  if (scopes.length === 0) return '';
  const choices = scopes
    .map(
      ({ scope, description }, i) =>
        `<div><input type="checkbox" id="scope-${i}" name="scope" value="${escapeHtml(scope)}" checked>` +
        `<label for="scope-${i}">${escapeHtml(description)} <code>${escapeHtml(scope)}</code></label></div>`,
    )
    .join('\n');
  return `<fieldset id="scope-choices">
<legend>The app asks to</legend>
${choices}
</fieldset>`;
}

export function renderConsentPage(model: ConsentPageModel): string {
  const identity = model.fhirUser === undefined ? '' : `<p>The app will learn who you are: <code>${escapeHtml(model.fhirUser)}</code>.</p>`;
  const formError = model.formError === undefined ? '' : `<p id="form-error" role="alert">${escapeHtml(model.formError)}</p>`;
  const canAllow = model.patients === undefined || model.patients.length > 0;
  return page(
    `Authorize ${model.clientId}`,
    `<h1>Authorize <code>${escapeHtml(model.clientId)}</code></h1>
${formError}
<form id="smart-consent" method="post" action="/interaction/${encodeURIComponent(model.uid)}/confirm">
<p id="signed-in-user">Sign in as <strong>${escapeHtml(model.userName)}</strong> (demo user)</p>
${identity}
${patientPicker(model.patients)}
${scopeChoices(model.resourceScopes)}
<button type="submit" id="allow" name="action" value="allow"${canAllow ? '' : ' disabled'}>Allow</button>
<button type="submit" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}
