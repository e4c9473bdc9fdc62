// Test-only CDS services that exercise the engine. Nothing here ships: the product's services live in cds-services/.
import type { CdsService } from '../../src/cds/service.js';
import type { PrefetchValue } from '../../src/cds/types.js';

export const TOPIC_SYSTEM = 'urn:test:card-topic';

/** What a handler saw for each prefetch key: 'absent', 'null', or the resource type with its entry count. */
export type PrefetchSeen = Record<string, string>;

function describe(value: PrefetchValue | undefined): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  return value.resourceType === 'Bundle' ? `Bundle:${value.entry?.length ?? 0}` : `${value.resourceType}/${value.id ?? ''}`;
}

/** patient-view service that reports what prefetch it received in a card extension. */
export const echoService: CdsService<'patient-view'> = {
  definition: {
    id: 'test-echo',
    hook: 'patient-view',
    title: 'Test echo',
    description: 'Reports the prefetch it received (test only)',
    prefetch: {
      patient: 'Patient/{{context.patientId}}',
      observations: 'Observation?patient={{context.patientId}}&_count=2',
      user: '{{context.userId}}',
    },
  },
  requiredPrefetch: ['patient'],
  handle({ prefetch }) {
    const seen: PrefetchSeen = Object.fromEntries(['patient', 'observations', 'user'].map((k) => [k, describe(prefetch[k])]));
    return Promise.resolve({
      cards: [
        {
          summary: 'Prefetch received',
          indicator: 'info',
          source: { label: 'Engine test', topic: { system: TOPIC_SYSTEM, code: 'echo', display: 'Echo' } },
          extension: { 'org.example.test.prefetch': seen },
        },
      ],
    });
  },
};

/** order-select service returning a card with suggestions, links and override reasons. */
export const orderService: CdsService<'order-select'> = {
  definition: { id: 'test-orders', hook: 'order-select', description: 'Suggests an order (test only)' },
  handle({ request }) {
    return Promise.resolve({
      cards: [
        {
          summary: `Selected ${request.context.selections.length} order(s)`,
          indicator: 'warning',
          source: { label: 'Engine test', topic: { system: TOPIC_SYSTEM, code: 'orders' } },
          selectionBehavior: 'at-most-one',
          suggestions: [
            {
              label: 'Add a service request',
              isRecommended: true,
              actions: [
                {
                  type: 'create',
                  description: 'Create a draft ServiceRequest',
                  resource: { resourceType: 'ServiceRequest', status: 'draft', intent: 'proposal', subject: { reference: 'Patient/p1' } },
                },
              ],
            },
          ],
          overrideReasons: [{ system: TOPIC_SYSTEM, code: 'not-relevant', display: 'Not relevant' }],
          links: [{ label: 'App', url: 'https://app.test/launch', type: 'smart', appContext: 'x' }],
        },
      ],
    });
  },
};

/** Returns a card that breaks the 2.0.1 rules (empty detail, appContext on an absolute link). */
export const nonConformantService: CdsService<'patient-view'> = {
  definition: { id: 'test-bad-response', hook: 'patient-view', description: 'Returns an invalid response (test only)' },
  handle() {
    return Promise.resolve({
      cards: [
        {
          summary: 'Bad',
          detail: '',
          indicator: 'info',
          source: { label: 'Engine test' },
          links: [{ label: 'x', url: 'https://x.test', type: 'absolute', appContext: 'nope' }],
        },
      ],
    });
  },
};

/** Throws an error whose message must never reach the client. */
export const throwingService: CdsService<'patient-view'> = {
  definition: { id: 'test-throws', hook: 'patient-view', description: 'Throws (test only)' },
  handle() {
    return Promise.reject(new Error('secret internal detail at /srv/app.ts:42'));
  },
};

export const testServices = (): CdsService[] => [
  echoService,
  orderService,
  nonConformantService,
  throwingService,
];
