// The fracture-risk services end to end on real parts: synthetic patients in the dev FHIR server,
// their radiographs in Orthanc, the service built by the composition root with the demo model. Every
// scenario the services issue names gets the right card (or none) with the right reason; every
// response passes the CDS Hooks schema and invariants; every proposed resource is valid FHIR R4; and
// the risk a card shows equals the test's own prediction for that patient's image and factors
// (synth's tensor through a runtime of the test's own — never a number copied from the service).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Condition, FhirResource, MedicationRequest, Observation, RiskAssessment, ServiceRequest } from 'fhir/r4.js';
import supertest from 'supertest';
import { createServices } from '../../cds-services/index.js';
import { nameBasedUuid } from '../../cds-services/shared/card-ids.js';
import { percent } from '../../cds-services/shared/wording.js';
import { createApp } from '../../src/app.js';
import { ServiceRegistry } from '../../src/cds/service.js';
import type { Card, CdsResponse } from '../../src/cds/types.js';
import { responseProblems } from '../../src/cds/validation.js';
import type { Config } from '../../src/config.js';
import { RECORD_QUERIES } from '../../src/fhir/record-queries.js';
import type { Prediction } from '../../src/model/model-runtime.js';
import type { RiskFactors } from '../../src/model/risk-factors.js';
import type { SyntheticPatient } from '../../src/synthetic/cohort.js';
import { horizonRisks, riskBand } from '../../src/model/survival.js';
import { patientResources, type SyntheticFhirRecord } from '../../src/synthetic/fhir-resources.js';
import { dcmodify } from '../helpers/dicom-fixtures.js';
import { fhirProblems } from '../helpers/fhir-validation.js';
import { ageAt, chartFactors, DEAD_PACS, NOW, patientAt, startExpectation, startStack, type Expectation, type LoadedPatient, type LoadOptions, type Stack } from '../helpers/fracture-risk-stack.js';

const SMART_LAUNCH = 'https://app.test/smart/launch.html';
const PATIENT_VIEW = '/cds-services/spine-fracture-risk';
const ORDER_SELECT = '/cds-services/spine-fracture-risk-orders';

let stack: Stack;
let expectation: Expectation;
/** One synthetic patient per risk band, found by the test's own predictions. */
const byBand = new Map<string, LoadedPatient>();

const DAY = 86_400_000;
const isoDay = (date: Date): string => date.toISOString().slice(0, 10);
const daysAgo = (days: number): string => isoDay(new Date(NOW.getTime() - days * DAY));

/** Posts a hook, checks the response against the schema and invariants, and returns it. */
async function hook(path: string, body: Record<string, unknown>, status = 200): Promise<CdsResponse> {
  const res = await stack.request.post(path).send(body);
  assert.equal(res.status, status, JSON.stringify(res.body).slice(0, 500));
  if (status === 200) assert.deepEqual(responseProblems(res.body), [], 'the response passes the schema and invariants');
  return res.body as CdsResponse;
}

/** The `assessment` log line of one call. */
function assessmentLog(hookInstance: unknown): Record<string, unknown> {
  const line = stack.logLines().find((l) => l.reqId === hookInstance && l.msg === 'assessment');
  assert.ok(line, `no assessment log line for ${String(hookInstance)}`);
  return line;
}

/** Calls patient-view for a patient and returns its cards with the logged outcome. */
async function patientView(patientId: string, options: Parameters<Stack['patientView']>[1] = {}): Promise<{ cards: Card[]; log: Record<string, unknown> }> {
  const body = await stack.patientView(patientId, options);
  const { cards } = await hook(PATIENT_VIEW, body);
  return { cards, log: assessmentLog(body.hookInstance) };
}

async function expectNoCard(patientId: string, reason: string): Promise<void> {
  const { cards, log } = await patientView(patientId);
  assert.deepEqual(cards, []);
  assert.equal(log.outcome, 'not-assessed');
  assert.ok((log.reasons as string[]).some((r) => r === reason || r.startsWith(`${reason}:`)), `reasons ${JSON.stringify(log.reasons)} should include ${reason}`);
}

const preparedCount = (): number => stack.logLines().filter((l) => l.msg === 'radiograph prepared').length;

/**
 * Patients without a DXA result on record: a synthetic patient's T-score comes from a scan in the two
 * years before the radiograph, which the recent-DXA rule would (rightly) answer with no card.
 */
const withoutDxa = (patient: SyntheticPatient): boolean => patient.factors.femoralNeckTScore === null;

/** Loads a patient not used before (a new cohort index each time, none with a recent DXA), chart and file edited as asked. */
let nextIndex = 40;
function loadVariant(edit?: LoadOptions['edit'], dicom?: LoadOptions['dicom']): Promise<LoadedPatient> {
  let patient = patientAt(nextIndex++);
  while (!withoutDxa(patient)) patient = patientAt(nextIndex++);
  return stack.load(patient, { ...(edit ? { edit } : {}), ...(dicom ? { dicom } : {}) });
}

function assertCardShowsPrediction(card: Card, expected: Prediction): void {
  const { card: modelCard } = expectation.model;
  const band = riskBand(modelCard.riskBands, modelCard.baseline, expected.logRisk);
  assert.ok(band.name !== null);
  assert.ok(card.summary.length < 140, `summary is ${card.summary.length} characters`);
  assert.ok(card.summary.includes(percent(band.risk)), `summary "${card.summary}" names ${percent(band.risk)}`);
  assert.ok(card.summary.includes(`(${band.name})`), card.summary);
  const record = card.suggestions?.flatMap((s) => s.actions ?? []).find((a) => a.resource?.resourceType === 'RiskAssessment')?.resource as RiskAssessment;
  assert.ok(record, 'the card offers to record the assessment');
  const shown = (record.prediction ?? []).map((p) => p.probabilityDecimal);
  const predicted = horizonRisks(modelCard.baseline, expected.logRisk, modelCard.horizons).map((h) => Number((h.risk as number).toFixed(4)));
  assert.deepEqual(shown, predicted);
}

before(async () => {
  [stack, expectation] = await Promise.all([startStack({ config: { smartApp: { launchUrl: SMART_LAUNCH } } }), startExpectation()]);
  const { card } = expectation.model;
  for (let index = 0; index < 40 && byBand.size < 3; index++) {
    const patient = patientAt(index);
    if (!withoutDxa(patient)) continue;
    const record = patientResources(patient, { asOf: NOW, dicomWebBaseUrl: stack.orthanc.dicomWebUrl });
    const factors = { ...patient.factors, age: ageAt(record.patient.birthDate as string, NOW) };
    const { logRisk } = await expectation.predict(patient, factors);
    const band = riskBand(card.riskBands, card.baseline, logRisk).name as string;
    if (!byBand.has(band)) byBand.set(band, await stack.load(patient));
  }
  assert.deepEqual([...byBand.keys()].sort(), ['high', 'low', 'moderate'], 'the pool has a patient in every band');
});

after(async () => {
  await Promise.all([stack?.close(), expectation?.close()]);
});

describe('discovery and the model card page', () => {
  it('lists both services with the chart queries as prefetch and the model named', async () => {
    const res = await stack.request.get('/cds-services').expect(200);
    const services = res.body.services as { id: string; hook: string; prefetch: Record<string, string>; description: string }[];
    assert.deepEqual(services.map((s) => [s.id, s.hook]), [['spine-fracture-risk', 'patient-view'], ['spine-fracture-risk-orders', 'order-select']]);
    for (const service of services) {
      assert.deepEqual(service.prefetch, { ...RECORD_QUERIES });
      assert.match(service.description, /spine-deepsurv-demo 0\.1\.0, demonstration model: not for clinical use; ages 50-75/);
    }
  });

  it('serves the model card as a page and as JSON', async () => {
    const html = await stack.request.get('/models/spine-deepsurv-demo').set('Accept', 'text/html').expect(200);
    assert.match(html.headers['content-type'] as string, /text\/html/);
    assert.match(html.text, /Demonstration model: not for clinical use/);
    assert.match(html.text, /ages 50–75/);
    const json = await stack.request.get('/models/spine-deepsurv-demo').set('Accept', 'application/json').expect(200);
    assert.equal(json.body.artifact.sha256, expectation.model.card.artifact.sha256);
    await stack.request.get('/models/no-such-model').expect(404);
  });
});

describe('patient-view: risk bands', () => {
  for (const band of ['high', 'moderate'] as const) {
    it(`${band} risk: a card naming the predicted risk, with valid DXA and RiskAssessment suggestions`, async () => {
      const loaded = byBand.get(band)!;
      const expected = await expectation.predict(loaded.patient, chartFactors(loaded));
      const { cards, log } = await patientView(loaded.patient.id);
      assert.equal(cards.length, 1);
      const [card] = cards as [Card];
      assertCardShowsPrediction(card, expected);
      assert.equal(log.band, band);
      assert.equal(card.indicator, band === 'high' ? 'critical' : 'warning');
      assert.match(card.summary, /^\[Demo model\] Spine X-ray: 5-year vertebral fracture risk .* — consider DXA$/);
      assert.match(card.detail ?? '', /Demonstration model: not for clinical use/);
      assert.match(card.detail ?? '', /\*\*Radiograph read:\*\* lumbar spine (DX|CR), lateral view/);
      assert.match(card.detail ?? '', /USPSTF|ISCD/);
      assert.equal(card.source.url, 'http://cds.test/models/spine-deepsurv-demo');
      assert.equal(card.source.topic?.code, 'fracture-risk');
      assert.equal(card.selectionBehavior, 'any');
      assert.deepEqual(card.overrideReasons?.map((r) => r.code), ['dxa-done-elsewhere', 'already-treated', 'patient-declined', 'not-clinically-appropriate']);
      const link = card.links?.[0];
      assert.equal(link?.type, 'smart');
      assert.equal(link?.url, SMART_LAUNCH);
      const key = (JSON.parse(link?.appContext ?? '{}') as { assessment?: string }).assessment;
      assert.ok(key, 'appContext names the assessment');
      assert.equal(card.uuid, nameBasedUuid('spine-fracture-risk', `patient-view:${key}`));

      const resources = (card.suggestions ?? []).flatMap((s) => s.actions ?? []).map((a) => a.resource as FhirResource);
      const order = resources.find((r): r is ServiceRequest => r.resourceType === 'ServiceRequest');
      const record = resources.find((r): r is RiskAssessment => r.resourceType === 'RiskAssessment');
      assert.ok(order && record);
      for (const resource of [order, record]) assert.deepEqual(fhirProblems(resource), [], `${resource.resourceType} is valid R4`);
      assert.equal(order.subject.reference, `Patient/${loaded.patient.id}`);
      assert.equal(order.requester?.reference, 'Practitioner/dr-test');
      assert.equal(order.reasonReference?.[0]?.identifier?.value, key);
      assert.equal(record.identifier?.[0]?.value, key);
      assert.equal(record.method?.coding?.[0]?.code, 'spine-deepsurv-demo');
      assert.ok(record.basis?.some((b) => b.reference === `ImagingStudy/${loaded.record.imagingStudy.id}`));
      assert.ok(record.basis?.some((b) => b.reference === `Observation/${loaded.patient.id}-weight`), 'the basis names the observations used');
      assert.match(record.note?.[0]?.text ?? '', /not for clinical use/);
    });
  }

  it('low risk: no card by default, the band logged', async () => {
    const { cards, log } = await patientView(byBand.get('low')!.patient.id);
    assert.deepEqual(cards, []);
    assert.equal(log.band, 'low');
  });
});

describe('patient-view: cache, changed inputs and single flight', () => {
  it('the second call is served from the cache: same card, no radiograph work', async () => {
    const { patient } = byBand.get('high')!;
    const first = await patientView(patient.id);
    const before = preparedCount();
    const second = await patientView(patient.id);
    assert.equal(second.log.cached, true);
    assert.equal(preparedCount(), before);
    assert.deepEqual(second.cards, first.cards);
  });

  it('the same card with partial and with no prefetch (the service reads the rest from FHIR)', async () => {
    const { patient } = byBand.get('moderate')!;
    const full = await patientView(patient.id);
    const partial = await patientView(patient.id, { prefetch: ['patient', 'observations'] });
    const none = await patientView(patient.id, { prefetch: 'none' });
    assert.equal(partial.cards[0]?.uuid, full.cards[0]?.uuid);
    assert.equal(none.cards[0]?.uuid, full.cards[0]?.uuid);
    assert.ok(stack.fhirRequests.some((r) => r.url.includes(`/ImagingStudy?patient=${patient.id}`)), 'the service searched what was not prefetched');
  });

  it('a changed factor misses the cache and is scored without a new download', async () => {
    const loaded = await loadVariant();
    await patientView(loaded.patient.id);
    const before = preparedCount();
    const heavier: Observation = { ...(loaded.record.observations.find((o) => o.id.endsWith('-weight')) as Observation), id: `${loaded.patient.id}-weight-2`, effectiveDateTime: daysAgo(1), valueQuantity: { value: 97, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } };
    await stack.put([heavier]);
    const { cards, log } = await patientView(loaded.patient.id);
    assert.equal(log.cached, false);
    assert.equal(preparedCount(), before, 'the tensor came from memory');
    const expected = await expectation.predict(loaded.patient, { ...chartFactors(loaded), weightKg: 97 });
    if (cards.length > 0) assertCardShowsPrediction(cards[0] as Card, expected);
    else assert.equal(log.band, 'low');
  });

  it('a new radiograph misses the cache and is read', async () => {
    const loaded = await loadVariant();
    await patientView(loaded.patient.id);
    const before = preparedCount();
    const study = `2.25.${Date.now()}${nextIndex}`;
    const newer = await dcmodify(loaded.part10, ['-m', `StudyInstanceUID=${study}`, '-m', `SeriesInstanceUID=${study}.1`, '-m', `SOPInstanceUID=${study}.1.1`, '-m', `StudyDate=${isoDay(NOW).replaceAll('-', '')}`]);
    await stack.orthanc.upload(newer);
    const imagingStudy = loaded.record.imagingStudy;
    await stack.put([
      {
        ...imagingStudy,
        id: `${imagingStudy.id}-2`,
        identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${study}` }],
        started: isoDay(NOW),
        series: [{ ...imagingStudy.series![0]!, uid: `${study}.1`, instance: [{ ...imagingStudy.series![0]!.instance![0]!, uid: `${study}.1.1` }] }],
      },
    ]);
    const { log } = await patientView(loaded.patient.id);
    assert.equal(log.cached, false, JSON.stringify(log));
    assert.equal(preparedCount(), before + 1);
  });

  it('two concurrent calls for one patient do the image work once', async () => {
    const loaded = await loadVariant();
    const before = preparedCount();
    const bodies = await Promise.all([stack.patientView(loaded.patient.id), stack.patientView(loaded.patient.id)]);
    const responses = await Promise.all(bodies.map((body) => hook(PATIENT_VIEW, body)));
    assert.equal(preparedCount(), before + 1);
    assert.deepEqual(responses[0], responses[1]);
  });
});

describe('patient-view: no card, and why', () => {
  it('no radiograph on record', async () => {
    const loaded = await loadVariant((resources) => resources.filter((r) => r.resourceType !== 'ImagingStudy'));
    await expectNoCard(loaded.patient.id, 'no-radiograph:no-eligible-study');
  });

  it('only an AP radiograph: refused before download', async () => {
    const loaded = await loadVariant(undefined, (part10) => dcmodify(part10, ['-m', 'ViewPosition=AP', '-e', '(0054,0220)']));
    await expectNoCard(loaded.patient.id, 'wrong-view');
  });

  it('a radiograph older than the look-back window', async () => {
    const loaded = await loadVariant((resources) => resources.map((r) => (r.resourceType === 'ImagingStudy' ? { ...r, started: '2019-03-01' } : r)));
    await expectNoCard(loaded.patient.id, 'radiograph-too-old');
  });

  it('only radiographs of other body parts (ankle and wrist coded in FHIR; a chest CR whose DICOM says so)', async () => {
    const loaded = await loadVariant((resources) =>
      resources.map((r) =>
        r.resourceType === 'ImagingStudy'
          ? {
              ...r,
              series: r.series?.flatMap((s) => [
                { ...s, bodySite: { system: 'http://snomed.info/sct', code: '344001', display: 'Ankle' } },
                { ...s, uid: `${s.uid}.2`, number: 2, bodySite: { system: 'http://snomed.info/sct', code: '8205005', display: 'Wrist' } },
              ]),
            }
          : r,
      ),
    );
    await expectNoCard(loaded.patient.id, 'no-radiograph');
    const chest = new Uint8Array(await readFile('tests/fixtures/dicom/CR-MONO1-10-chest'));
    const uids = await orthancUids(await stack.orthanc.upload(chest));
    const other = await loadVariant((resources, record) =>
      resources.map((r) =>
        r.resourceType === 'ImagingStudy'
          ? { ...r, identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uids.study}` }], series: [{ uid: uids.series, modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CR' }, endpoint: [{ reference: `Endpoint/${record.endpoint.id}` }] }] }
          : r,
      ),
    );
    await expectNoCard(other.patient.id, 'radiograph-unusable:no-suitable-instance');
  });

  it('a recent DXA result', async () => {
    const loaded = await loadVariant((resources, record) => [...resources, tScore(record, 'recent-dxa', daysAgo(180), -1.9)]);
    await expectNoCard(loaded.patient.id, 'recent-dxa');
  });

  it('osteoporosis treatment or a diagnosis on record (no card by default)', async () => {
    const treated = await loadVariant((resources, record) => [...resources, alendronate(record)]);
    await expectNoCard(treated.patient.id, 'osteoporosis-treatment');
    const diagnosed = await loadVariant((resources, record) => [...resources, condition(record, 'osteoporosis', { system: 'http://snomed.info/sct', code: '64859006', display: 'Osteoporosis' })]);
    await expectNoCard(diagnosed.patient.id, 'known-osteoporosis');
  });

  it('an age outside the model card population', async () => {
    const loaded = await loadVariant((resources) => resources.map((r) => (r.resourceType === 'Patient' ? { ...r, birthDate: '1944-02-10' } : r)));
    await expectNoCard(loaded.patient.id, 'age-out-of-range');
  });

  it('the PACS is down', async () => {
    const loaded = await loadVariant((resources) => resources.map((r) => (r.resourceType === 'Endpoint' ? { ...r, address: DEAD_PACS } : r)));
    await expectNoCard(loaded.patient.id, 'radiograph-unavailable:pacs-unreachable');
  });

  it('a corrupt DICOM file in the PACS (its header promises more pixels than it holds)', async () => {
    const loaded = await loadVariant(undefined, (part10) => dcmodify(part10, ['-m', 'Rows=9000']));
    await expectNoCard(loaded.patient.id, 'radiograph-unusable:pixel-data-length-mismatch');
  });

  it('a radiograph of someone else (DICOM PatientID, birth date or family name differ from the chart): no risk, patient-mismatch', async () => {
    const cases: { name: string; edit: string[] }[] = [
      { name: 'another PatientID', edit: ['-m', 'PatientID=someone-else'] },
      { name: 'no PatientID', edit: ['-e', 'PatientID'] },
      { name: 'another birth date', edit: ['-m', 'PatientBirthDate=19010101'] },
      { name: 'another family name', edit: ['-m', 'PatientName=Otherfamily^Given'] },
    ];
    for (const { name, edit } of cases) {
      const loaded = await loadVariant(undefined, (part10) => dcmodify(part10, edit));
      const { cards, log } = await patientView(loaded.patient.id);
      assert.deepEqual(cards, [], name);
      assert.deepEqual(log.reasons, ['patient-mismatch:patient-mismatch'], name);
    }
    // The same file under the chart's own identity, spelled as a PACS might (case, accents, spaces), is read.
    const respelled = await loadVariant(undefined, (part10) => dcmodify(part10, ['-i', 'SpecificCharacterSet=ISO_IR 192', '-m', 'PatientName=SYNTHÉTIC ^Someone']));
    const { log } = await patientView(respelled.patient.id);
    assert.equal(log.outcome, 'assessed', JSON.stringify(log.reasons));
  });

  it('a corrected Patient is checked against the image again (the identity is part of the radiograph cache key)', async () => {
    const loaded = await loadVariant();
    assert.equal((await patientView(loaded.patient.id)).log.outcome, 'assessed');
    const downloads = preparedCount();
    // The chart now names another family (a merge gone wrong, a corrected registration): the remembered
    // choice of image must not be trusted, so the PACS is asked again and the file refused.
    await stack.fhir.seed([{ ...loaded.record.patient, name: [{ family: 'Renamed', given: ['Someone'] }] }]);
    const after = await patientView(loaded.patient.id);
    assert.deepEqual(after.log.reasons, ['patient-mismatch:patient-mismatch']);
    assert.equal(preparedCount(), downloads, 'nothing prepared for the renamed chart');
  });

  it('fhirAuthorization for another patient', async () => {
    const { patient } = byBand.get('high')!;
    const body = await stack.patientView(patient.id, { fhirAuthorization: { access_token: 'x', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'app', patient: 'someone-else' } });
    const { cards } = await hook(PATIENT_VIEW, body);
    assert.deepEqual(cards, []);
    assert.deepEqual(assessmentLog(body.hookInstance).reasons, ['patient-mismatch']);
  });

  it('no prefetch and no fhirServer: 412', async () => {
    const { patient } = byBand.get('high')!;
    await hook(PATIENT_VIEW, await stack.patientView(patient.id, { prefetch: 'none', fhirServer: null }), 412);
  });
});

describe('patient-view: how the chart is read', () => {
  it('missing factors: listed as not recorded, scored with the card’s defaults', async () => {
    const drop = new Set(['weight', 'height', 'bmi', 'smoking']);
    const loaded = await loadVariant((resources) => resources.filter((r) => !(r.resourceType === 'Observation' && drop.has(r.id!.split('-').at(-1)!))));
    const factors: RiskFactors = { ...chartFactors(loaded), weightKg: null, heightCm: null, currentSmoking: null };
    const expected = await expectation.predict(loaded.patient, factors);
    const { cards, log } = await patientView(loaded.patient.id);
    if (cards.length === 0) return assert.equal(log.band, 'low');
    assertCardShowsPrediction(cards[0] as Card, expected);
    const notRecorded = [...(cards[0]?.detail ?? '').matchAll(/\*\*Not on the chart[^*]*:\*\* ([^\n]*)\./g)].flatMap((m) => m[1]?.split(', ') ?? []);
    for (const label of ['Weight', 'Height', 'Body mass index', 'Current smoking']) assert.ok(notRecorded.includes(label), `${label} is listed as not recorded`);
  });

  it('a recorded FRAX result is shown with its date', async () => {
    const loaded = byBand.get('high')!;
    await stack.put([frax(loaded.record, '90265-0', 23.5), frax(loaded.record, '90266-8', 4.2)]);
    const { cards } = await patientView(loaded.patient.id);
    assert.match(cards[0]?.detail ?? '', /\*\*FRAX on record \(\d+ \w+ \d{4}\):\*\* 10-year major osteoporotic fracture 23\.5%, hip fracture 4\.2%\./);
  });

  it('rheumatoid arthritis coded in SNOMED CT, ICD-10-CM or text only counts the same; refuted or entered in error does not', async () => {
    const loaded = await loadVariant();
    const withRa: RiskFactors = { ...chartFactors(loaded), rheumatoidArthritis: true };
    const expectedWith = await expectation.predict(loaded.patient, withRa);
    const expectedWithout = await expectation.predict(loaded.patient, { ...withRa, rheumatoidArthritis: loaded.patient.factors.rheumatoidArthritis ? true : null });
    const variants: [string, Partial<Condition>, Prediction][] = [
      ['SNOMED CT', { code: { coding: [{ system: 'http://snomed.info/sct', code: '69896004' }] } }, expectedWith],
      ['ICD-10-CM', { code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M05.79' }] } }, expectedWith],
      ['text only', { code: { text: 'Rheumatoid arthritis' } }, expectedWith],
      ['entered in error', { code: { coding: [{ system: 'http://snomed.info/sct', code: '69896004' }] }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } }, expectedWithout],
      ['refuted', { code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M06.9' }] }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'refuted' }] } }, expectedWithout],
    ];
    for (const [label, fields, expected] of variants) {
      await stack.put([{ ...condition(loaded.record, 'ra-variant', { system: 'http://snomed.info/sct', code: '69896004' }), ...fields }]);
      const { cards, log } = await patientView(loaded.patient.id);
      const band = riskBand(expectation.model.card.riskBands, expectation.model.card.baseline, expected.logRisk);
      assert.equal(log.band, band.name, label);
      if (cards.length > 0) assertCardShowsPrediction(cards[0] as Card, expected);
      if (label === 'text only' && cards.length > 0) assert.match(cards[0]?.detail ?? '', /Rheumatoid arthritis \| yes \| [^|]*text/i);
    }
  });
});

describe('order-select', () => {
  const orderSelect = async (patientId: string, draft: FhirResource[], selections: string[]): Promise<{ cards: Card[]; hookInstance: string }> => {
    const hookInstance = crypto.randomUUID();
    const body = {
      hook: 'order-select',
      hookInstance,
      fhirServer: stack.fhir.baseUrl,
      context: { userId: 'Practitioner/dr-test', patientId, selections, draftOrders: { resourceType: 'Bundle', type: 'collection', entry: draft.map((resource) => ({ resource })) } },
      prefetch: await stack.prefetchFor(patientId),
    };
    return { cards: (await hook(ORDER_SELECT, body)).cards, hookInstance };
  };

  it('a long-term glucocorticoid: the risk with it, and bone protection', async () => {
    const loaded = byBand.get('moderate')!;
    const expected = await expectation.predict(loaded.patient, { ...chartFactors(loaded), glucocorticoids: true });
    const { cards } = await orderSelect(loaded.patient.id, [prednisone(loaded.patient.id, 30, 2)], ['MedicationRequest/draft-pred']);
    assert.equal(cards.length, 1);
    assertCardShowsPrediction(cards[0] as Card, expected);
    assert.equal(cards[0]?.source.topic?.code, 'glucocorticoid-bone-protection');
    assert.match(cards[0]?.summary ?? '', /Long-term glucocorticoid/);
    assert.match(cards[0]?.detail ?? '', /ACR \(2022\)/);
    assert.match(cards[0]?.detail ?? '', /Glucocorticoids \| yes \| the order being placed/);
  });

  it('a DXA order: the risk that informs it, no second DXA offered', async () => {
    const loaded = byBand.get('low')!;
    const dxa: ServiceRequest = { resourceType: 'ServiceRequest', id: 'draft-dxa', status: 'draft', intent: 'order', subject: { reference: `Patient/${loaded.patient.id}` }, code: { coding: [{ system: 'http://snomed.info/sct', code: '312681000' }] } };
    const { cards } = await orderSelect(loaded.patient.id, [dxa], ['ServiceRequest/draft-dxa']);
    assert.equal(cards.length, 1);
    assert.equal(cards[0]?.indicator, 'info');
    assert.equal(cards[0]?.source.topic?.code, 'fracture-risk-dxa-order');
    assert.ok(!cards[0]?.suggestions?.some((s) => s.actions?.some((a) => a.resource?.resourceType === 'ServiceRequest')));
  });

  it('no card for a short glucocorticoid course or an unrelated order, and no assessment made', async () => {
    const { patient } = byBand.get('high')!;
    const amoxicillin: MedicationRequest = { resourceType: 'MedicationRequest', id: 'draft-amox', status: 'draft', intent: 'order', subject: { reference: `Patient/${patient.id}` }, medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '723' }], text: 'amoxicillin' } };
    for (const [draft, id] of [[prednisone(patient.id, 5, 0), 'MedicationRequest/draft-pred'], [amoxicillin, 'MedicationRequest/draft-amox']] as const) {
      const { cards, hookInstance } = await orderSelect(patient.id, [draft], [id]);
      assert.deepEqual(cards, []);
      assert.equal(stack.logLines().find((l) => l.reqId === hookInstance && l.msg === 'assessment'), undefined);
    }
  });
});

describe('feedback, silent mode and the short card', () => {
  it('feedback on a card joins to its assessment and risk band', async () => {
    const { patient } = byBand.get('high')!;
    const { cards } = await patientView(patient.id);
    const card = cards[0] as Card;
    await stack.request
      .post(`${PATIENT_VIEW}/feedback`)
      .send({ feedback: [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: card.overrideReasons?.[2] }, outcomeTimestamp: new Date().toISOString() }] })
      .expect(200);
    const rows = await stack.serving.store.feedbackSummary();
    assert.deepEqual(
      rows.filter((r) => r.serviceId === 'spine-fracture-risk'),
      [{ serviceId: 'spine-fracture-risk', cardTopic: 'fracture-risk', band: 'high', outcome: 'overridden', reason: 'https://spine-fracture-cds.example/fhir/override-reason|patient-declined', count: 1 }],
    );
    const key = (JSON.parse(card.links?.[0]?.appContext ?? '{}') as { assessment: string }).assessment;
    const stored = await stack.serving.store.getAssessment(key);
    assert.equal(stored?.patientId, patient.id);
  });

  /** The same assessor behind services built with other switches. */
  const variantApp = (config: Partial<Pick<Config, 'assessment' | 'services'>>): ReturnType<typeof supertest> => {
    const services = createServices({ assessor: stack.serving.assessor, config: { ...stack.config, ...config } });
    return supertest(createApp(stack.config, { registry: new ServiceRegistry(services), store: stack.serving.store, logger: stack.logger, clock: () => NOW }).express);
  };

  it('silent mode: assessments are made and stored, no card is returned', async () => {
    const loaded = await loadVariant();
    const silent = variantApp({ services: { ...stack.config.services, 'spine-fracture-risk': { enabled: true, silent: true } } });
    const before = (await stack.serving.store.listAssessments()).length;
    const res = await silent.post(PATIENT_VIEW).send(await stack.patientView(loaded.patient.id)).expect(200);
    assert.deepEqual(res.body, { cards: [] });
    const stored = await stack.serving.store.listAssessments();
    assert.equal(stored.length, before + 1);
    assert.ok(stored.some((a) => a.patientId === loaded.patient.id));
  });

  it('the short card for known osteoporosis when configured', async () => {
    const treated = await loadVariant((resources, record) => [...resources, alendronate(record)]);
    const app = variantApp({ assessment: { ...stack.config.assessment, knownOsteoporosis: 'short-card' } });
    const res = await app.post(PATIENT_VIEW).send(await stack.patientView(treated.patient.id)).expect(200);
    assert.deepEqual(responseProblems(res.body), []);
    const cards = (res.body as CdsResponse).cards;
    assert.equal(cards.length, 1);
    assert.equal(cards[0]?.indicator, 'info');
    assert.match(cards[0]?.summary ?? '', /Osteoporosis treatment on record \(alendronate\)/);
  });

  it('the low band gets a card when lowRiskCard is on, without a DXA suggestion', async () => {
    const app = variantApp({ assessment: { ...stack.config.assessment, lowRiskCard: true } });
    const res = await app.post(PATIENT_VIEW).send(await stack.patientView(byBand.get('low')!.patient.id)).expect(200);
    const cards = (res.body as CdsResponse).cards;
    assert.equal(cards.length, 1);
    assert.equal(cards[0]?.indicator, 'info');
    assert.doesNotMatch(cards[0]?.summary ?? '', /consider DXA/);
    assert.ok(!cards[0]?.suggestions?.some((s) => s.actions?.some((a) => a.resource?.resourceType === 'ServiceRequest')));
  });
});

// ---- helpers: chart entries and DICOM edits ----

function subject(record: SyntheticFhirRecord): { reference: string } {
  return { reference: `Patient/${record.patient.id}` };
}

function tScore(record: SyntheticFhirRecord, suffix: string, date: string, value: number): Observation {
  return {
    resourceType: 'Observation',
    id: `${record.patient.id}-${suffix}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '38267-1' }] },
    subject: subject(record),
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'T-score', system: 'http://unitsofmeasure.org', code: '{T-score}' },
  };
}

function frax(record: SyntheticFhirRecord, code: string, value: number): Observation {
  return {
    resourceType: 'Observation',
    id: `${record.patient.id}-frax-${code}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: subject(record),
    effectiveDateTime: daysAgo(30),
    valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  };
}

function condition(record: SyntheticFhirRecord, suffix: string, code: { system: string; code: string; display?: string }): Condition {
  return {
    resourceType: 'Condition',
    id: `${record.patient.id}-${suffix}`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [code] },
    subject: subject(record),
    recordedDate: daysAgo(400),
  };
}

function alendronate(record: SyntheticFhirRecord): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: `${record.patient.id}-alendronate`,
    status: 'active',
    intent: 'order',
    subject: subject(record),
    authoredOn: daysAgo(200),
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '46041', display: 'alendronate' }] },
  };
}

/** A draft prednisone order: `days` of supply, repeated `repeats` times. */
function prednisone(patientId: string, days: number, repeats: number): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: 'draft-pred',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '312617', display: 'predniSONE 5 MG Oral Tablet' }] },
    dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 7.5, unit: 'mg' } }] }],
    dispenseRequest: { numberOfRepeatsAllowed: repeats, expectedSupplyDuration: { value: days, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } },
  };
}

/** Study and series UIDs of an instance, as Orthanc read them. */
async function orthancUids(orthancId: string): Promise<{ study: string; series: string }> {
  const tags = (await (await fetch(`${stack.orthanc.url}/instances/${orthancId}/simplified-tags`)).json()) as Record<string, string>;
  return { study: tags.StudyInstanceUID as string, series: tags.SeriesInstanceUID as string };
}
