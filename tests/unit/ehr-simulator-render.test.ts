// The EHR simulator's pure parts: card markdown to HTML (safe by construction, before DOMPurify runs in
// the browser), what the page shows of a card (indicator words, which URLs may be followed, order),
// dates in words, and prefetch templates as a client fills them. The browser side is driven in
// tests/e2e/ehr-simulator.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Card } from '../../src/cds/types.js';
import type { CardEntry } from '../../src/dev/ehr-simulator/api-contract.js';
import { byUrgency, formatDate, indicatorOf, linksOf, sourceLink, suggestionKey } from '../../src/dev/ehr-simulator/page/card-view.js';
import { markdownToHtml, safeUrl } from '../../src/dev/ehr-simulator/page/markdown.js';
import { fillPrefetch, fillTemplate } from '../../src/dev/ehr-simulator/prefetch.js';

const card = (overrides: Partial<Card> = {}): Card => ({ summary: 'A card', indicator: 'info', source: { label: 'Source' }, ...overrides });
const entry = (key: string, indicator: Card['indicator']): CardEntry => ({ key, serviceId: 's', hasUuid: true, card: card({ indicator }) });

describe('card markdown to HTML', () => {
  it('renders GitHub-flavoured markdown: tables, emphasis, lists, block quotes', () => {
    const html = markdownToHtml('> **Demo model.** Not for use.\n\n| Within | 1 year |\n|---|---|\n| Risk | 7.8% |\n\n- one\n- two');
    assert.match(html, /<blockquote>\s*<p><strong>Demo model\.<\/strong> Not for use\.<\/p>/);
    assert.match(html, /<table>[\s\S]*<th>Within<\/th>[\s\S]*<td>7\.8%<\/td>[\s\S]*<\/table>/);
    assert.match(html, /<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
  });

  it('shows raw HTML as text, block and inline', () => {
    const html = markdownToHtml('<script>alert(1)</script>\n\nText with <img src=x onerror="alert(2)"> inline and <b onclick="x()">bold</b>.');
    assert.doesNotMatch(html, /<script|<img|<b /);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=&quot;alert\(2\)&quot;&gt;/);
  });

  it('keeps only http(s) and mailto links, opened in a new tab without opener or referrer', () => {
    const html = markdownToHtml('[a](javascript:alert(1)) [b](https://example.org/x?q="1") [c](mailto:team@example.org) [d](data:text/html,hi) [e](/relative)');
    assert.doesNotMatch(html, /javascript:|data:|href="\/relative"/);
    assert.match(html, /<a href="https:\/\/example\.org\/x\?q=%221%22" target="_blank" rel="noopener noreferrer">b<\/a>/);
    assert.match(html, /<a href="mailto:team@example\.org"/);
    assert.match(html, /^<p>a <a/);
  });

  it('turns images into their alt text: no remote loads from a card', () => {
    assert.equal(markdownToHtml('![tracker](https://tracker.example/p.png)').trim(), '<p>[image: tracker]</p>');
    assert.equal(markdownToHtml('![](https://tracker.example/p.png)').trim(), '<p></p>');
  });

  it('escapes what it writes into attributes', () => {
    const html = markdownToHtml('[x](https://example.org "a\\" onmouseover=\\"y")');
    assert.doesNotMatch(html, /" onmouseover="/);
    assert.equal(safeUrl(' https://example.org/a '), 'https://example.org/a');
    assert.equal(safeUrl('JAVASCRIPT:alert(1)'), null);
    assert.equal(safeUrl(undefined), null);
  });
});

describe('what the page shows of a card', () => {
  it('says every indicator in words and with a symbol, never colour alone', () => {
    assert.deepEqual(indicatorOf(card({ indicator: 'critical' })), { indicator: 'critical', word: 'Critical', symbol: '!' });
    assert.equal(indicatorOf(card({ indicator: 'warning' })).word, 'Warning');
    assert.equal(indicatorOf(card({ indicator: 'bogus' as Card['indicator'] })).word, 'Info');
  });

  it('puts the most urgent cards first, keeping the services’ order otherwise', () => {
    const ordered = byUrgency([entry('a', 'info'), entry('b', 'critical'), entry('c', 'warning'), entry('d', 'critical')]);
    assert.deepEqual(
      ordered.map((e) => e.key),
      ['b', 'd', 'c', 'a'],
    );
  });

  it('links the source and absolute links only to web addresses; smart links are launched, not followed', () => {
    assert.deepEqual(sourceLink(card({ source: { label: 'Model card', url: 'https://cds.example/models/x' } })), { label: 'Model card', url: 'https://cds.example/models/x' });
    assert.equal(sourceLink(card({ source: { label: 'x', url: 'javascript:alert(1)' } })).url, null);
    assert.equal(sourceLink(card({ source: { label: 'x', url: 'mailto:a@b.c' } })).url, null);
    const links = linksOf(
      card({
        links: [
          { label: 'App', url: 'https://ehr.example/launch.html', type: 'smart', appContext: '{"a":1}' },
          { label: 'Guideline', url: 'https://example.org/guideline', type: 'absolute' },
          { label: 'Bad', url: 'javascript:alert(1)', type: 'absolute' },
        ],
      }),
    );
    assert.deepEqual(
      links.map((l) => [l.kind, l.href]),
      [
        ['smart', 'https://ehr.example/launch.html'],
        ['absolute', 'https://example.org/guideline'],
        ['absolute', null],
      ],
    );
    assert.equal(suggestionKey('5d0f2c9e-0000-4000-8000-000000000000', 3), '5d0f2c9e-0000-4000-8000-000000000000');
    assert.equal(suggestionKey(undefined, 3), '#3');
  });

  it('writes dates as the cards do, from the date as recorded (no time-zone shift)', () => {
    assert.equal(formatDate('2026-09-23'), '23 Sept 2026');
    assert.equal(formatDate('2025-12-21T23:30:00-05:00'), '21 Dec 2025');
    assert.equal(formatDate('2024-03'), 'Mar 2024');
    assert.equal(formatDate('2024'), '2024');
    assert.equal(formatDate('yesterday'), 'yesterday');
    assert.equal(formatDate(undefined), '');
  });
});

describe('prefetch templates as this client fills them', () => {
  const context = { patientId: 'p-1', userId: 'Practitioner/dr-1' };

  it('fills the context tokens it knows and refuses templates with others', () => {
    assert.equal(fillTemplate('Patient/{{context.patientId}}', context), 'Patient/p-1');
    assert.equal(fillTemplate('Observation?patient={{ context.patientId }}&performer={{context.userId}}', context), 'Observation?patient=p-1&performer=Practitioner/dr-1');
    assert.equal(fillTemplate('Encounter/{{context.encounterId}}', context), null);
    assert.equal(fillTemplate('Observation?date=gt{{today() - 90 days}}', context), null);
    assert.equal(fillTemplate('https://other.example/Patient/{{context.patientId}}', context), null);
  });

  it('sends 404 as null, leaves out failed reads and unfillable keys, and keeps odd keys as plain keys', async () => {
    const filled = await fillPrefetch(
      // As parsed from a discovery document: `__proto__` is an own key there.
      Object.fromEntries([
        ['patient', 'Patient/{{context.patientId}}'],
        ['gone', 'Observation/{{context.patientId}}-x'],
        ['broken', 'Condition?patient={{context.patientId}}'],
        ['encounter', 'Encounter/{{context.encounterId}}'],
        ['__proto__', 'Patient/{{context.patientId}}'],
      ]),
      context,
      (url) => {
        if (url.startsWith('Observation/')) return Promise.resolve(null);
        if (url.startsWith('Condition')) return Promise.reject(new Error('HTTP 500'));
        return Promise.resolve({ resourceType: 'Patient', id: 'p-1' });
      },
    );
    assert.deepEqual(filled.unfilled, ['broken', 'encounter']);
    assert.equal(filled.prefetch.gone, null);
    assert.deepEqual(filled.prefetch.patient, { resourceType: 'Patient', id: 'p-1' });
    assert.equal(Object.getPrototypeOf(filled.prefetch), Object.prototype, 'the prototype is untouched');
    assert.ok(Object.hasOwn(filled.prefetch, '__proto__'));
  });
});
