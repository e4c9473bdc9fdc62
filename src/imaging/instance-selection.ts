// Chooses the one instance to download from QIDO-RS / WADO-RS metadata of the candidate series:
// the wanted view, For Presentation, single frame, largest matrix. Every compromise is written into
// `reasons` so the assessment can say what it used and why.
import {
  PRESENTATION_INTENT,
  RADIOGRAPH_SOP_CLASSES,
  VIEW_CODES,
  VIEW_POSITIONS,
  isLumbarBodyPart,
  type ViewName,
} from '../fhir/terminology.js';
import { isDicomUid, type DicomJsonDataset } from './dicomweb-client.js';

export type WantedView = 'lateral' | 'ap';
export type DetectedView = ViewName | 'unknown';

const TAG = {
  sopClassUid: '00080016',
  sopInstanceUid: '00080018',
  presentationIntentType: '00080068',
  codeValue: '00080100',
  codingSchemeDesignator: '00080102',
  bodyPartExamined: '00180015',
  viewPosition: '00185101',
  studyInstanceUid: '0020000D',
  seriesInstanceUid: '0020000E',
  numberOfFrames: '00280008',
  rows: '00280010',
  columns: '00280011',
  viewCodeSequence: '00540220',
} as const;

/** The attributes selection reads; pass as QIDO `includeFields`, since QIDO's defaults leave most out. */
export const SELECTION_FIELDS: readonly string[] = Object.values(TAG).filter((tag) => tag !== TAG.codeValue && tag !== TAG.codingSchemeDesignator);

export interface InstanceSource {
  instances: readonly DicomJsonDataset[];
  /** False when FHIR did not say the series is of the lumbar spine: then the DICOM BodyPartExamined must. */
  bodySiteConfirmed: boolean;
}

export interface SelectedInstance {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  view: DetectedView;
  rows?: number;
  columns?: number;
  /** Compromises made (other view, For Processing, multi-frame) and instances skipped, for the record. */
  reasons: string[];
}

export type InstanceSelection = { ok: true; instance: SelectedInstance } | { ok: false; reason: string };

const VIEW_LABEL: Readonly<Record<DetectedView, string>> = { lateral: 'lateral', ap: 'AP', pa: 'PA', unknown: 'unknown' };

// Lower is better; an unrecorded view may still be the wanted one, so it beats a known other view.
const VIEW_RANK: Readonly<Record<WantedView, Readonly<Record<DetectedView, number>>>> = {
  lateral: { lateral: 0, unknown: 1, ap: 2, pa: 2 },
  ap: { ap: 0, pa: 1, unknown: 2, lateral: 3 },
};

const PRESENTATION_SOP_CLASSES: ReadonlySet<string> = new Set([RADIOGRAPH_SOP_CLASSES.cr, RADIOGRAPH_SOP_CLASSES.dxForPresentation]);
const RADIOGRAPH_SOP_CLASS_SET: ReadonlySet<string> = new Set(Object.values(RADIOGRAPH_SOP_CLASSES));

function values(dataset: DicomJsonDataset | undefined, tag: string): unknown[] {
  const value = dataset?.[tag]?.Value;
  return Array.isArray(value) ? value : [];
}

function text(dataset: DicomJsonDataset | undefined, tag: string): string | undefined {
  const [value] = values(dataset, tag);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** IS and US arrive as numbers, though some servers send IS as a string. */
function integer(dataset: DicomJsonDataset, tag: string): number | undefined {
  const [value] = values(dataset, tag);
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/** The projection from ViewPosition, else from ViewCodeSequence. */
export function viewOf(dataset: DicomJsonDataset): DetectedView {
  const views = Object.keys(VIEW_POSITIONS) as ViewName[];
  const position = text(dataset, TAG.viewPosition)?.toUpperCase();
  const byPosition = views.find((view) => position !== undefined && VIEW_POSITIONS[view].includes(position));
  if (byPosition) return byPosition;
  for (const item of values(dataset, TAG.viewCodeSequence)) {
    if (item === null || typeof item !== 'object') continue;
    const code = text(item as DicomJsonDataset, TAG.codeValue);
    const scheme = text(item as DicomJsonDataset, TAG.codingSchemeDesignator);
    const byCode = views.find((view) => VIEW_CODES[view].some((c) => c.code === code && c.scheme === scheme));
    if (byCode) return byCode;
  }
  return 'unknown';
}

interface Ranked {
  instance: Omit<SelectedInstance, 'reasons'>;
  presentation: boolean;
  multiFrame: boolean;
  key: number[];
}

/** Why an instance cannot be used at all, or undefined when it can. */
function unusable(dataset: DicomJsonDataset, bodySiteConfirmed: boolean): string | undefined {
  const sopClass = text(dataset, TAG.sopClassUid);
  if (sopClass === undefined || !RADIOGRAPH_SOP_CLASS_SET.has(sopClass)) return `not a CR/DX image (SOP class ${sopClass ?? 'missing'})`;
  const uids = [TAG.studyInstanceUid, TAG.seriesInstanceUid, TAG.sopInstanceUid].map((tag) => text(dataset, tag));
  if (!uids.every(isDicomUid)) return 'missing or malformed UIDs';
  const bodyPart = text(dataset, TAG.bodyPartExamined);
  if (bodyPart !== undefined && !isLumbarBodyPart(bodyPart)) return `body part ${bodyPart.slice(0, 16)}`;
  if (bodyPart === undefined && !bodySiteConfirmed) return 'body part recorded neither in FHIR nor in DICOM';
  return undefined;
}

function rank(dataset: DicomJsonDataset, wanted: WantedView, order: number): Ranked {
  const view = viewOf(dataset);
  const intent = text(dataset, TAG.presentationIntentType)?.toUpperCase();
  const presentation = intent !== undefined
    ? intent === PRESENTATION_INTENT.presentation
    : PRESENTATION_SOP_CLASSES.has(text(dataset, TAG.sopClassUid) ?? '');
  const multiFrame = (integer(dataset, TAG.numberOfFrames) ?? 1) > 1;
  const rows = integer(dataset, TAG.rows);
  const columns = integer(dataset, TAG.columns);
  return {
    instance: {
      studyUid: text(dataset, TAG.studyInstanceUid) as string,
      seriesUid: text(dataset, TAG.seriesInstanceUid) as string,
      sopInstanceUid: text(dataset, TAG.sopInstanceUid) as string,
      view,
      ...(rows !== undefined ? { rows } : {}),
      ...(columns !== undefined ? { columns } : {}),
    },
    presentation,
    multiFrame,
    key: [multiFrame ? 1 : 0, VIEW_RANK[wanted][view], presentation ? 0 : 1, -((rows ?? 0) * (columns ?? 0)), order],
  };
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Picks the instance to download from the candidate series' metadata, sources in order of preference
 * (most recent first). Ranking: single frame, then view (wanted, unrecorded, other), then For
 * Presentation, then the largest Rows × Columns, then source order.
 */
export function selectInstance(sources: readonly InstanceSource[], wanted: WantedView): InstanceSelection {
  const skipped = new Map<string, number>();
  const usable: Ranked[] = [];
  for (const source of sources) {
    for (const dataset of source.instances) {
      const reason = unusable(dataset, source.bodySiteConfirmed);
      if (reason === undefined) usable.push(rank(dataset, wanted, usable.length));
      else skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
    }
  }
  const skipReasons = [...skipped].map(([reason, count]) => `skipped ${count} instance${count === 1 ? '' : 's'}: ${reason}`);
  const best = usable.sort((a, b) => compareKeys(a.key, b.key))[0];
  if (best === undefined) {
    return { ok: false, reason: skipReasons.length > 0 ? `no usable instance (${skipReasons.join('; ')})` : 'no instances in the candidate series' };
  }

  const reasons: string[] = [];
  const { view } = best.instance;
  if (VIEW_RANK[wanted][view] !== 0) {
    reasons.push(
      view === 'unknown'
        ? `view-unknown: wanted ${VIEW_LABEL[wanted]}, took an image whose view is not recorded`
        : `view-not-found: wanted ${VIEW_LABEL[wanted]}, took ${VIEW_LABEL[view]}`,
    );
  }
  if (!best.presentation) reasons.push('for-processing: no For Presentation image of the chosen view');
  if (best.multiFrame) reasons.push('multi-frame: no single-frame image was usable');
  reasons.push(...skipReasons);
  return { ok: true, instance: { ...best.instance, reasons } };
}
