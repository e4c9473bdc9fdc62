// Which instance of the candidate series is downloaded, and what compromises are recorded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DicomJsonDataset } from '../../src/imaging/dicomweb-client.js';
import { SELECTION_FIELDS, selectInstance, viewOf, type InstanceSelection, type SelectedInstance } from '../../src/imaging/instance-selection.js';

const CR = '1.2.840.10008.5.1.4.1.1.1';
const DX_PRESENTATION = '1.2.840.10008.5.1.4.1.1.1.1';
const DX_PROCESSING = '1.2.840.10008.5.1.4.1.1.1.1.1';
const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
const GRAYSCALE_PR = '1.2.840.10008.5.1.4.1.1.11.1';

interface Spec {
  sop: string;
  sopClass?: string;
  viewPosition?: string;
  viewCode?: [scheme: string, code: string];
  intent?: string;
  rows?: number;
  columns?: number;
  frames?: number | string;
  bodyPart?: string;
  series?: string;
}

function instance(spec: Spec): DicomJsonDataset {
  const dataset: DicomJsonDataset = {
    '00080016': { vr: 'UI', Value: [spec.sopClass ?? DX_PRESENTATION] },
    '00080018': { vr: 'UI', Value: [spec.sop] },
    '0020000D': { vr: 'UI', Value: ['1.2.3'] },
    '0020000E': { vr: 'UI', Value: [spec.series ?? '1.2.3.4'] },
    '00280010': { vr: 'US', Value: [spec.rows ?? 2000] },
    '00280011': { vr: 'US', Value: [spec.columns ?? 1500] },
    '00180015': { vr: 'CS', Value: [spec.bodyPart ?? 'LSPINE'] },
  };
  if (spec.viewPosition !== undefined) dataset['00185101'] = { vr: 'CS', Value: [spec.viewPosition] };
  if (spec.viewCode) {
    dataset['00540220'] = {
      vr: 'SQ',
      Value: [{ '00080100': { vr: 'SH', Value: [spec.viewCode[1]] }, '00080102': { vr: 'SH', Value: [spec.viewCode[0]] } }],
    };
  }
  if (spec.intent !== undefined) dataset['00080068'] = { vr: 'CS', Value: [spec.intent] };
  if (spec.frames !== undefined) dataset['00280008'] = { vr: 'IS', Value: [spec.frames] };
  return dataset;
}

function chosen(selection: InstanceSelection): SelectedInstance {
  assert.ok(selection.ok, `expected an instance, got: ${selection.ok ? '' : selection.reason}`);
  return selection.instance;
}

const confirmed = (...specs: Spec[]): { instances: DicomJsonDataset[]; bodySiteConfirmed: boolean } => ({
  instances: specs.map(instance),
  bodySiteConfirmed: true,
});

describe('view detection', () => {
  it('reads ViewPosition, then ViewCodeSequence (SNOMED CT or SNOMED-RT)', () => {
    assert.equal(viewOf(instance({ sop: '1', viewPosition: 'LL' })), 'lateral');
    assert.equal(viewOf(instance({ sop: '1', viewPosition: 'rl' })), 'lateral');
    assert.equal(viewOf(instance({ sop: '1', viewPosition: 'LATERAL' })), 'lateral');
    assert.equal(viewOf(instance({ sop: '1', viewPosition: 'AP' })), 'ap');
    assert.equal(viewOf(instance({ sop: '1', viewPosition: 'PA' })), 'pa');
    assert.equal(viewOf(instance({ sop: '1', viewCode: ['SCT', '399067008'] })), 'lateral');
    assert.equal(viewOf(instance({ sop: '1', viewCode: ['SRT', 'R-10236'] })), 'lateral');
    assert.equal(viewOf(instance({ sop: '1', viewPosition: '', viewCode: ['SRT', 'R-10206'] })), 'ap');
    assert.equal(viewOf(instance({ sop: '1', viewCode: ['SCT', '399300004'] })), 'pa');
    assert.equal(viewOf(instance({ sop: '1', viewCode: ['SRT', '399067008'] })), 'unknown');
    assert.equal(viewOf(instance({ sop: '1' })), 'unknown');
  });

  it('asks QIDO for every attribute it reads', () => {
    for (const tag of ['00185101', '00540220', '00080068', '00280008', '00280010', '00280011', '00180015', '00080016']) {
      assert.ok(SELECTION_FIELDS.includes(tag), tag);
    }
  });
});

describe('instance selection', () => {
  it('takes the lateral over the AP, from another series if need be, with no compromise recorded', () => {
    const ap = confirmed({ sop: '1.1', viewPosition: 'AP', series: '1.2.3.1', rows: 3000, columns: 3000 });
    const lateral = confirmed({ sop: '2.1', viewPosition: 'LL', series: '1.2.3.2' });
    assert.deepEqual(chosen(selectInstance([ap, lateral], 'lateral')), {
      studyUid: '1.2.3',
      seriesUid: '1.2.3.2',
      sopInstanceUid: '2.1',
      view: 'lateral',
      rows: 2000,
      columns: 1500,
      reasons: [],
    });
  });

  it('falls back to another view and says so', () => {
    const result = chosen(selectInstance([confirmed({ sop: '1', viewPosition: 'AP' })], 'lateral'));
    assert.equal(result.view, 'ap');
    assert.deepEqual(result.reasons, ['view-not-found: wanted lateral, took AP']);
  });

  it('prefers an image whose view is not recorded over a known other view', () => {
    const result = chosen(selectInstance([confirmed({ sop: '1', viewPosition: 'AP' }, { sop: '2' })], 'lateral'));
    assert.equal(result.sopInstanceUid, '2');
    assert.deepEqual(result.reasons, ['view-unknown: wanted lateral, took an image whose view is not recorded']);
  });

  it('for an AP wanted, takes AP before PA before lateral', () => {
    const source = confirmed({ sop: '1', viewPosition: 'LL' }, { sop: '2', viewPosition: 'PA' }, { sop: '3', viewPosition: 'AP' });
    assert.equal(chosen(selectInstance([source], 'ap')).sopInstanceUid, '3');
    const pa = chosen(selectInstance([confirmed({ sop: '1', viewPosition: 'LL' }, { sop: '2', viewPosition: 'PA' })], 'ap'));
    assert.deepEqual([pa.sopInstanceUid, pa.reasons], ['2', ['view-not-found: wanted AP, took PA']]);
  });

  it('prefers For Presentation over For Processing, by PresentationIntentType or SOP class; CR counts as presentation', () => {
    const byIntent = confirmed(
      { sop: '1', viewPosition: 'LL', intent: 'FOR PROCESSING', rows: 3000, columns: 3000 },
      { sop: '2', viewPosition: 'LL', intent: 'FOR PRESENTATION' },
    );
    assert.equal(chosen(selectInstance([byIntent], 'lateral')).sopInstanceUid, '2');
    const byClass = confirmed(
      { sop: '1', viewPosition: 'LL', sopClass: DX_PROCESSING, rows: 3000, columns: 3000 },
      { sop: '2', viewPosition: 'LL', sopClass: CR },
    );
    assert.equal(chosen(selectInstance([byClass], 'lateral')).sopInstanceUid, '2');
    const onlyProcessing = chosen(selectInstance([confirmed({ sop: '1', viewPosition: 'LL', sopClass: DX_PROCESSING })], 'lateral'));
    assert.deepEqual(onlyProcessing.reasons, ['for-processing: no For Presentation image of the chosen view']);
  });

  it('takes the largest Rows × Columns among duplicates, then the earlier source', () => {
    const older = confirmed({ sop: '1', viewPosition: 'LL', rows: 1000, columns: 1000 });
    const newer = confirmed({ sop: '2', viewPosition: 'LL', rows: 2048, columns: 1024 }, { sop: '3', viewPosition: 'LL', rows: 1024, columns: 1024 });
    assert.equal(chosen(selectInstance([newer, older], 'lateral')).sopInstanceUid, '2');
    const twins = [confirmed({ sop: '4', viewPosition: 'LL' }), confirmed({ sop: '5', viewPosition: 'LL' })];
    assert.equal(chosen(selectInstance(twins, 'lateral')).sopInstanceUid, '4');
  });

  it('ranks multi-frame images last, even of the wanted view', () => {
    const source = confirmed({ sop: '1', viewPosition: 'LL', frames: '3' }, { sop: '2', viewPosition: 'AP', frames: 1 });
    assert.equal(chosen(selectInstance([source], 'lateral')).sopInstanceUid, '2');
    const only = chosen(selectInstance([confirmed({ sop: '1', viewPosition: 'LL', frames: 2 })], 'lateral'));
    assert.deepEqual(only.reasons, ['multi-frame: no single-frame image was usable']);
  });

  it('skips instances that are not CR/DX images, and records how many and why', () => {
    const source = confirmed(
      { sop: '1', sopClass: BASIC_TEXT_SR },
      { sop: '2', sopClass: GRAYSCALE_PR },
      { sop: '3', sopClass: BASIC_TEXT_SR },
      { sop: '4', viewPosition: 'AP' },
    );
    const result = chosen(selectInstance([source], 'lateral'));
    assert.equal(result.sopInstanceUid, '4');
    assert.deepEqual(result.reasons, [
      'view-not-found: wanted lateral, took AP',
      `skipped 2 instances: not a CR/DX image (SOP class ${BASIC_TEXT_SR})`,
      `skipped 1 instance: not a CR/DX image (SOP class ${GRAYSCALE_PR})`,
    ]);
  });

  it('needs the body part from DICOM when FHIR did not confirm it, and refuses another body part', () => {
    const chest = instance({ sop: '1', viewPosition: 'LL', bodyPart: 'CHEST' });
    const unstated = instance({ sop: '2', viewPosition: 'LL' });
    delete unstated['00180015'];
    const stated = instance({ sop: '3', viewPosition: 'AP', bodyPart: 'L-SPINE' });
    const unconfirmed = selectInstance([{ instances: [chest, unstated, stated], bodySiteConfirmed: false }], 'lateral');
    assert.equal(chosen(unconfirmed).sopInstanceUid, '3');
    const fhirConfirmed = selectInstance([{ instances: [chest, unstated, stated], bodySiteConfirmed: true }], 'lateral');
    assert.equal(chosen(fhirConfirmed).sopInstanceUid, '2');
  });

  it('answers no instance with the reasons when nothing is usable', () => {
    const none = selectInstance([confirmed({ sop: '1', sopClass: BASIC_TEXT_SR }), { instances: [{}], bodySiteConfirmed: true }], 'lateral');
    assert.deepEqual(none, {
      ok: false,
      reason: `no usable instance (skipped 1 instance: not a CR/DX image (SOP class ${BASIC_TEXT_SR}); skipped 1 instance: not a CR/DX image (SOP class missing))`,
    });
    assert.deepEqual(selectInstance([], 'lateral'), { ok: false, reason: 'no instances in the candidate series' });
  });

  it('skips an instance whose UIDs could not be put into a WADO-RS path', () => {
    const bad = instance({ sop: '1/../2', viewPosition: 'LL' });
    const result = chosen(selectInstance([confirmed({ sop: '3', viewPosition: 'AP' }), { instances: [bad], bodySiteConfirmed: true }], 'lateral'));
    assert.equal(result.sopInstanceUid, '3');
    assert.ok(result.reasons.includes('skipped 1 instance: missing or malformed UIDs'));
  });
});
