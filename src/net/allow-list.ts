// Comparing a URL that came from outside (a hook's `fhirServer`, an ImagingStudy's Endpoint.address,
// a `next` link) with the configured allow-list. The WHATWG URL parser, which undici also uses to
// connect, rewrites many spellings of a host or path (`0x7f.1`, `2130706433` and `127.0.0.1.` all
// become 127.0.0.1; `/fhir/../admin` becomes `/admin`). Those spellings are refused outright instead of
// being compared after rewriting: no EHR or PACS has a reason to send them, they are the classic ways
// round address filters, and other parsers on the path (proxies, log readers) need not agree with
// WHATWG's. Only the equivalences of RFC 3986 §6.2.2-6.2.3 are accepted: case of scheme and host,
// a default port written out, and trailing slashes.

/** scheme://authority path [?query] [#fragment], read without interpretation. */
const RAW_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#\\]*)([^?#]*)(?:\?[^#]*)?(?:#.*)?$/;

/** Host and port exactly as written in an authority without user info. */
function splitAuthority(authority: string): { host: string; port: string } | undefined {
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(authority);
  return match ? { host: match[1] ?? '', port: match[2] ?? '' } : undefined;
}

/**
 * Canonical form for comparing base URLs (`scheme://host[:port]/path`, no trailing slash; query and
 * fragment dropped), or undefined when the URL is not http(s), carries credentials, or spells its
 * host, port or path in a form the parser would rewrite.
 */
export function normalizeBaseUrl(url: string): string | undefined {
  const raw = RAW_URL.exec(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!raw || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) return undefined;
  const authority = splitAuthority(raw[2] ?? '');
  if (!authority || authority.host.toLowerCase() !== parsed.hostname) return undefined;
  const defaultPort = parsed.protocol === 'https:' ? 443 : 80;
  if (authority.port !== '' && Number(authority.port) !== Number(parsed.port || defaultPort)) return undefined;
  const path = raw[3] ?? '';
  if (path !== parsed.pathname && !(path === '' && parsed.pathname === '/')) return undefined;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * True when an absolute URL (as the parser resolves it, which is what a request would reach) is the
 * normalised `base` itself or lies below its path, with no credentials.
 */
export function isUnderBase(url: string | URL, base: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const path = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  return !parsed.username && !parsed.password && (path === base || path.startsWith(`${base}/`));
}

export interface AllowListEntry {
  baseUrl: string;
  allowInsecureHttp: boolean;
}

/** Configured base URLs by canonical form; `http:` entries count only when explicitly allowed. */
export class BaseUrlAllowList<T extends AllowListEntry> {
  private readonly entries = new Map<string, T>();

  constructor(entries: readonly T[]) {
    for (const entry of entries) {
      const normalized = normalizeBaseUrl(entry.baseUrl);
      if (normalized !== undefined && (normalized.startsWith('https:') || entry.allowInsecureHttp)) this.entries.set(normalized, entry);
    }
  }

  /** The entry a URL from outside matches exactly (after normalising), with the canonical base URL to use. */
  match(url: string): { baseUrl: string; entry: T } | undefined {
    const baseUrl = normalizeBaseUrl(url);
    const entry = baseUrl === undefined ? undefined : this.entries.get(baseUrl);
    return baseUrl === undefined || entry === undefined ? undefined : { baseUrl, entry };
  }
}
