// The CDS services this deployment offers: one folder per service (definition + card builder),
// listed here. See README.md beside this file for the contract a service implements.
import type { CdsService } from '../src/cds/service.js';

/** Everything a service may need from the application, passed in rather than imported. */
export type ServiceDeps = Record<string, never>;

export function createServices(_deps: ServiceDeps): CdsService[] {
  return [];
}
