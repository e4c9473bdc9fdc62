import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Card, CdsResponse } from '../../src/cds/types.js';
import { discoveryProblems, responseProblems } from '../../src/cds/validation.js';

const card = (extra: Partial<Card> = {}): Card => ({ summary: 'Consider DXA', indicator: 'info', source: { label: 'Test' }, ...extra });
const problems = (response: unknown): string[] => responseProblems(response);
const createAction = { type: 'create' as const, description: 'Order DXA', resource: { resourceType: 'ServiceRequest' } } as never;

describe('response checks (schema + 2.0.1 invariants)', () => {
  it('accepts an empty response and a full card', () => {
    assert.deepEqual(problems({ cards: [] }), []);
    const full: CdsResponse = {
      cards: [
        card({
          uuid: crypto.randomUUID(),
          detail: '**Markdown**',
          source: { label: 'Test', url: 'https://x.test', icon: 'https://x.test/i.png', topic: { system: 'urn:x', code: 'c' } },
          selectionBehavior: 'any',
          suggestions: [{ label: 'Order', uuid: crypto.randomUUID(), isRecommended: true, actions: [createAction] }],
          overrideReasons: [{ code: 'no', display: 'Not now' }],
          links: [{ label: 'App', url: 'https://app.test', type: 'smart', appContext: '{"a":1}' }],
        }),
      ],
    };
    assert.deepEqual(problems(full), []);
  });

  const cases: [string, unknown][] = [
    ['missing cards', {}],
    ['null detail (optional fields are omitted, never null)', { cards: [{ ...card(), detail: null }] }],
    ['empty detail', { cards: [card({ detail: '' })] }],
    ['empty links array', { cards: [card({ links: [] })] }],
    ['summary of 140 characters', { cards: [card({ summary: 'x'.repeat(140) })] }],
    ['unknown indicator', { cards: [{ ...card(), indicator: 'hard-stop' }] }],
    ['source without label', { cards: [{ ...card(), source: {} }] }],
    ['override reason without display', { cards: [card({ overrideReasons: [{ code: 'x' }] })] }],
    ['suggestions without selectionBehavior', { cards: [card({ suggestions: [{ label: 'a', actions: [createAction] }] })] }],
    [
      'at-most-one with two recommended suggestions',
      {
        cards: [
          card({
            selectionBehavior: 'at-most-one',
            suggestions: [
              { label: 'a', isRecommended: true, actions: [createAction] },
              { label: 'b', isRecommended: true, actions: [createAction] },
            ],
          }),
        ],
      },
    ],
    [
      'delete action without resourceId',
      { cards: [card({ selectionBehavior: 'any', suggestions: [{ label: 'a', actions: [{ type: 'delete', description: 'x' }] }] })] },
    ],
    [
      'delete action with a resource',
      {
        cards: [
          card({
            selectionBehavior: 'any',
            suggestions: [{ label: 'a', actions: [{ type: 'delete', description: 'x', resourceId: 'ServiceRequest/1', resource: { resourceType: 'ServiceRequest' } } as never] }],
          }),
        ],
      },
    ],
    ['create action without resource', { cards: [card({ selectionBehavior: 'any', suggestions: [{ label: 'a', actions: [{ type: 'create', description: 'x' }] }] })] }],
    ['action without description', { cards: [card({ selectionBehavior: 'any', suggestions: [{ label: 'a', actions: [{ type: 'create', resource: { resourceType: 'ServiceRequest' } } as never] }] })] }],
    ['appContext on an absolute link', { cards: [card({ links: [{ label: 'a', url: 'https://a.test', type: 'absolute', appContext: 'x' }] })] }],
    ['unknown card property', { cards: [{ ...card(), severity: 'high' }] }],
  ];
  for (const [name, response] of cases) {
    it(`refuses ${name}`, () => {
      assert.notDeepEqual(problems(response), []);
    });
  }
});

describe('discovery document check', () => {
  it('accepts a conformant document and refuses one missing description or with an empty prefetch', () => {
    assert.deepEqual(discoveryProblems({ services: [{ id: 'a', hook: 'patient-view', description: 'd' }] }), []);
    assert.notDeepEqual(discoveryProblems({ services: [{ id: 'a', hook: 'patient-view' }] }), []);
    assert.notDeepEqual(discoveryProblems({ services: [{ id: 'a', hook: 'patient-view', description: 'd', prefetch: {} }] }), []);
  });
});
