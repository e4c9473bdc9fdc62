// How the fracture-risk cards say things: numbers, dates, factors, and the guidance behind a
// recommendation (reference/science.md). Plain functions of an Assessment; no I/O.
import type { Assessment, RiskFactorEntry } from '../../src/assessment/assessment.js';
import type { FraxResult } from '../../src/fhir/patient-record.js';
import { isYesNoFactor } from '../../src/model/risk-factors.js';

// The numbers are worded once for the cards and the SMART app alike.
export { percent, years } from '../../src/assessment/risk-wording.js';
import { percent } from '../../src/assessment/risk-wording.js';

// Made once: toLocaleDateString builds a formatter per call (~235 µs), a quarter of a warm hook's CPU.
const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** `2026-03-02T00:00:00.000Z` or `2026-03-02` → `2 Mar 2026`. */
export function day(iso: string): string {
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return DAY_FORMAT.format(date);
}

/** Markdown table cells must not break the table. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** Whether the model is labelled as not for clinical use (every number it gives must say so). */
export function isNonClinical(assessment: Pick<Assessment, 'model'>): boolean {
  return assessment.model.status !== 'clinical';
}

/** A prefix for summaries that carry a non-clinical model's numbers. */
export function summaryPrefix(assessment: Pick<Assessment, 'model'>): string {
  if (!isNonClinical(assessment)) return '';
  return assessment.model.status === 'demonstration' ? '[Demo model] ' : '[Research model] ';
}

export function disclaimer(assessment: Pick<Assessment, 'model'>): string {
  if (!isNonClinical(assessment)) return '';
  const what = assessment.model.status === 'demonstration' ? 'Demonstration model: not for clinical use.' : 'Research model: not for clinical use.';
  return `> **${what}** ${assessment.model.statement}`;
}

function factorValue(entry: RiskFactorEntry): string {
  const { name, value } = entry;
  if (value === null) return 'not recorded';
  if (isYesNoFactor(name)) return value === true ? 'yes' : 'no';
  switch (name) {
    case 'age':
      return `${Math.floor(value as number)} years`;
    case 'sex':
      return String(value);
    case 'weightKg':
      return `${(value as number).toFixed(1)} kg`;
    case 'heightCm':
      return `${(value as number).toFixed(0)} cm`;
    case 'bmi':
      return `${(value as number).toFixed(1)} kg/m²`;
    case 'femoralNeckTScore':
      return (value as number).toFixed(1);
  }
}

function provenance(entry: RiskFactorEntry): string {
  if (entry.overridden) return 'the order being placed';
  // Age and sex come from the patient's demographics; a birth date here would only repeat the banner.
  if (entry.name === 'age' || entry.name === 'sex') return '';
  const parts = [entry.date ? day(entry.date) : '', entry.status === 'inferred' ? (entry.note ?? 'inferred') : ''].filter((p) => p !== '');
  return parts.join('; ');
}

/** The factors the model read, as a table, then the ones missing from the chart, each group on a line. */
export function factorsMarkdown(assessment: Assessment): string {
  const present = assessment.riskFactors.filter((f) => f.value !== null);
  const missing = assessment.riskFactors.filter((f) => f.value === null);
  const rows = present.map((f) => `| ${cell(f.label)} | ${cell(factorValue(f))} | ${cell(provenance(f))} |`);
  const lines = ['| Risk factor | Value | From |', '|---|---|---|', ...rows];
  // FRAX counts a yes/no factor left blank as "no"; a missing measurement gets the model card's default.
  const absent = missing.filter((f) => isYesNoFactor(f.name));
  const defaulted = missing.filter((f) => !isYesNoFactor(f.name));
  if (absent.length > 0) lines.push('', `**Not on the chart (counted as no):** ${absent.map((f) => f.label).join(', ')}.`);
  if (defaulted.length > 0) lines.push('', `**Not on the chart (the model used its default):** ${defaulted.map((f) => f.label).join(', ')}.`);
  return lines.join('\n');
}

export function horizonsMarkdown(assessment: Assessment): string {
  const shown = assessment.horizons.filter((h) => h.risk !== null);
  const header = `| Within | ${shown.map((h) => `${h.horizon} year${h.horizon === 1 ? '' : 's'}`).join(' | ')} |`;
  const rule = `|---|${shown.map(() => '---').join('|')}|`;
  const row = `| Risk of ${cell(assessment.model.outcome)} | ${shown.map((h) => percent(h.risk)).join(' | ')} |`;
  return [header, rule, row].join('\n');
}

export function fraxMarkdown(frax: FraxResult | null): string {
  if (frax === null) return '**FRAX:** no result on record.';
  const parts = [
    frax.majorOsteoporoticPercent === null ? undefined : `major osteoporotic fracture ${frax.majorOsteoporoticPercent}%`,
    frax.hipPercent === null ? undefined : `hip fracture ${frax.hipPercent}%`,
  ].filter((p) => p !== undefined);
  return `**FRAX on record (${day(frax.date)}):** 10-year ${parts.join(', ')}.`;
}

export function radiographMarkdown(assessment: Assessment): string {
  const { image } = assessment;
  const view = image.view === 'unknown' ? 'view not recorded' : `${image.view === 'lateral' ? 'lateral' : image.view.toUpperCase()} view`;
  return `**Radiograph read:** lumbar spine ${image.modality}, ${view}, ${day(image.date)}.`;
}

/**
 * The guidance that applies to this patient (reference/science.md): who should have BMD testing, by
 * sex and age, and that a fracture after 50 is an indication whatever the score.
 */
export function guidanceLines(assessment: Assessment): string[] {
  const { age, sex } = assessment.patient;
  const fracture = assessment.riskFactors.find((f) => f.name === 'priorFragilityFracture')?.value === true;
  const lines: string[] = [];
  if (fracture) lines.push('A fragility fracture after 50 is itself an indication for BMD testing (ISCD, BHOF).');
  if (sex === 'female') {
    lines.push(
      age >= 65
        ? 'USPSTF (2025) recommends osteoporosis screening for women 65 and older (grade B).'
        : 'USPSTF (2025) recommends screening postmenopausal women under 65 at increased risk by a formal risk tool (grade B).',
    );
  } else {
    lines.push(
      age >= 70
        ? 'ISCD and BHOF recommend BMD testing for men 70 and older; USPSTF finds the evidence for screening men insufficient.'
        : 'ISCD and BHOF recommend BMD testing for men 50–69 with risk factors; USPSTF finds the evidence for screening men insufficient.',
    );
  }
  lines.push('At 50–64, a vertebral fracture or osteopenia seen on a radiograph is itself an indication for BMD testing (Osteoporosis Canada).');
  return lines;
}

/** What the estimate is worth, said plainly (the study's gain over clinical factors was modest). */
export const EVIDENCE_NOTE =
  'The method follows Kong et al., Endocrinol Metab 2022 (1,595 patients): a CNN survival model on the lumbar spine radiograph plus clinical factors reached a C-index of 0.61 against 0.59 for a Cox model on clinical factors and 0.55 for FRAX, on a small test set. The estimate adds to the guidance above; it does not replace a DXA or a FRAX calculation.';
