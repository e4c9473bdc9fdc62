// Evaluation of recorded predictions: the outcomes CSV and every exclusion, the first-assessment rule,
// the time from assessment to outcome, a hand-worked cohort of five, and the command on a fake store.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { brierScore, calibrationAtHorizon } from '../../src/evaluation/index.js';
import { evaluateRecorded } from '../../src/evaluation/evaluate-recorded.js';
import { EvaluationInputError, parseOutcomes, splitCsvLine, type OutcomesFile } from '../../src/evaluation/outcomes-file.js';
import { runEvaluateRecorded } from '../../src/evaluation/recorded-command.js';
import { chooseModel, firstAssessments, joinOutcomes, yearsFromAssessment } from '../../src/evaluation/recorded-cohort.js';
import { horizonRisks, survivalAt, survivalCurves } from '../../src/model/survival.js';
import type { StoredAssessment } from '../../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'evaluation-recorded-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const close = (actual: number, expected: number, tolerance = 1e-12): void => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

const BASELINE = { times: [0.5, 1, 2], cumulativeHazard: [0.05, 0.1, 0.2] };
const HORIZONS = [0.5, 1, 2];
const BANDS = { low: 'Low risk', moderate: 'Moderate risk', high: 'High risk' } as const;
const DAY = 86_400_000;

const addDays = (iso: string, days: number): string => new Date(Date.parse(iso.slice(0, 10)) + days * DAY).toISOString().slice(0, 10);

interface StoredOptions {
  band?: keyof typeof BANDS;
  modelId?: string;
  version?: string;
  status?: string;
}

/** A stored assessment as the pipeline writes it (the fields the evaluation reads, made by the runtime's own curve functions). */
function stored(patientId: string, computedAt: string, logRisk: number, options: StoredOptions = {}): StoredAssessment {
  const modelId = options.modelId ?? 'test-model';
  const version = options.version ?? '1.0.0';
  const band = options.band ?? 'moderate';
  const key = `${patientId}@${computedAt}`;
  const assessment = {
    key,
    computedAt,
    patient: { id: patientId, age: 60, sex: 'female' },
    fhirServer: 'http://fhir.test',
    model: { id: modelId, version, sha256: '0'.repeat(64), name: 'Test model', status: options.status ?? 'research', statement: 'For tests.', outcome: 'fracture', timeUnit: 'year' },
    logRisk,
    curves: survivalCurves(BASELINE, logRisk),
    horizons: horizonRisks(BASELINE, logRisk, HORIZONS),
    band: { name: band, label: BANDS[band], indicator: 'info', horizon: 1, risk: 1 - survivalAt(BASELINE, logRisk, 1)! },
    caveats: [],
  };
  return { key, patientId, fhirServer: 'http://fhir.test', modelId, modelVersion: version, computedAt, json: JSON.stringify(assessment) };
}

const csv = (...lines: string[]): string => `${lines.join('\n')}\n`;

describe('the outcomes file', () => {
  it('splits CSV records with RFC 4180 quoting', () => {
    assert.deepEqual(splitCsvLine('a,b,c'), ['a', 'b', 'c']);
    assert.deepEqual(splitCsvLine(' a , "b, with comma" ,"say ""hi"""'), ['a', 'b, with comma', 'say "hi"']);
    assert.deepEqual(splitCsvLine('a,,'), ['a', '', '']);
    assert.equal(splitCsvLine('"open,b'), null, 'an unterminated quote');
    assert.equal(splitCsvLine('"a"x,b'), null, 'text after a closing quote');
    assert.equal(splitCsvLine('a"b,c'), null, 'a quote inside an unquoted field');
  });

  it('reads the columns by name, in any order, ignoring others, a BOM, CRLF and blank lines', () => {
    const file = parseOutcomes('\uFEFFdate,Site,ID,Event\r\n2025-03-01,north,p1,1\r\n\r\n"2025-04-02",south,"p2",0\r\n');
    assert.equal(file.dataRows, 2);
    assert.deepEqual(file.excluded, []);
    assert.deepEqual(file.rows, [
      { line: 2, id: 'p1', event: 1, date: '2025-03-01' },
      { line: 4, id: 'p2', event: 0, date: '2025-04-02' },
    ]);
  });

  it('excludes malformed rows with their line and why, never the id or the date', () => {
    const file = parseOutcomes(
      csv(
        'id,event,date',
        'ok,0,2025-01-01',
        'short,1',
        'long,1,2025-01-01,extra',
        ',1,2025-01-01',
        'e2,2,2025-01-01',
        'eyes,yes,2025-01-01',
        'd1,1,2025-02-30',
        'd2,1,01/02/2025',
        'd3,1,',
        '"q,1,2025-01-01',
      ),
    );
    assert.deepEqual(file.rows.map((r) => r.id), ['ok']);
    assert.deepEqual(
      file.excluded.map((e) => [e.line, e.reason]),
      [3, 4, 5, 6, 7, 8, 9, 10, 11].map((line) => [line, 'malformed']),
    );
    assert.match(file.excluded[0]!.detail, /2 fields where the header has 3/);
    assert.match(file.excluded[2]!.detail, /no id/);
    assert.match(file.excluded[3]!.detail, /event must be 1 \(fracture\) or 0 \(none\)/);
    assert.match(file.excluded[5]!.detail, /YYYY-MM-DD/);
    assert.match(file.excluded[8]!.detail, /quoted field/);
    for (const e of file.excluded) assert.doesNotMatch(e.detail, /short|long|e2|eyes|d1|d2|2025/, 'no id or date in the detail');
  });

  it('excludes every row of an id that appears more than once', () => {
    const file = parseOutcomes(csv('id,event,date', 'p1,1,2025-01-01', 'p2,0,2025-01-01', 'p1,1,2025-01-01', 'p1,x,2025-01-01'));
    assert.deepEqual(file.rows.map((r) => r.id), ['p2']);
    assert.deepEqual(
      file.excluded.map((e) => [e.line, e.reason, e.detail]),
      [2, 4, 5].map((line) => [line, 'duplicate-id', 'the id is on 3 rows']),
    );
  });

  it('refuses a file without a usable header', () => {
    assert.throws(() => parseOutcomes(''), (e: unknown) => e instanceof EvaluationInputError && /empty/.test(e.message));
    assert.throws(() => parseOutcomes('patient,event,when\np1,1,2025-01-01\n'), (e: unknown) => e instanceof EvaluationInputError && /lacks the columns id, date/.test(e.message));
    assert.throws(() => parseOutcomes('id,event,date,id\n'), (e: unknown) => e instanceof EvaluationInputError && /names id twice/.test(e.message));
    assert.deepEqual(parseOutcomes('id,event,date\n').rows, []);
  });
});

describe('time from the assessment', () => {
  it('counts whole days from the UTC day of the assessment, in years of 365.25 days', () => {
    close(yearsFromAssessment('2024-03-01T15:30:00Z', '2025-03-01'), 365 / 365.25);
    close(yearsFromAssessment('2024-03-01T23:59:59.999Z', '2024-03-01'), 0);
    close(yearsFromAssessment('2024-03-01T00:00:00Z', '2024-02-29'), -1 / 365.25);
    close(yearsFromAssessment('2024-03-01T01:00:00+02:00', '2024-03-01'), 1 / 365.25, 1e-12);
  });
});

describe('the first-assessment rule', () => {
  it("takes each patient's earliest assessment of the model and counts the later ones", () => {
    const rows = [
      stored('p1', '2024-05-01T09:00:00Z', 0.3),
      stored('p2', '2024-02-01T09:00:00Z', -0.2),
      stored('p1', '2024-01-15T09:00:00Z', 0.1),
      stored('p1', '2024-03-01T09:00:00Z', 0.2),
      stored('p3', '2024-01-01T09:00:00Z', 1, { modelId: 'other' }),
    ];
    const first = firstAssessments(rows, 'test-model');
    assert.deepEqual(
      first.predictions.map((p) => [p.patientId, p.computedAt, p.logRisk]),
      [
        ['p1', '2024-01-15T09:00:00Z', 0.1],
        ['p2', '2024-02-01T09:00:00Z', -0.2],
      ],
    );
    assert.equal(first.rows, 4);
    assert.equal(first.laterIgnored, 2);
    assert.equal(first.unreadable, 0);
  });

  it('counts an assessment it cannot read and takes the next one', () => {
    const broken = { ...stored('p1', '2024-01-01T09:00:00Z', 0.5), json: JSON.stringify({ logRisk: 0.5 }) };
    const first = firstAssessments([broken, stored('p1', '2024-02-01T09:00:00Z', 0.7)], 'test-model');
    assert.equal(first.unreadable, 1);
    assert.deepEqual(first.predictions.map((p) => p.logRisk), [0.7]);
  });

  it('chooses the only model, or the one asked for, and explains otherwise', () => {
    const rows = [stored('p1', '2024-01-01T09:00:00Z', 0), stored('p2', '2024-01-01T09:00:00Z', 0, { modelId: 'other' })];
    assert.equal(chooseModel(rows.slice(0, 1), undefined), 'test-model');
    assert.equal(chooseModel(rows, 'other'), 'other');
    assert.throws(() => chooseModel(rows, undefined), /several models \(other, test-model\); choose one with --model <id>/);
    assert.throws(() => chooseModel(rows, 'missing'), /no assessment of missing; it has assessments of other, test-model/);
    assert.throws(() => chooseModel([], undefined), /holds no recorded assessments/);
  });
});

describe('the join', () => {
  const AT = '2024-01-01T10:00:00Z';
  const first = firstAssessments(['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => stored(id, AT, 0)), 'test-model');

  it('joins by id, excludes unknown ids and dates before the assessment, and counts patients without an outcome', () => {
    const outcomes: OutcomesFile = parseOutcomes(
      csv('id,event,date', 'p1,1,2024-07-01', 'p2,0,2024-01-01', 'stranger,1,2024-05-01', 'p3,1,2023-12-31', 'p4,1,2024-02-30', 'p4,1,2024-02-30'),
    );
    const joined = joinOutcomes(first, outcomes);
    assert.deepEqual(
      joined.patients.map((p) => [p.prediction.patientId, p.event, p.time]),
      [
        ['p1', 1, 182 / 365.25],
        ['p2', 0, 0],
      ],
    );
    assert.deepEqual(
      joined.excluded.map((e) => [e.line, e.reason]),
      [
        [4, 'unknown-id'],
        [5, 'before-assessment'],
        [6, 'duplicate-id'],
        [7, 'duplicate-id'],
      ],
    );
    assert.match(joined.excluded[1]!.detail, /1 days before the first assessment/);
    assert.deepEqual(joined.withoutOutcome, { absent: 1, excluded: 2 }, 'p5 is absent; p3 and p4 have rows, all excluded');
  });
});

describe('a hand-worked cohort of five', () => {
  // Patient, days to the outcome, event, log hazard ratio, recorded band.
  const AT = '2024-01-01T10:00:00Z';
  const cohort = [
    ['A', 100, 1, 2, 'high'],
    ['B', 200, 1, 0, 'low'],
    ['C', 300, 0, 1, 'moderate'],
    ['D', 400, 1, -1, 'low'],
    ['E', 500, 0, 0.5, 'moderate'],
  ] as const;
  const first = firstAssessments(
    cohort.map(([id, , , g, band]) => stored(id, AT, g, { band })),
    'test-model',
  );
  const outcomes = parseOutcomes(csv('id,event,date', ...cohort.map(([id, days, event]) => `${id},${event},${addDays(AT, days)}`)));
  const join = joinOutcomes(first, outcomes);
  const report = evaluateRecorded({ first, outcomes, join, sources: { store: 'store.sqlite', outcomes: 'outcomes.csv' } });
  const time = cohort.map(([, days]) => days / 365.25);
  const event = cohort.map(([, , e]) => e);
  const s1 = cohort.map(([, , , g]) => survivalAt(BASELINE, g, 1)!);

  it("Harrell's C is 5/8: A orders its 4 pairs, B 1 of 3 (D only), D none of 1 (E)", () => {
    assert.ok(report.metrics.harrellC.estimable);
    close(report.metrics.harrellC.value, 5 / 8);
    assert.equal(report.metrics.harrellC.comparablePairs, 8);
    const [low, high] = report.metrics.harrellC.ci95;
    assert.ok(low <= high && low >= 0 && high <= 1);
  });

  it("Uno's C at the band horizon (1 y) is 5/7: no censoring before A's and B's events, D's event is after τ", () => {
    assert.ok(report.metrics.unoC.estimable);
    assert.equal(report.metrics.unoC.tau, 1);
    close(report.metrics.unoC.value, 5 / 7);
  });

  it('follow-up reaches 0.5 and 1 year but not 2', () => {
    assert.deepEqual(
      report.followUp.map((f) => [f.time, f.observedBeyond, f.eventsBy, f.evaluable]),
      [
        [0.5, 4, 1, true],
        [1, 2, 2, true],
        [2, 0, 3, false],
      ],
    );
    assert.equal(report.calibrationHorizon, 1);
    assert.deepEqual(report.metrics.brier.map((b) => b.time), [0.5, 1]);
  });

  it('AUC(0.5) = 1 (A above all four controls), AUC(1) = 3/4 (A above D and E, B above D)', () => {
    assert.deepEqual(
      report.metrics.auc.map((a) => (a.estimable ? [a.time, a.value, a.cases, a.controls] : a.reason)),
      [
        [0.5, 1, 1, 4],
        [1, 0.75, 2, 2],
      ],
    );
  });

  it('Brier and calibration at 1 year from the recorded curves', () => {
    close(report.metrics.brier[1]!.value, brierScore(time, event, s1, 1));
    assert.ok(report.metrics.calibration.estimable);
    assert.equal(report.metrics.calibration.groups.length, 5);
    close(report.metrics.calibration.meanPredictedRisk, s1.reduce((sum, s) => sum + (1 - s), 0) / 5);
    close(report.metrics.calibration.observedRisk, 1 - (4 / 5) * (3 / 4), 1e-12);
    assert.ok(report.metrics.integratedBrier.estimable);
    assert.deepEqual([report.metrics.integratedBrier.from, report.metrics.integratedBrier.to], [0.5, 1]);
  });

  it('the band table: patients, events and Kaplan–Meier risk at 1 year per band, lowest band first', () => {
    const rows = report.bands.rows.map((b) => [b.name, b.n, b.eventsInFollowUp, b.atHorizon?.events, b.atHorizon?.observedRisk]);
    assert.deepEqual(rows, [
      ['low', 2, 2, 1, 0.5], // B's event at 200 days of 2 at risk; D's after the horizon
      ['moderate', 2, 0, 0, 0],
      ['high', 1, 1, 1, 1],
    ]);
    close(report.bands.rows[0]!.atHorizon!.observedRiskStdErr, 0.5 * Math.sqrt(1 / 2));
    close(report.bands.rows[0]!.atHorizon!.meanPredictedRisk, (2 - s1[1]! - s1[3]!) / 2);
  });

  it('says what was evaluated and how the cohort was assembled', () => {
    assert.equal(report.kind, 'recorded-predictions');
    assert.deepEqual(report.model.versions, [{ version: '1.0.0', patients: 5 }]);
    assert.deepEqual(report.assessments, { rows: 5, patients: 5, laterIgnored: 0, unreadable: 0, firstAt: AT, lastAt: AT, fhirServers: 1 });
    assert.deepEqual(report.outcomes.excludedByReason, []);
    assert.deepEqual(report.cohort, { count: 5, events: 3, meanFollowUpMonths: (1500 / 5 / 365.25) * 12, maxFollowUpYears: 500 / 365.25 });
  });

  it('with follow-up short of every horizon, only what needs no horizon', () => {
    const short = parseOutcomes(csv('id,event,date', ...cohort.map(([id, days, event]) => `${id},${event},${addDays(AT, Math.round(days / 10))}`)));
    const shortJoin = joinOutcomes(first, short);
    const early = evaluateRecorded({ first, outcomes: short, join: shortJoin, sources: { store: 's', outcomes: 'o' } });
    assert.ok(early.metrics.harrellC.estimable);
    assert.equal(early.metrics.unoC.estimable, false);
    assert.deepEqual(early.metrics.auc, []);
    assert.equal(early.calibrationHorizon, null);
    assert.deepEqual(early.bands.rows.map((b) => [b.name, b.n, b.atHorizon]), [
      ['low', 2, null],
      ['moderate', 2, null],
      ['high', 1, null],
    ]);
    assert.match(early.notes.join('\n'), /No horizon of the card/);
  });
});

describe('calibration by given groups', () => {
  it('keeps the groups as numbered and refuses a gap', () => {
    const result = calibrationAtHorizon([1, 2, 3, 4], [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6], 5, { groupOf: [1, 0, 1, 0] });
    assert.deepEqual(result.groups.map((g) => [g.n, g.events]), [
      [2, 0],
      [2, 2],
    ]);
    assert.throws(() => calibrationAtHorizon([1, 2, 3], [1, 0, 0], [0.9, 0.8, 0.7], 5, { groupOf: [0, 2, 0] }), /group 1 has no subjects/);
  });
});

describe('the command on a store', () => {
  const AT = '2024-01-01T10:00:00Z';
  const files = (name: string, text: string): { outcomes: string; json: string; markdown: string } => {
    const outcomes = join(dir, `${name}.csv`);
    writeFileSync(outcomes, text);
    return { outcomes, json: join(dir, `${name}.json`), markdown: join(dir, `${name}.md`) };
  };
  const storeOf = (rows: StoredAssessment[]): { listAssessments(filter?: { modelId?: string }): Promise<StoredAssessment[]> } => ({
    listAssessments: (filter = {}) => Promise.resolve(rows.filter((r) => filter.modelId === undefined || r.modelId === filter.modelId)),
  });

  it('writes JSON and Markdown that say these are prospective recorded predictions, and what a demonstration model means', async () => {
    const rows = ['p1', 'p2', 'p3'].map((id, k) => stored(id, AT, k - 1, { status: 'demonstration' }));
    rows.push(stored('p1', '2024-06-01T10:00:00Z', 3, { status: 'demonstration' }));
    const paths = files('demo', csv('id,event,date', 'p1,1,2024-06-01', 'p2,0,2025-06-01', 'p3,0,2025-01-01', 'p9,1,2024-03-01', 'p3,0,x'));
    const report = await runEvaluateRecorded({ store: storeOf(rows), storeLabel: 'cds.sqlite', ...paths });
    assert.equal(report.cohort.count, 2);
    assert.equal(report.assessments.laterIgnored, 1);
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(report)));
    const markdown = readFileSync(paths.markdown, 'utf8');
    assert.match(markdown, /^# Prospective evaluation of test-model\n/);
    assert.match(markdown, /\*\*prospective recorded predictions\*\* of test-model 1\.0\.0/);
    assert.match(markdown, /Its numbers describe synthetic data, not patients/);
    assert.match(markdown, /1 later assessment was ignored/);
    assert.match(markdown, /\| id on more than one row \(all its rows excluded\) \| 2 \| 4, 6 \|/);
    assert.match(markdown, /\| no recorded assessment of the model for this id \| 1 \| 5 \|/);
    assert.doesNotMatch(markdown, /p9|NaN|undefined/);
  });

  it('refuses an empty store, an ambiguous one, and a join with nobody in it', async () => {
    const paths = files('refuse', csv('id,event,date', 'p1,1,2024-06-01'));
    const refused = (pattern: RegExp) => (e: unknown) => e instanceof EvaluationInputError && pattern.test(e.message);
    await assert.rejects(runEvaluateRecorded({ store: storeOf([]), storeLabel: 's', ...paths }), refused(/holds no recorded assessments/));
    const two = [stored('p1', AT, 0), stored('p1', AT, 0, { modelId: 'other' })];
    await assert.rejects(runEvaluateRecorded({ store: storeOf(two), storeLabel: 's', ...paths }), refused(/several models/));
    await assert.rejects(
      runEvaluateRecorded({ store: storeOf([stored('p2', AT, 0)]), storeLabel: 's', ...paths }),
      refused(/no outcome could be joined to the 1 assessed patients: 1 absent from the outcomes file; rows excluded: 1 × no recorded assessment/),
    );
    await assert.rejects(runEvaluateRecorded({ store: storeOf([stored('p1', AT, 0)]), storeLabel: 's', ...paths, outcomes: join(dir, 'missing.csv') }), refused(/cannot read the outcomes file .*ENOENT/));
  });
});
