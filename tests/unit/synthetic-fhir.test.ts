// The synthetic patients' FHIR records: deterministic, every risk factor of a cohort written as an
// EHR would record it (and nothing else), resources that reference only each other, and an
// ImagingStudy + Endpoint that the imaging pipeline's study selection accepts as they are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeableConcept, Coding, Condition, FhirResource, Observation } from 'fhir/r4.js';
import {
  CURRENT_SMOKER_STATUSES,
  FEMORAL_NECK_BODY_SITE,
  FRAGILITY_FRACTURES,
  GLUCOCORTICOIDS,
  HIP_FRACTURE,
  LUMBAR_SPINE_BODY_SITE,
  OBSERVATION_CATEGORIES,
  OBSERVATION_CODES,
  PARENT_RELATIONSHIPS,
  RHEUMATOID_ARTHRITIS,
  SECONDARY_OSTEOPOROSIS_CAUSES,
  SMOKING_STATUS,
  SYNTHETIC_DATA_TAG,
  SYSTEM,
  matchesCode,
  type Code,
} from '../../src/fhir/terminology.js';
import { imagingResourcesFromBundles, selectCandidateSeries } from '../../src/imaging/study-selection.js';
import { syntheticPatient, type SyntheticPatient } from '../../src/synthetic/cohort.js';
import { patientBundle, patientResources, recordResources, type SyntheticFhirRecord } from '../../src/synthetic/fhir-resources.js';
import { acquisition, radiographUids } from '../../src/synthetic/radiograph.js';

const ASOF = new Date('2025-06-30T00:00:00Z');
const PACS = 'http://127.0.0.1:8042/dicom-web';
const OPTIONS = { asOf: ASOF, dicomWebBaseUrl: PACS };
const SEED = 11;
const COUNT = 300;
const DAY_MS = 86_400_000;

const cohort: SyntheticPatient[] = Array.from({ length: COUNT }, (_, index) => syntheticPatient(SEED, index));
const records = new Map(cohort.map((patient) => [patient, patientResources(patient, OPTIONS)]));

const has = (concept: CodeableConcept | undefined, codes: readonly Code[]): boolean => codes.some((code) => concept?.coding?.some((c) => matchesCode(c, code)));
const observationsOf = (record: SyntheticFhirRecord, code: Code): Observation[] => record.observations.filter((o) => has(o.code, [code]));
const days = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / DAY_MS;

/** The only observation with this code, or undefined; fails on two. */
function single(record: SyntheticFhirRecord, code: Code): Observation | undefined {
  const found = observationsOf(record, code);
  assert.ok(found.length <= 1, `${record.patient.id}: ${found.length} observations ${code.code}`);
  return found[0];
}

/** Patients for which `factor` holds, and those whose record says so: the two sets must be one. */
function assertSameIds(label: string, factor: (p: SyntheticPatient) => boolean, recorded: (r: SyntheticFhirRecord) => boolean): void {
  const expected = cohort.filter(factor).map((p) => p.id);
  const actual = cohort.filter((p) => recorded(records.get(p)!)).map((p) => p.id);
  assert.ok(expected.length > 0, `${label}: the sample has none, so the check says nothing`);
  assert.deepEqual(actual, expected, label);
}

/** Every Coding in a resource, wherever it is nested. */
function codingsIn(value: unknown): Coding[] {
  if (Array.isArray(value)) return value.flatMap(codingsIn);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own = typeof object.system === 'string' && typeof object.code === 'string' ? [object as Coding] : [];
  return [...own, ...Object.values(object).flatMap(codingsIn)];
}

/** Every `reference` string in a resource. */
function referencesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  return [...(typeof object.reference === 'string' ? [object.reference] : []), ...Object.values(object).flatMap(referencesIn)];
}

describe('synthetic FHIR records: determinism', () => {
  it('gives identical JSON for identical calls, and a different record for another patient', () => {
    const patient = cohort[7]!;
    assert.equal(JSON.stringify(patientResources(patient, OPTIONS)), JSON.stringify(patientResources(syntheticPatient(SEED, 7), OPTIONS)));
    assert.equal(JSON.stringify(patientBundle(patient, OPTIONS)), JSON.stringify(patientBundle(syntheticPatient(SEED, 7), OPTIONS)));
    assert.notEqual(JSON.stringify(records.get(cohort[8]!)), JSON.stringify(records.get(patient)));
  });

  it('refuses a bad index date or DICOMweb address', () => {
    const patient = cohort[0]!;
    assert.throws(() => patientResources(patient, { ...OPTIONS, asOf: new Date('not a date') }), { name: 'RangeError', message: 'options.asOf must be a valid Date' });
    assert.throws(() => patientResources(patient, { ...OPTIONS, dicomWebBaseUrl: 'pacs.local/dicom-web' }), { name: 'TypeError', message: 'options.dicomWebBaseUrl must be an http(s) URL' });
    assert.throws(() => patientResources(patient, { ...OPTIONS, dicomWebBaseUrl: 'ftp://pacs.local/dicom-web' }), { name: 'TypeError', message: 'options.dicomWebBaseUrl must be an http(s) URL' });
  });
});

describe('synthetic FHIR records: every risk factor of 300 patients', () => {
  it('Patient: gender, and a birthDate that gives the age at the radiograph back to 0.1 year', () => {
    for (const [p, r] of records) {
      assert.equal(r.patient.id, p.id);
      assert.equal(r.patient.gender, p.factors.sex);
      const age = days(r.patient.birthDate!, r.imagingStudy.started!) / 365.25;
      assert.equal(Number(age.toFixed(1)), p.factors.age, p.id);
    }
  });

  it('weight, height and BMI: vital signs equal to the factors, on the day of the radiograph', () => {
    for (const [p, r] of records) {
      const weight = single(r, OBSERVATION_CODES.bodyWeight)!;
      const height = single(r, OBSERVATION_CODES.bodyHeight)!;
      const bmi = single(r, OBSERVATION_CODES.bmi)!;
      assert.deepEqual(weight.valueQuantity, { value: p.factors.weightKg, unit: 'kg', system: SYSTEM.ucum, code: 'kg' });
      assert.deepEqual(height.valueQuantity, { value: p.factors.heightCm, unit: 'cm', system: SYSTEM.ucum, code: 'cm' });
      assert.ok(Math.abs(bmi.valueQuantity!.value! - p.factors.weightKg! / (p.factors.heightCm! / 100) ** 2) <= 0.05, p.id);
      for (const o of [weight, height, bmi]) {
        assert.ok(has(o.category?.[0], [OBSERVATION_CATEGORIES.vitalSigns]));
        assert.equal(o.effectiveDateTime, r.imagingStudy.started);
      }
    }
  });

  it('smoking status: one social-history Observation each, with a current-smoker answer exactly for the smokers', () => {
    for (const r of records.values()) {
      const smoking = single(r, OBSERVATION_CODES.smokingStatus);
      assert.ok(smoking, r.patient.id);
      assert.ok(has(smoking.category?.[0], [OBSERVATION_CATEGORIES.socialHistory]));
      assert.ok(has(smoking.valueCodeableConcept, Object.values(SMOKING_STATUS)), 'a coded answer');
    }
    assertSameIds('current smokers', (p) => p.factors.currentSmoking === true, (r) => has(single(r, OBSERVATION_CODES.smokingStatus)?.valueCodeableConcept, CURRENT_SMOKER_STATUSES));
  });

  it('alcohol: 3 or more drinks a day exactly for the drinkers; some others have a lower intake on record, some none', () => {
    const drinks = (r: SyntheticFhirRecord): number | undefined => single(r, OBSERVATION_CODES.alcoholDrinksPerDay)?.valueQuantity?.value;
    assertSameIds('alcohol ≥ 3 units/day', (p) => p.factors.alcohol === true, (r) => (drinks(r) ?? 0) >= 3);
    const others = cohort.filter((p) => p.factors.alcohol === false).map((p) => drinks(records.get(p)!));
    assert.ok(others.some((value) => value === undefined), 'some without a record');
    assert.ok(others.some((value) => value !== undefined && value < 3), 'some with a lower intake');
    for (const r of records.values()) {
      const o = single(r, OBSERVATION_CODES.alcoholDrinksPerDay);
      if (o) assert.equal(o.valueQuantity?.code, '{drinks}/d');
    }
  });

  it('femoral-neck T-score: present exactly when recorded, equal to it, at the femoral neck, before the radiograph', () => {
    assertSameIds('T-score', (p) => p.factors.femoralNeckTScore !== null, (r) => single(r, OBSERVATION_CODES.dxaFemurTScore) !== undefined);
    for (const [p, r] of records) {
      const o = single(r, OBSERVATION_CODES.dxaFemurTScore);
      if (!o) continue;
      assert.equal(o.valueQuantity?.value, p.factors.femoralNeckTScore);
      assert.ok(has(o.bodySite, [FEMORAL_NECK_BODY_SITE]));
      assert.ok(days(o.effectiveDateTime!, r.imagingStudy.started!) >= 0);
    }
  });

  it('conditions: confirmed rheumatoid arthritis, one secondary-osteoporosis cause, a fragility fracture before the radiograph', () => {
    assertSameIds('rheumatoid arthritis', (p) => p.factors.rheumatoidArthritis === true, (r) => r.conditions.some((c) => has(c.code, [RHEUMATOID_ARTHRITIS])));
    assertSameIds('secondary osteoporosis', (p) => p.factors.secondaryOsteoporosis === true, (r) => r.conditions.some((c) => has(c.code, SECONDARY_OSTEOPOROSIS_CAUSES)));
    assertSameIds('prior fragility fracture', (p) => p.factors.priorFragilityFracture === true, (r) => r.conditions.some((c) => has(c.code, FRAGILITY_FRACTURES)));
    const causes = new Set<string>();
    for (const [p, r] of records) {
      assert.ok(r.conditions.filter((c) => has(c.code, SECONDARY_OSTEOPOROSIS_CAUSES)).length <= 1, p.id);
      for (const c of r.conditions) {
        assert.equal(c.verificationStatus?.coding?.[0]?.code, 'confirmed');
        const cause = SECONDARY_OSTEOPOROSIS_CAUSES.find((code) => has(c.code, [code]));
        if (cause) {
          causes.add(cause.code);
          assert.ok(cause.sex === undefined || cause.sex === p.factors.sex, `${p.id}: ${cause.display} for a ${p.factors.sex}`);
        }
        if (has(c.code, FRAGILITY_FRACTURES)) assert.ok(days(c.onsetDateTime!, r.imagingStudy.started!) >= 90, `${p.id}: fracture onset`);
        assert.ok(days(c.recordedDate!, r.imagingStudy.started!) > 0, `${p.id}: recorded before the radiograph`);
      }
    }
    assert.ok(causes.size >= 3, `the causes vary between patients: ${[...causes].join(', ')}`);
  });

  it('a radiographic vertebral fracture is an active condition at the lumbar spine; a clinical one is resolved', () => {
    const fracture = (r: SyntheticFhirRecord): Condition | undefined => r.conditions.find((c) => has(c.code, FRAGILITY_FRACTURES));
    assertSameIds('vertebral', (p) => p.factors.priorFragilityFracture === true && !p.latent.clinicalFracture, (r) => has(fracture(r)?.bodySite?.[0], [LUMBAR_SPINE_BODY_SITE]));
    assertSameIds('clinical', (p) => p.latent.clinicalFracture, (r) => fracture(r)?.clinicalStatus?.coding?.[0]?.code === 'resolved');
  });

  it('glucocorticoids: an active order of ≥ 5 mg/day prednisolone-equivalent, started more than 3 months before, exactly for the users', () => {
    assertSameIds('glucocorticoids', (p) => p.factors.glucocorticoids === true, (r) => r.medicationRequests.length > 0);
    const drugs = Object.values(GLUCOCORTICOIDS);
    for (const r of records.values()) {
      for (const m of r.medicationRequests) {
        assert.equal(m.status, 'active');
        const drug = drugs.find((g) => has(m.medicationCodeableConcept, [g.rxnorm]));
        assert.ok(drug && has(m.medicationCodeableConcept, [drug.atc]), 'RxNorm and ATC codes of one glucocorticoid');
        const dose = m.dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity;
        assert.equal(dose?.code, 'mg');
        assert.deepEqual(m.dosageInstruction?.[0]?.timing?.repeat, { frequency: 1, period: 1, periodUnit: 'd' });
        assert.ok(dose.value! * drug.prednisoloneEquivalent >= 5);
        assert.ok(days(m.authoredOn!, r.imagingStudy.started!) > 92, 'more than 3 months');
      }
    }
  });

  it("parent's hip fracture: a FamilyMemberHistory of the mother or father exactly when there was one", () => {
    assertSameIds('parent hip fracture', (p) => p.factors.parentHipFracture === true, (r) => r.familyMemberHistories.length > 0);
    for (const r of records.values()) {
      for (const f of r.familyMemberHistories) {
        assert.ok(has(f.relationship, [PARENT_RELATIONSHIPS.mother, PARENT_RELATIONSHIPS.father]));
        assert.ok(has(f.condition?.[0]?.code, [HIP_FRACTURE]));
      }
    }
  });
});

describe('synthetic FHIR records: structure', () => {
  const bundles = cohort.map((patient) => patientBundle(patient, OPTIONS));
  const keyOf = (resource: FhirResource): string => `${resource.resourceType}/${resource.id}`;

  it('is a transaction of PUTs to each resource’s own id, every id valid and used once in the whole cohort', () => {
    const keys = new Set<string>();
    for (const [i, bundle] of bundles.entries()) {
      assert.equal(bundle.type, 'transaction');
      assert.deepEqual(bundle.entry?.map((entry) => entry.resource), recordResources(records.get(cohort[i]!)!));
      for (const entry of bundle.entry ?? []) {
        const key = keyOf(entry.resource!);
        assert.deepEqual(entry.request, { method: 'PUT', url: key });
        assert.match(entry.resource!.id!, /^[A-Za-z0-9.-]{1,64}$/);
        assert.ok(!keys.has(key), `${key} twice`);
        keys.add(key);
      }
      // Medplum refuses a transaction of more than 50 updates.
      const entries = bundle.entry?.length ?? 0;
      assert.ok(entries <= 14, `${cohort[i]!.id}: ${entries} entries`);
    }
  });

  it('references only resources in its own Bundle, tags every resource as synthetic and codes only in known systems', () => {
    const systems = new Set<string>(Object.values(SYSTEM));
    for (const bundle of bundles) {
      const resources = (bundle.entry ?? []).map((entry) => entry.resource!);
      const known = new Set(resources.map(keyOf));
      for (const resource of resources) {
        for (const reference of referencesIn(resource)) assert.ok(known.has(reference), `${keyOf(resource)} → ${reference}`);
        assert.ok(resource.meta?.tag?.some((tag) => matchesCode(tag, SYNTHETIC_DATA_TAG)));
        for (const coding of codingsIn(resource)) assert.ok(systems.has(coding.system!), `system ${coding.system}`);
      }
    }
  });

  it('has an ImagingStudy + Endpoint that study selection accepts: the radiograph’s UIDs, modality and date', () => {
    for (const [i, p] of cohort.entries()) {
      assert.equal(imagingResourcesFromBundles([bundles[i]!]).studies.length, 1);
      const r = records.get(p)!;
      const a = acquisition(p, ASOF);
      const uids = radiographUids(p);
      const selection = selectCandidateSeries({ studies: [r.imagingStudy], endpoints: [r.endpoint], now: ASOF, lookbackDays: 365, allowsEndpoint: (address) => address === PACS });
      assert.deepEqual(selection.rejected, []);
      assert.deepEqual(selection.candidates, [
        {
          imagingStudyReference: `ImagingStudy/${r.imagingStudy.id}`,
          studyInstanceUid: uids.study,
          seriesInstanceUid: uids.series,
          started: new Date(`${a.studyDate.slice(0, 4)}-${a.studyDate.slice(4, 6)}-${a.studyDate.slice(6, 8)}T00:00:00Z`),
          modality: a.modality,
          wadoRsBaseUrl: PACS,
          bodySiteConfirmed: true,
        },
      ]);
      assert.equal(r.imagingStudy.series?.[0]?.instance?.[0]?.uid, uids.instance);
      assert.deepEqual(r.endpoint.payloadMimeType, ['application/dicom']);
    }
  });
});
