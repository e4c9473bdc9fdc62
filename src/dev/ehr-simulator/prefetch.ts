// Prefetch as a CDS client fills it (CDS Hooks 2.0.1 §Prefetch): each template of the service's
// discovery entry with its tokens replaced, read from the FHIR server. This client understands the
// two tokens of the hooks it sends (`{{context.patientId}}`, `{{context.userId}}`); a template with
// any other token, or an absolute URL, is left out, and so is a key whose read failed — a missing key
// tells the service to fetch it itself. A read answered 404 is sent as null ("no such data").
import type { FhirResource } from 'fhir/r4.js';

export interface PrefetchContext {
  patientId: string;
  /** e.g. `Practitioner/dr-demo`. */
  userId: string;
}

const TOKEN = /\{\{\s*([^}]*?)\s*\}\}/g;
const KNOWN_TOKENS: Readonly<Record<string, keyof PrefetchContext>> = { 'context.patientId': 'patientId', 'context.userId': 'userId' };

/** The template with its tokens filled, or null when it holds a token this client does not fill (or is not a relative URL). */
export function fillTemplate(template: string, context: PrefetchContext): string | null {
  if (typeof template !== 'string' || template === '' || /^[a-z][a-z0-9+.-]*:/i.test(template) || template.startsWith('/')) return null;
  let unknown = false;
  const filled = template.replace(TOKEN, (_match, name: string) => {
    const field = KNOWN_TOKENS[name];
    if (field === undefined) {
      unknown = true;
      return '';
    }
    return context[field];
  });
  return unknown ? null : filled;
}

/** A read of a filled template: the resource, null when the server has no such resource (404); throws when the read failed. */
export type PrefetchRead = (relativeUrl: string) => Promise<FhirResource | null>;

export interface FilledPrefetch {
  prefetch: Record<string, FhirResource | null>;
  /** Keys left out: a token this client does not fill, or a failed read. */
  unfilled: string[];
}

export async function fillPrefetch(templates: Readonly<Record<string, string>>, context: PrefetchContext, read: PrefetchRead): Promise<FilledPrefetch> {
  // A Map, then own properties: a key such as `__proto__` from the service's discovery stays a plain key.
  const filled = new Map<string, FhirResource | null>();
  const unfilled: string[] = [];
  await Promise.all(
    Object.entries(templates).map(async ([key, template]) => {
      const url = fillTemplate(template, context);
      if (url === null) return void unfilled.push(key);
      try {
        filled.set(key, await read(url));
      } catch {
        unfilled.push(key);
      }
    }),
  );
  return { prefetch: Object.fromEntries(filled), unfilled: unfilled.sort() };
}
