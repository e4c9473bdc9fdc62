// The SMART state that oidc-provider has no place for: launches the EHR registered and apps have not used yet, the
// launch context each grant was given (its models only keep their own fields), and which grant issued each access
// token (JWT access tokens are not stored by oidc-provider, and revocation is decided per grant).
import { randomBytes } from 'node:crypto';

/** Launch context as the EHR gives it (the public `SmartLaunchContext`). */
export interface LaunchContext {
  patient: string;
  appContext?: string;
  needPatientBanner?: boolean;
  smartStyleUrl?: string;
  encounter?: string;
}

/** What an authorization ended with: the context that goes into its token responses and access tokens. */
export interface GrantContext {
  patient?: string;
  encounter?: string;
  appContext?: string;
  needPatientBanner: boolean;
  smartStyleUrl?: string;
  /** Absolute URL of the user's FHIR resource, when the `fhirUser` scope was granted. */
  fhirUser?: string;
}

/** A launch context that is not one: the message names the offending field. */
export class LaunchContextError extends TypeError {
  override readonly name = 'LaunchContextError';
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_APP_CONTEXT_LENGTH = 8192;
const LAUNCH_CONTEXT_FIELDS: ReadonlySet<string> = new Set(['patient', 'appContext', 'needPatientBanner', 'smartStyleUrl', 'encounter']);

function isHttpUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:');
}

/** Validates untrusted input (a JSON body or a caller's object) as a launch context; throws LaunchContextError. */
export function parseLaunchContext(input: unknown, name = 'context'): LaunchContext {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new LaunchContextError(`${name} must be an object`);
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !LAUNCH_CONTEXT_FIELDS.has(key));
  if (unknown.length > 0) throw new LaunchContextError(`${name} has unknown fields: ${unknown.join(', ')}`);
  const { patient, appContext, needPatientBanner, smartStyleUrl, encounter } = record;
  if (typeof patient !== 'string' || !FHIR_ID.test(patient)) throw new LaunchContextError(`${name}.patient must be a FHIR id`);
  const context: LaunchContext = { patient };
  if (appContext !== undefined) {
    if (typeof appContext !== 'string' || appContext.length === 0 || appContext.length > MAX_APP_CONTEXT_LENGTH) {
      throw new LaunchContextError(`${name}.appContext must be a non-empty string of at most ${MAX_APP_CONTEXT_LENGTH} characters`);
    }
    context.appContext = appContext;
  }
  if (needPatientBanner !== undefined) {
    if (typeof needPatientBanner !== 'boolean') throw new LaunchContextError(`${name}.needPatientBanner must be a boolean`);
    context.needPatientBanner = needPatientBanner;
  }
  if (smartStyleUrl !== undefined) {
    if (typeof smartStyleUrl !== 'string' || !isHttpUrl(smartStyleUrl)) throw new LaunchContextError(`${name}.smartStyleUrl must be an http(s) URL`);
    context.smartStyleUrl = smartStyleUrl;
  }
  if (encounter !== undefined) {
    if (typeof encounter !== 'string' || !FHIR_ID.test(encounter)) throw new LaunchContextError(`${name}.encounter must be a FHIR id`);
    context.encounter = encounter;
  }
  return context;
}

/** A map whose entries vanish after their time to live; expired entries are swept as new ones arrive. */
class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly now: () => number) {}

  set(key: string, value: V, ttlMs: number): void {
    const now = this.now();
    for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export const LAUNCH_TTL_SECONDS = 10 * 60;

/** Launch ids: random, bound to nothing but their context, used once, gone after ten minutes. */
export class LaunchStore {
  private readonly launches: ExpiringMap<LaunchContext>;

  constructor(now: () => number = Date.now) {
    this.launches = new ExpiringMap(now);
  }

  create(context: LaunchContext): string {
    const id = randomBytes(18).toString('base64url');
    this.launches.set(id, context, LAUNCH_TTL_SECONDS * 1000);
    return id;
  }

  /** Checks a `launch` parameter without using it up (the authorization may still fail before its interaction). */
  has(id: string): boolean {
    return this.launches.get(id) !== undefined;
  }

  /** Uses the launch up: a second authorization with the same id is refused. */
  take(id: string): LaunchContext | undefined {
    const context = this.launches.get(id);
    this.launches.delete(id);
    return context;
  }
}

/** The launch context of each grant and the grant behind each access token, kept as long as the tokens can live. */
export class GrantContextStore {
  private readonly contexts: ExpiringMap<GrantContext>;
  private readonly tokenGrants: ExpiringMap<string>;

  constructor(
    private readonly ttlSeconds: number,
    now: () => number = Date.now,
  ) {
    this.contexts = new ExpiringMap(now);
    this.tokenGrants = new ExpiringMap(now);
  }

  bindGrant(grantId: string, context: GrantContext): void {
    this.contexts.set(grantId, context, this.ttlSeconds * 1000);
  }

  contextOf(grantId: string): GrantContext | undefined {
    return this.contexts.get(grantId);
  }

  bindToken(jti: string, grantId: string): void {
    this.tokenGrants.set(jti, grantId, this.ttlSeconds * 1000);
  }

  grantOfToken(jti: string): string | undefined {
    return this.tokenGrants.get(jti);
  }
}
