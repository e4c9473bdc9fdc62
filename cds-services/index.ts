// The CDS services this deployment offers: one folder per service (definition + card choice), the
// card wording they share in shared/, listed here. See README.md beside this file for the contract a
// service implements and how to add one.
import type { Assessor } from '../src/assessment/assessor.js';
import type { CdsService } from '../src/cds/service.js';
import type { Config } from '../src/config.js';
import type { FractureServiceDeps } from './shared/cards-for-outcome.js';
import { patientViewService } from './spine-fracture-risk/service.js';
import { orderSelectService } from './spine-fracture-risk-orders/service.js';

/** Everything a service may need from the application, passed in rather than imported. */
export interface ServiceDeps {
  assessor: Assessor;
  config: Pick<Config, 'assessment' | 'services' | 'smartApp'>;
}

/** The enabled services, each with its own switches. */
export function createServices({ assessor, config }: ServiceDeps): CdsService[] {
  const depsFor = (id: keyof Config['services']): FractureServiceDeps => ({
    assessor,
    assessment: config.assessment,
    switches: config.services[id],
    ...(config.smartApp.launchUrl ? { smartLaunchUrl: config.smartApp.launchUrl } : {}),
  });
  const services: CdsService[] = [];
  if (config.services['spine-fracture-risk'].enabled) services.push(patientViewService(depsFor('spine-fracture-risk')));
  if (config.services['spine-fracture-risk-orders'].enabled) services.push(orderSelectService(depsFor('spine-fracture-risk-orders')));
  return services;
}
