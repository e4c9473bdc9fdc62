// The SMART app's pure modules: how it rounds and words risks, samples the step curves for its data
// tables and hazard view, reads the launch (appContext, scopes) and words reasons and failures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { percent as cardPercent } from '../../cds-services/shared/wording.js';
import { horizonRisks, survivalAt, survivalCurves, type Baseline } from '../../src/model/survival.js';
import { canCreateServiceRequest, grantedScopes, launchKind, launchScope, needsPatientBanner, parseAppContext } from '../../smart-app/src/context.js';
import {
  day,
  factorModelText,
  factorSourceText,
  factorStatusText,
  factorValueText,
  hazardText,
  horizonRows,
  NOT_ESTIMATED,
  percent,
  stepValueAt,
  survivalPercent,
  yearlyHazard,
  yearlySamples,
  yearlyTimes,
} from '../../smart-app/src/format.js';
import { failureMessage, launchFailure, reasonMessage } from '../../smart-app/src/messages.js';
import { dxaOrder, idFromLocation, requesterFrom } from '../../smart-app/src/order-resource.js';
import { contrast, parseHex, smartStyleVariables } from '../../smart-app/src/style-vars.js';
import { chartToggles, Latest, WHAT_IF_FACTORS, whatIfRequest } from '../../smart-app/src/what-if.js';

const card = JSON.parse(readFileSync(new URL('../../models/spine-deepsurv-demo/model-card.json', import.meta.url), 'utf8')) as {
  baseline: Baseline;
  horizons: number[];
  riskBands: { bands: { below?: number }[] };
};
const gridEnd = card.baseline.times[card.baseline.times.length - 1] as number;

describe('percent (the cards’ rule)', () => {
  it('is the same function of the risk as the cards', () => {
    for (let i = 0; i <= 2000; i++) {
      const fraction = i / 2000 + 1e-7 * (i % 7);
      assert.equal(percent(fraction), cardPercent(fraction));
    }
  });

  it('never rounds a risk up across a band threshold', () => {
    const thresholds = card.riskBands.bands.flatMap((b) => (b.below === undefined ? [] : [b.below]));
    assert.deepEqual(thresholds, [0.03, 0.1]);
    for (const threshold of thresholds) {
      for (const below of [threshold - 1e-9, threshold - 1e-6, threshold - 0.0004, threshold * 0.999]) {
        const shown = Number.parseFloat(percent(below)) / 100;
        assert.ok(shown < threshold, `${below} shown as ${percent(below)} reaches ${threshold}`);
      }
      assert.equal(Number.parseFloat(percent(threshold)) / 100, threshold);
    }
    assert.equal(percent(0.0999999), '9.9%');
    assert.equal(percent(0.0299999), '2.9%');
    assert.equal(percent(0.1), '10%');
  });

  it('keeps one decimal below 10 % and none above; tiny risks read <0.1%', () => {
    assert.equal(percent(0.032), '3.2%');
    assert.equal(percent(0.141), '14%');
    assert.equal(percent(0.29), '29%');
    assert.equal(percent(0.0004), '<0.1%');
    assert.equal(percent(0), '0.0%');
  });

  it('gives fracture-free survival as the complement of the risk as shown', () => {
    assert.equal(survivalPercent(0.0214), '97.9%');
    assert.equal(survivalPercent(0.407), '60%');
    assert.equal(survivalPercent(0.0004), '>99.9%');
    assert.equal(survivalPercent(0), '100%');
    for (const risk of [0.013, 0.05, 0.0999, 0.25, 0.5]) {
      assert.equal(Number.parseFloat(percent(risk)) + Number.parseFloat(survivalPercent(risk)), 100);
    }
  });
});

describe('horizon rows', () => {
  it('gives risk and survival where the grid reaches and "not estimated" past it', () => {
    const rows = horizonRows(horizonRisks(card.baseline, 0.3, [1, 5, 15]));
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((r) => r.label),
      ['1 year', '5 years', '15 years'],
    );
    const five = rows[1]!;
    const risk = 1 - (survivalAt(card.baseline, 0.3, 5) as number);
    assert.equal(five.risk, percent(risk));
    assert.equal(five.survival, survivalPercent(risk));
    assert.equal(five.note, null);
    assert.deepEqual(rows[2], { horizon: 15, label: '15 years', risk: null, survival: null, note: NOT_ESTIMATED });
  });
});

describe('sampling the step curves', () => {
  const times = [0, 0.5, 1.2, 2, 3.5];
  const values = [0, 0.1, 0.2, 0.3, 0.4];

  it('takes the value at the last grid time ≤ t', () => {
    assert.equal(stepValueAt(times, values, 0), 0);
    assert.equal(stepValueAt(times, values, 0.49), 0);
    assert.equal(stepValueAt(times, values, 0.5), 0.1);
    assert.equal(stepValueAt(times, values, 1.99), 0.2);
    assert.equal(stepValueAt(times, values, 2), 0.3);
    assert.equal(stepValueAt(times, values, 3.5), 0.4);
  });

  it('gives nothing past the grid end, before it or for a non-number', () => {
    assert.equal(stepValueAt(times, values, 3.5001), null);
    assert.equal(stepValueAt(times, values, -0.1), null);
    assert.equal(stepValueAt(times, values, Number.NaN), null);
    assert.equal(stepValueAt([], [], 1), null);
  });

  it('samples whole years up to the grid end, never past it', () => {
    assert.deepEqual(yearlyTimes(9.9151), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(yearlyTimes(10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(yearlyTimes(0.8), []);
    const curves = survivalCurves(card.baseline, 0.2);
    const samples = yearlySamples(curves);
    assert.deepEqual(
      samples.map((s) => s.t),
      yearlyTimes(gridEnd),
    );
    for (const s of samples) {
      const survival = survivalAt(card.baseline, 0.2, s.t) as number;
      assert.ok(Math.abs(s.survival - survival) < 1e-12);
      assert.ok(Math.abs(s.risk - (1 - survival)) < 1e-12);
    }
  });
});

describe('the yearly hazard', () => {
  it('spreads the whole cumulative hazard over yearly bins ending at the grid end', () => {
    const g = 0.4;
    const curves = survivalCurves(card.baseline, g);
    const bins = yearlyHazard(curves);
    assert.equal(bins[0]!.start, 0);
    assert.equal(bins[bins.length - 1]!.end, gridEnd);
    for (let i = 1; i < bins.length; i++) assert.equal(bins[i]!.start, bins[i - 1]!.end);
    const total = bins.reduce((sum, b) => sum + b.rate * (b.end - b.start), 0);
    const h0 = card.baseline.cumulativeHazard[card.baseline.cumulativeHazard.length - 1] as number;
    assert.ok(Math.abs(total - h0 * Math.exp(g)) < 1e-9);
    assert.ok(bins.every((b) => b.rate >= 0));
  });

  it('counts each increment in the bin holding its interval end, and merges a short last part-year', () => {
    const hazard = [
      { start: 0, end: 0.5, increment: 0.01, rate: 0.02 },
      { start: 0.5, end: 1, increment: 0.02, rate: 0.04 },
      { start: 1, end: 1.6, increment: 0.03, rate: 0.05 },
      { start: 1.6, end: 2.2, increment: 0.06, rate: 0.1 },
    ];
    const bins = yearlyHazard({ hazard });
    assert.deepEqual(
      bins.map((b) => [b.start, b.end]),
      [
        [0, 1],
        [1, 2.2],
      ],
    );
    assert.ok(Math.abs(bins[0]!.rate - 0.03) < 1e-12);
    assert.ok(Math.abs(bins[1]!.rate - 0.09 / 1.2) < 1e-12);
    assert.deepEqual(yearlyHazard({ hazard: [] }), []);
  });

  it('words a rate as a percentage per year', () => {
    assert.equal(hazardText(0.0042), '0.42% per year');
    assert.equal(hazardText(0.023), '2.3% per year');
    assert.equal(hazardText(0.153), '15% per year');
    assert.equal(hazardText(0), '0% per year');
    assert.equal(hazardText(Number.NaN), '–');
  });
});

describe('risk factors', () => {
  it('formats values with their units', () => {
    assert.equal(factorValueText({ name: 'priorFragilityFracture', value: true }), 'Yes');
    assert.equal(factorValueText({ name: 'alcohol', value: false }), 'No');
    assert.equal(factorValueText({ name: 'glucocorticoids', value: null }), 'Not recorded');
    assert.equal(factorValueText({ name: 'age', value: 64.9 }), '64 years');
    assert.equal(factorValueText({ name: 'sex', value: 'female' }), 'Female');
    assert.equal(factorValueText({ name: 'weightKg', value: 57.64 }), '57.6 kg');
    assert.equal(factorValueText({ name: 'heightCm', value: 161.2 }), '161 cm');
    assert.equal(factorValueText({ name: 'bmi', value: 22.25 }), '22.3 kg/m²');
    assert.equal(factorValueText({ name: 'femoralNeckTScore', value: -2.54 }), '-2.5');
  });

  it('says how each was found, where from, and what the model did with it', () => {
    assert.equal(factorStatusText({ status: 'missing' }), 'Missing');
    assert.equal(factorStatusText({ status: 'inferred' }), 'Inferred');
    assert.equal(factorStatusText({ status: 'found', overridden: true }), 'Set for this assessment');
    assert.equal(factorSourceText({ status: 'found', sources: ['Observation/1', 'Observation/2'], date: '2025-12-21' }), 'Observation/1, Observation/2 · 21 Dec 2025');
    assert.equal(factorSourceText({ status: 'inferred', sources: ['Condition/3'], note: 'from the condition text' }), 'Condition/3 · from the condition text');
    assert.equal(factorSourceText({ status: 'missing', sources: [] }), '—');
    assert.equal(factorModelText({ name: 'alcohol', model: { value: 0, imputed: true } }), 'Counted as no');
    assert.equal(factorModelText({ name: 'bmi', model: { value: 0, imputed: true } }), "Model's default used");
    assert.equal(factorModelText({ name: 'bmi', model: { value: -0.5, imputed: false } }), 'Used');
    assert.equal(factorModelText({ name: 'weightKg' }), 'Not used');
    assert.equal(day('2026-03-02'), '2 Mar 2026');
    assert.equal(day('not a date'), 'not a date');
  });
});

describe('the launch', () => {
  it('reads appContext when valid and ignores it otherwise', () => {
    assert.deepEqual(parseAppContext('{"assessment":"13754aa0ea6845213c38006995bbde7f97e2d8e4"}'), { assessment: '13754aa0ea6845213c38006995bbde7f97e2d8e4' });
    assert.deepEqual(parseAppContext({ assessment: 'abc-1.2_3' }), { assessment: 'abc-1.2_3' });
    assert.equal(parseAppContext(undefined), null);
    assert.equal(parseAppContext(''), null);
    assert.equal(parseAppContext('{"assessment":'), null);
    assert.equal(parseAppContext('not json'), null);
    assert.equal(parseAppContext('["assessment"]'), null);
    assert.equal(parseAppContext('42'), null);
    assert.equal(parseAppContext('null'), null);
    assert.equal(parseAppContext('{"other":"x"}'), null);
    assert.equal(parseAppContext('{"assessment":7}'), null);
    assert.equal(parseAppContext('{"assessment":"../../etc"}'), null);
    assert.equal(parseAppContext({ assessment: 'x'.repeat(129) }), null);
  });

  it('allows ordering only with a create permission on ServiceRequest', () => {
    const can = (scope: string): boolean => canCreateServiceRequest(grantedScopes(scope));
    assert.ok(can('openid patient/ServiceRequest.c'));
    assert.ok(can('patient/ServiceRequest.cruds'));
    assert.ok(can('patient/ServiceRequest.cu'));
    assert.ok(can('patient/*.c'));
    assert.ok(can('patient/*.cruds'));
    assert.ok(can('user/ServiceRequest.c'));
    assert.ok(can('patient/ServiceRequest.write'));
    assert.ok(can('patient/*.write'));
    assert.ok(can('patient/*.*'));
    assert.ok(!can('patient/ServiceRequest.rs'));
    assert.ok(!can('patient/ServiceRequest.read'));
    assert.ok(!can('patient/*.rs'));
    assert.ok(!can('patient/Observation.c'));
    assert.ok(!can('system/ServiceRequest.c'));
    assert.ok(!can('patient/ServiceRequest.c?category=imaging'));
    assert.ok(!can('patient/ServiceRequest.rc'));
    assert.ok(!can(''));
    assert.deepEqual(grantedScopes(undefined), []);
  });

  it('asks for launch or launch/patient by the kind of launch', () => {
    const params = (query: string): URLSearchParams => new URLSearchParams(query);
    assert.equal(launchKind(params('launch=abc&iss=https://ehr/fhir')), 'ehr');
    assert.equal(launchKind(params('iss=https://ehr/fhir')), 'standalone');
    assert.equal(launchKind(params('')), null);
    assert.equal(launchScope(['openid', 'fhirUser', 'patient/Patient.rs'], 'ehr'), 'openid fhirUser patient/Patient.rs launch');
    assert.equal(launchScope(['openid', 'launch', 'patient/Patient.rs'], 'standalone'), 'openid patient/Patient.rs launch/patient');
    assert.ok(needsPatientBanner(undefined));
    assert.ok(needsPatientBanner(true));
    assert.ok(!needsPatientBanner(false));
  });
});

describe('wording', () => {
  it('gives each reason code a heading and falls back to the detail for an unknown one', () => {
    assert.equal(reasonMessage({ code: 'no-radiograph', detail: 'x' }).title, 'No lumbar spine radiograph on record');
    assert.match(reasonMessage({ code: 'known-osteoporosis', detail: '' }).title, /already on record/);
    const unknown = reasonMessage({ code: 'something-new', detail: 'A newer service says why.' });
    assert.equal(unknown.next, 'A newer service says why.');
    assert.equal(reasonMessage({ code: 'toString', detail: 'd' }).next, 'd');
  });

  it('words the API errors and a failed sign-in', () => {
    assert.equal(failureMessage('token-rejected').title, 'Your session has expired or was revoked — reopen the app from the chart');
    assert.equal(failureMessage('fhir-not-allowed').title, 'This FHIR server is not configured for the service');
    assert.equal(failureMessage('fhir-unavailable').title, 'The FHIR server could not be reached');
    assert.ok(failureMessage('busy').retry);
    const failed = launchFailure('400 Bad Request\nURL: https://auth.example/token\ninvalid_grant: The authorization code has expired');
    assert.equal(failed.title, 'Sign-in failed: invalid_grant: The authorization code has expired (400 Bad Request)');
    assert.equal(launchFailure('access_denied: The user refused').title, 'Sign-in failed: access_denied: The user refused');
    assert.match(launchFailure("No 'state' parameter found. Please (re)launch the app.").title, /without a launch/);
  });
});

describe('what-if', () => {
  const entries = [
    { name: 'priorFragilityFracture' as const, value: null },
    { name: 'parentHipFracture' as const, value: true },
    { name: 'currentSmoking' as const, value: false },
    { name: 'age' as const, value: 64 },
  ];

  it('covers every yes/no factor and counts a missing one as no', () => {
    assert.equal(WHAT_IF_FACTORS.length, 7);
    const chart = chartToggles(entries);
    assert.equal(chart.priorFragilityFracture, false);
    assert.equal(chart.parentHipFracture, true);
    assert.equal(chart.alcohol, false);
  });

  it('sends every toggle that differs from the chart, and nothing else', () => {
    assert.deepEqual(whatIfRequest(entries, { ...chartToggles(entries) }), { factors: {} });
    assert.deepEqual(whatIfRequest(entries, { ...chartToggles(entries), priorFragilityFracture: true, parentHipFracture: false }), {
      factors: { priorFragilityFracture: true, parentHipFracture: false },
    });
    assert.deepEqual(whatIfRequest(entries, { priorFragilityFracture: false }), { factors: {} });
  });

  it('lets only the latest answer through', () => {
    const latest = new Latest();
    const first = latest.next();
    const second = latest.next();
    assert.ok(!latest.isLatest(first));
    assert.ok(latest.isLatest(second));
    latest.cancel();
    assert.ok(!latest.isLatest(second));
  });
});

describe('the DXA order', () => {
  it('stays a draft and names the signed-in practitioner', () => {
    const draft = { resourceType: 'ServiceRequest' as const, status: 'active' as const, intent: 'order' as const, subject: { reference: 'Patient/p1' } };
    assert.deepEqual(dxaOrder(draft, 'Practitioner/7'), { ...draft, status: 'draft', requester: { reference: 'Practitioner/7' } });
    assert.equal(dxaOrder(draft, null).requester, undefined);
    assert.equal(requesterFrom('https://ehr.example/fhir/Practitioner/abc-1'), 'Practitioner/abc-1');
    assert.equal(requesterFrom('PractitionerRole/9'), 'PractitionerRole/9');
    assert.equal(requesterFrom('Patient/p1'), null);
    assert.equal(requesterFrom(null), null);
    assert.equal(idFromLocation('https://ehr.example/fhir/ServiceRequest/sr-9/_history/1'), 'sr-9');
    assert.equal(idFromLocation(null), undefined);
  });
});

describe('the SMART style', () => {
  it('takes readable colours and bounded sizes, and drops the rest', () => {
    assert.deepEqual(parseHex('#fff'), [255, 255, 255]);
    assert.equal(parseHex('red'), null);
    assert.ok(Math.abs(contrast([0, 0, 0], [255, 255, 255]) - 21) < 1e-9);
    assert.deepEqual(smartStyleVariables({ color_background: '#f4f7fb', color_text: '#14213d', color_highlight: '#5a2a82', dim_border_radius: '2px', font_family_body: 'Georgia, serif' }), {
      '--fg': '#14213d',
      '--bg': '#f4f7fb',
      '--accent': '#5a2a82',
      '--radius': '2px',
      '--font-body': 'Georgia, serif',
    });
    // Grey on grey fails AA: neither is applied; a pale highlight cannot carry white button text.
    assert.deepEqual(smartStyleVariables({ color_background: '#777777', color_text: '#888888', color_highlight: '#ffee88' }), {});
    assert.deepEqual(smartStyleVariables({ dim_font_size: '100px', font_family_body: 'x;}body{display:none' }), {});
    assert.deepEqual(smartStyleVariables('nonsense'), {});
  });
});
