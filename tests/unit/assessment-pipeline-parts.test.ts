// The pure parts of the assessment pipeline: eligibility and suppression rules, the assessment key
// (everything that determines an assessment changes it; nothing else does), the deadline race and the
// single flight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withinDeadline } from '../../src/assessment/assessor.js';
import type { AssessOutcome } from '../../src/assessment/assessment.js';
import { assessmentKey, factorEntries, modelFactors } from '../../src/assessment/build-assessment.js';
import { populationReasons, suppressionReasons } from '../../src/assessment/eligibility.js';
import { SingleFlight } from '../../src/assessment/single-flight.js';
import type { Finding, PatientRecord } from '../../src/fhir/patient-record.js';
import type { LoadedModel } from '../../src/model/model-registry.js';

const missing = <T>(): Finding<T> => ({ value: null, status: 'missing', sources: [] });
const found = <T>(value: T, source = 'Observation/1', date = '2026-01-02'): Finding<T> => ({ value, status: 'found', sources: [source], date });
/** Age as the record reads it: the model's one-decimal years, dated by the birth date (undated: a partial birth date). */
const aged = (years: number, birthDate?: string): Finding<number> => ({ value: years, status: 'found', sources: ['Patient/p1'], ...(birthDate ? { date: birthDate } : {}) });

function record(overrides: Partial<PatientRecord['factors']> = {}, rest: Partial<PatientRecord> = {}): PatientRecord {
  return {
    patientId: 'p1',
    asOf: '2026-06-01T00:00:00.000Z',
    factors: {
      age: aged(63.4, '1963-01-15'),
      sex: found<'female' | 'male'>('female', 'Patient/p1'),
      weightKg: found(61),
      heightCm: found(160, 'Observation/2'),
      bmi: missing(),
      priorFragilityFracture: missing(),
      parentHipFracture: missing(),
      currentSmoking: found(false, 'Observation/3'),
      glucocorticoids: missing(),
      rheumatoidArthritis: missing(),
      secondaryOsteoporosis: missing(),
      alcohol: missing(),
      femoralNeckTScore: missing(),
      ...overrides,
    },
    dxa: [],
    frax: null,
    osteoporosis: missing(),
    osteoporosisTreatment: { status: 'none' },
    problems: [],
    ...rest,
  };
}

const POPULATION = { minAge: 50, maxAge: 75, sexes: ['female', 'male'] as ('female' | 'male')[] };
const NOW = new Date('2026-06-01T00:00:00Z');

describe('eligibility', () => {
  it('takes ages in whole years within the card population, and needs age and sex', () => {
    assert.deepEqual(populationReasons(record(), POPULATION), []);
    assert.deepEqual(populationReasons(record({ age: aged(75.9) }), POPULATION), [], '75.9 is 75 in whole years');
    assert.deepEqual(populationReasons(record({ age: aged(76) }), POPULATION).map((r) => r.code), ['age-out-of-range']);
    assert.deepEqual(populationReasons(record({ age: aged(49.9) }), POPULATION).map((r) => r.code), ['age-out-of-range']);
    // With a full birth date, birthdays count: the day before turning 50 the model's age reads 50.0 (rounded), yet the patient is 49.
    assert.deepEqual(populationReasons(record({ age: aged(50.0, '1976-06-02') }), POPULATION).map((r) => r.code), ['age-out-of-range']);
    assert.deepEqual(populationReasons(record({ age: aged(50.0, '1976-06-01') }), POPULATION), [], 'on the 50th birthday');
    assert.deepEqual(populationReasons(record({ age: aged(76.0, '1950-06-02') }), POPULATION), [], 'the day before turning 76 is 75');
    assert.deepEqual(populationReasons(record({ age: missing(), sex: missing() }), POPULATION).map((r) => r.code), ['age-unknown', 'sex-unknown']);
    assert.deepEqual(populationReasons(record({ sex: found<'female' | 'male'>('male') }), { ...POPULATION, sexes: ['female'] }).map((r) => r.code), ['sex-out-of-range']);
  });

  it('suppresses on an osteoporosis diagnosis, treatment active or recent, and a DXA within the window', () => {
    assert.deepEqual(suppressionReasons(record(), { recentDxaMonths: 24 }, NOW), []);
    assert.deepEqual(suppressionReasons(record({}, { osteoporosis: found(true, 'Condition/1') }), { recentDxaMonths: 24 }, NOW).map((r) => r.code), ['known-osteoporosis']);
    for (const status of ['active', 'recent'] as const) {
      assert.deepEqual(suppressionReasons(record({}, { osteoporosisTreatment: { status, drug: 'alendronate' } }), { recentDxaMonths: 24 }, NOW).map((r) => r.code), ['osteoporosis-treatment']);
    }
    const dxa = (date: string): Partial<PatientRecord> => ({ dxa: [{ site: 'femoral-neck', tScore: -2.1, date, source: 'Observation/9' }] });
    assert.deepEqual(suppressionReasons(record({}, dxa('2024-07-01')), { recentDxaMonths: 24 }, NOW).map((r) => r.code), ['recent-dxa']);
    assert.deepEqual(suppressionReasons(record({}, dxa('2024-05-01')), { recentDxaMonths: 24 }, NOW), [], 'just over 24 months ago');
    assert.deepEqual(suppressionReasons(record({}, dxa('2026-05-01')), { recentDxaMonths: 0 }, NOW), [], '0 turns the rule off');
  });
});

describe('the assessment key', () => {
  const model = { card: { id: 'm', artifact: { sha256: 'a'.repeat(64) } } } as unknown as LoadedModel;
  const key = (r: PatientRecord, changes: Partial<Parameters<typeof assessmentKey>[0]> = {}): string =>
    assessmentKey({ patientId: 'p1', fhirServer: 'https://fhir.test', sopInstanceUid: '1.2.3', model, entries: factorEntries(r, {}), record: r, ...changes });

  it('changes with the patient, server, image, model, any factor value, source or date, FRAX and DXA', () => {
    const base = record();
    const reference = key(base);
    assert.equal(key(record()), reference, 'deterministic');
    const variants: [string, string][] = [
      ['patient', key(base, { patientId: 'p2' })],
      ['server', key(base, { fhirServer: 'https://other.test' })],
      ['image', key(base, { sopInstanceUid: '1.2.4' })],
      ['model', key(base, { model: { card: { id: 'm', artifact: { sha256: 'b'.repeat(64) } } } as unknown as LoadedModel })],
      ['value', key(record({ weightKg: found(62) }))],
      ['source', key(record({ weightKg: found(61, 'Observation/7') }))],
      ['date', key(record({ weightKg: found(61, 'Observation/1', '2026-02-02') }))],
      ['frax', key(record({}, { frax: { majorOsteoporoticPercent: 12, hipPercent: null, date: '2026-01-01', sources: ['Observation/5'] } }))],
      ['dxa', key(record({}, { dxa: [{ site: 'lumbar-spine', tScore: -1, date: '2023-01-01', source: 'Observation/6' }] }))],
    ];
    for (const [what, changed] of variants) assert.notEqual(changed, reference, `a different ${what} gives another key`);
  });

  it('an override is visible in the entries, the model factors and the key', () => {
    const base = record();
    const entries = factorEntries(base, { glucocorticoids: true });
    const entry = entries.find((e) => e.name === 'glucocorticoids');
    assert.equal(entry?.value, true);
    assert.equal(entry?.overridden, true);
    assert.equal(modelFactors(entries).glucocorticoids, true);
    assert.equal(modelFactors(factorEntries(base, {})).glucocorticoids, null);
    assert.notEqual(assessmentKey({ patientId: 'p1', fhirServer: null, sopInstanceUid: '1', model, entries, record: base }), assessmentKey({ patientId: 'p1', fhirServer: null, sopInstanceUid: '1', model, entries: factorEntries(base, {}), record: base }));
  });
});

describe('withinDeadline', () => {
  const outcome: AssessOutcome = { status: 'not-assessed', reasons: [{ code: 'no-radiograph', detail: 'x' }], record: null };

  it('answers the outcome when it comes first', async () => {
    assert.deepEqual(await withinDeadline(Promise.resolve(outcome), new AbortController().signal, () => assert.fail('not late')), outcome);
  });

  it('answers pending at the deadline and hands the late outcome (or error) to onLate', async () => {
    const controller = new AbortController();
    let finish!: (o: AssessOutcome) => void;
    const late: unknown[] = [];
    const answer = withinDeadline(new Promise<AssessOutcome>((resolve) => (finish = resolve)), controller.signal, (o) => late.push(o));
    controller.abort();
    assert.deepEqual(await answer, { status: 'pending' });
    finish(outcome);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(late, [outcome]);

    const failed: unknown[] = [];
    assert.deepEqual(await withinDeadline(Promise.reject(new Error('boom')), AbortSignal.abort(), (o) => failed.push(o)), { status: 'pending' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((failed[0] as Error).message, 'boom');
  });
});

describe('SingleFlight', () => {
  it('shares one run per key while it is in flight, and forgets it after', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const work = async (): Promise<number> => {
      runs++;
      await gate;
      return runs;
    };
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    assert.equal(flights.size, 1);
    release();
    assert.deepEqual(await Promise.all([a, b]), [1, 1]);
    assert.equal(flights.size, 0);
    assert.equal(await flights.run('k', () => Promise.resolve(7)), 7);
    await assert.rejects(flights.run('bad', () => {
      throw new Error('synchronous');
    }), /synchronous/);
    assert.equal(flights.size, 0);
  });
});
