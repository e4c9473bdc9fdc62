// Which ImagingStudy series count as a lumbar spine radiograph, and where each is fetched from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, ImagingStudy, ImagingStudySeries } from 'fhir/r4.js';
import { isLumbarBodyPart, normalizeBodyPart } from '../../src/fhir/terminology.js';
import {
  imagingResourcesFromBundles,
  loadImagingResources,
  noCandidateCode,
  selectCandidateSeries,
  studyInstanceUid,
  type StudySelectionInput,
} from '../../src/imaging/study-selection.js';
import { DCM, LUMBAR, dicomWebEndpoint } from '../helpers/imaging-resources.js';

const NOW = new Date('2024-06-01T12:00:00Z');

function series(uid: string, overrides: Partial<ImagingStudySeries> = {}): ImagingStudySeries {
  return { uid, modality: { system: DCM, code: 'DX' }, bodySite: LUMBAR, ...overrides };
}

function study(id: string, started: string, seriesList: ImagingStudySeries[] | undefined, overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  return {
    resourceType: 'ImagingStudy',
    id,
    status: 'available',
    subject: { reference: 'Patient/p1' },
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:1.2.826.0.1.${id.replace(/\D/g, '') || '9'}` }],
    started,
    endpoint: [{ reference: 'Endpoint/pacs' }],
    ...(seriesList ? { series: seriesList } : {}),
    ...overrides,
  };
}

const pacs = dicomWebEndpoint('pacs', 'https://pacs.example.org/dicom-web');

function select(studies: ImagingStudy[], extra: Partial<StudySelectionInput> = {}): ReturnType<typeof selectCandidateSeries> {
  return selectCandidateSeries({ studies, endpoints: [pacs], now: NOW, lookbackDays: 365, ...extra });
}

describe('terminology matchers', () => {
  it('matches BodyPartExamined spellings after normalising case, spaces, underscores and hyphens', () => {
    for (const text of ['LSPINE', 'L-SPINE', 'l spine', 'LS-SPINE', 'LSSPINE', 'Lumbar Spine', 'LUMBAR_SPINE', 'lumbosacral', 'LUMBOSACRAL SPINE', 'LUMBAR']) {
      assert.equal(isLumbarBodyPart(text), true, text);
    }
    for (const text of ['CSPINE', 'TSPINE', 'CHEST', 'SPINE', 'PELVIS', '', undefined]) assert.equal(isLumbarBodyPart(text), false, String(text));
    assert.equal(normalizeBodyPart(' ls_spine '), 'LSSPINE');
  });
});

describe('study selection', () => {
  it('returns DX/CR lumbar series, most recent first, with the WADO-RS address and provenance', () => {
    const older = study('s1', '2023-09-01T10:00:00Z', [series('1.2.3.1', { modality: { system: DCM, code: 'CR' } })]);
    const newer = study('s2', '2024-03-01T10:00:00Z', [series('1.2.3.2'), series('1.2.3.3')]);
    const { candidates, rejected } = select([older, newer]);
    assert.deepEqual(rejected, []);
    assert.deepEqual(
      candidates.map((c) => [c.imagingStudyReference, c.seriesInstanceUid, c.modality]),
      [
        ['ImagingStudy/s2', '1.2.3.2', 'DX'],
        ['ImagingStudy/s2', '1.2.3.3', 'DX'],
        ['ImagingStudy/s1', '1.2.3.1', 'CR'],
      ],
    );
    assert.deepEqual(candidates[0], {
      imagingStudyReference: 'ImagingStudy/s2',
      studyInstanceUid: '1.2.826.0.1.2',
      seriesInstanceUid: '1.2.3.2',
      started: new Date('2024-03-01T10:00:00Z'),
      modality: 'DX',
      wadoRsBaseUrl: 'https://pacs.example.org/dicom-web',
      bodySiteConfirmed: true,
    });
  });

  it('orders by the series start when it differs from the study start', () => {
    const s = study('s1', '2024-01-01T00:00:00Z', [series('1.1', { started: '2024-01-01T08:00:00Z' }), series('1.2', { started: '2024-01-02T08:00:00Z' })]);
    assert.deepEqual(select([s]).candidates.map((c) => c.seriesInstanceUid), ['1.2', '1.1']);
  });

  it('accepts a body site written as BodyPartExamined text in code or display', () => {
    const s = study('s1', '2024-01-01', [
      series('1.1', { bodySite: { code: 'L-SPINE' } }),
      series('1.2', { bodySite: { system: 'http://example.org/local', code: 'XR123', display: 'lumbosacral_spine' } }),
    ]);
    assert.deepEqual(select([s]).candidates.map((c) => [c.seriesInstanceUid, c.bodySiteConfirmed]), [['1.1', true], ['1.2', true]]);
  });

  it('keeps a series without body site or a study without series, marked unconfirmed', () => {
    const noSite = study('s1', '2024-01-01', [series('1.1', { bodySite: undefined })]);
    const noSeries = study('s2', '2024-02-01', undefined, { modality: [{ system: DCM, code: 'CR' }] });
    const { candidates } = select([noSite, noSeries]);
    assert.deepEqual(
      candidates.map((c) => [c.imagingStudyReference, c.seriesInstanceUid, c.modality, c.bodySiteConfirmed]),
      [
        ['ImagingStudy/s2', undefined, 'CR', false],
        ['ImagingStudy/s1', '1.1', 'DX', false],
      ],
    );
  });

  it('rejects ineligible studies with no-eligible-study (study-too-old when only the date fails) and a reason', () => {
    const studies = [
      study('s1', '2024-01-01', [series('1.1', { modality: { system: DCM, code: 'MR' } })]),
      study('s2', '2024-01-01', [series('1.2', { bodySite: { system: 'http://snomed.info/sct', code: '51185008', display: 'Thorax' } })]),
      study('s3', '2021-01-01', [series('1.3')]),
      study('s4', '2024-01-01', [series('1.4')], { status: 'cancelled' }),
      study('s5', '2024-01-01', [series('1.5')], { status: 'entered-in-error' }),
      study('s6', '2024-01-01', [series('1.6')], { identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:not-a-uid' }] }),
      study('s7', '2024-01-01', [series('1.7')], { started: undefined }),
      study('s8', '2024-01-01', [series('../1.8')]),
      study('s9', '2024-01-01', undefined),
    ];
    const selection = select(studies);
    assert.deepEqual(selection.candidates, []);
    assert.deepEqual(
      selection.rejected.map((r) => [r.reference, r.code, r.detail]),
      [
        ['ImagingStudy/s1', 'no-eligible-study', 'not DX or CR'],
        ['ImagingStudy/s2', 'no-eligible-study', 'body site is not the lumbar spine'],
        ['ImagingStudy/s3', 'study-too-old', 'older than the look-back window'],
        ['ImagingStudy/s4', 'no-eligible-study', 'status cancelled'],
        ['ImagingStudy/s5', 'no-eligible-study', 'status entered-in-error'],
        ['ImagingStudy/s6', 'no-eligible-study', 'no Study Instance UID identifier'],
        ['ImagingStudy/s7', 'no-eligible-study', 'no start date'],
        ['ImagingStudy/s8', 'no-eligible-study', 'series UID missing or malformed'],
        ['ImagingStudy/s9', 'no-eligible-study', 'not DX or CR'],
      ],
    );
    // An old lumbar radiograph says more than "nothing found"; without it, nothing qualified at all.
    assert.equal(noCandidateCode(selection), 'study-too-old');
    assert.equal(noCandidateCode(select(studies.filter((s) => s.id !== 's3'))), 'no-eligible-study');
  });

  it('reports an eligible study without a usable endpoint as no-dicomweb-endpoint', () => {
    const inactive = dicomWebEndpoint('off', 'https://old.example.org/dicom-web', { status: 'off' });
    const wrongType = dicomWebEndpoint('wado-uri', 'https://pacs.example.org/wado', { connectionType: { code: 'dicom-wado-uri' } });
    const studies = [
      study('s1', '2024-01-01', [series('1.1')], { endpoint: undefined }),
      study('s2', '2024-01-02', [series('1.2')], { endpoint: [{ reference: 'Endpoint/off' }, { reference: 'Endpoint/wado-uri' }] }),
      study('s3', '2024-01-03', [series('1.3')], { endpoint: [{ reference: 'Endpoint/missing' }] }),
      study('s4', '2020-01-03', [series('1.4')]),
    ];
    const selection = select(studies, { endpoints: [pacs, inactive, wrongType] });
    assert.deepEqual(selection.candidates, []);
    assert.deepEqual(
      selection.rejected.map((r) => [r.reference, r.code]),
      [
        ['ImagingStudy/s1', 'no-dicomweb-endpoint'],
        ['ImagingStudy/s2', 'no-dicomweb-endpoint'],
        ['ImagingStudy/s3', 'no-dicomweb-endpoint'],
        ['ImagingStudy/s4', 'study-too-old'],
      ],
    );
    assert.equal(selection.rejected[0]?.detail, 'series 1: no active dicom-wado-rs Endpoint');
    assert.equal(noCandidateCode(selection), 'no-dicomweb-endpoint');
  });

  it('prefers the series endpoint, falls back to the study endpoint, and resolves contained and absolute references', () => {
    const seriesPacs = dicomWebEndpoint('series-pacs', 'https://series.example.org/dicom-web');
    const s = study(
      's1',
      '2024-01-01',
      [
        series('1.1', { endpoint: [{ reference: 'Endpoint/series-pacs' }] }),
        series('1.2', { endpoint: [{ reference: 'Endpoint/missing' }] }),
        series('1.3', { endpoint: [{ reference: '#local' }] }),
        series('1.4', { endpoint: [{ reference: 'https://fhir.example.org/r4/Endpoint/series-pacs/_history/3' }] }),
      ],
      { contained: [dicomWebEndpoint('local', 'https://contained.example.org/dicom-web')] },
    );
    const { candidates } = select([s], { endpoints: [pacs, seriesPacs] });
    assert.deepEqual(
      candidates.map((c) => [c.seriesInstanceUid, c.wadoRsBaseUrl]),
      [
        ['1.1', 'https://series.example.org/dicom-web'],
        ['1.2', 'https://pacs.example.org/dicom-web'],
        ['1.3', 'https://contained.example.org/dicom-web'],
        ['1.4', 'https://series.example.org/dicom-web'],
      ],
    );
  });

  it('passes over endpoints the allow-list refuses, and says so when none is left', () => {
    const other = dicomWebEndpoint('other', 'https://other.example.org/dicom-web');
    const allowsEndpoint = (address: string): boolean => address.startsWith('https://pacs.example.org');
    const next = study('s1', '2024-01-01', [series('1.1')], { endpoint: [{ reference: 'Endpoint/other' }, { reference: 'Endpoint/pacs' }] });
    assert.equal(select([next], { endpoints: [pacs, other], allowsEndpoint }).candidates[0]?.wadoRsBaseUrl, 'https://pacs.example.org/dicom-web');

    const refused = study('s2', '2024-01-01', [series('1.2')], { endpoint: [{ reference: 'Endpoint/other' }] });
    const selection = select([refused], { endpoints: [pacs, other], allowsEndpoint });
    assert.deepEqual(selection.rejected.map((r) => r.code), ['endpoint-not-allowed']);
    assert.equal(noCandidateCode(selection), 'endpoint-not-allowed');
  });

  it('reads the Study Instance UID only from a urn:dicom:uid identifier', () => {
    assert.equal(studyInstanceUid(study('s1', '2024-01-01', [])), '1.2.826.0.1.1');
    assert.equal(studyInstanceUid(study('s1', '2024-01-01', [], { identifier: [{ system: 'urn:dicom:uid', value: '1.2.3' }] })), '1.2.3');
    assert.equal(studyInstanceUid(study('s1', '2024-01-01', [], { identifier: [{ system: 'http://example.org/accession', value: '1.2.3' }] })), undefined);
  });
});

describe('imaging resources from Bundles', () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      { resource: study('s1', '2024-01-01', [series('1.1')]), search: { mode: 'match' } },
      { resource: pacs, search: { mode: 'include' } },
      { resource: { resourceType: 'OperationOutcome', issue: [] }, search: { mode: 'outcome' } },
    ],
  };

  it('splits studies from endpoints and ignores everything else', () => {
    const resources = imagingResourcesFromBundles([bundle, { resourceType: 'Bundle', type: 'searchset' }]);
    assert.deepEqual(resources.studies.map((s) => s.id), ['s1']);
    assert.deepEqual(resources.endpoints.map((e) => e.id), ['pacs']);
  });

  it('uses a prefetched Bundle without any FHIR request', async () => {
    const resources = await loadImagingResources({ patientId: 'p1', prefetch: [bundle] });
    assert.equal(select(resources.studies, { endpoints: resources.endpoints }).candidates.length, 1);
  });

  it('needs a FHIR client when nothing is prefetched', async () => {
    await assert.rejects(loadImagingResources({ patientId: 'p1' }), { name: 'TypeError', message: 'loadImagingResources needs a FHIR client when nothing is prefetched' });
  });
});
