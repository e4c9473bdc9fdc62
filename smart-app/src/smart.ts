// fhirclient's SMART API, built from its browser adapter directly. The package's browser entry also
// loads `cross-fetch` and an AbortController polyfill for old browsers (about 6 KB gzip) that every
// browser this app supports has natively; the build defines FHIRCLIENT_PURE (fhirclient's own switch
// for its "pure" build) so its library code uses the native fetch too, and swaps its `debug` logger
// for a no-op (smart-app/build.ts), so no token response can be logged even with localStorage.debug set.
import * as adapterModule from 'fhirclient/lib/adapters/BrowserAdapter.js';
import type Client from 'fhirclient/lib/Client.js';
import type { fhirclient } from 'fhirclient/lib/types.js';

export type { Client, fhirclient };

type AdapterClass = typeof adapterModule.default;

// The adapter is CommonJS with `exports.default`. In a "type": "module" package esbuild follows
// Node and hands over the whole `module.exports` as the default import; other tools hand over
// `exports.default`. Either way, this is the class.
const imported = adapterModule.default as AdapterClass | { default: AdapterClass };
const BrowserAdapter: AdapterClass = 'default' in imported ? imported.default : imported;

export function smartApi(): fhirclient.SMART {
  return new BrowserAdapter().getSmartApi();
}
