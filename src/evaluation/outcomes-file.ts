// The outcomes file a site produces for a prospective evaluation: CSV, a header, one patient per row,
// columns `id` (the FHIR patient id), `event` (1 = incident fracture, 0 = none) and `date` (ISO date
// YYYY-MM-DD of the fracture, or of the last follow-up when event is 0). Other columns are ignored.
// A row that cannot be read is excluded with its line number and why, never dropped silently; so are
// all the rows of an id that appears more than once (which of them would be right?). What is
// excluded says the line and the problem, never the id or the date (the report is shareable).
import { readFile } from 'node:fs/promises';

/** Input the command cannot use at all (unreadable file, no header, no assessments): exit code 2. */
export class EvaluationInputError extends Error {
  override name = 'EvaluationInputError';
}

export interface OutcomeRow {
  /** 1-based line in the file. */
  line: number;
  id: string;
  event: 0 | 1;
  /** YYYY-MM-DD. */
  date: string;
}

export type ExclusionReason = 'malformed' | 'duplicate-id' | 'unknown-id' | 'before-assessment';

export const EXCLUSION_REASONS: Record<ExclusionReason, string> = {
  malformed: 'malformed row',
  'duplicate-id': 'id on more than one row (all its rows excluded)',
  'unknown-id': 'no recorded assessment of the model for this id',
  'before-assessment': "date before the patient's first recorded assessment",
};

export interface Exclusion {
  line: number;
  reason: ExclusionReason;
  detail: string;
}

export interface OutcomesFile {
  /** Data rows (non-blank lines after the header). */
  dataRows: number;
  rows: OutcomeRow[];
  excluded: Exclusion[];
  /** Every id the file names, on usable rows or not (to tell a patient absent from one whose row was excluded). */
  idsSeen: ReadonlySet<string>;
}

export const REQUIRED_COLUMNS = ['id', 'event', 'date'] as const;

/** The fields of one CSV record (RFC 4180 quoting, `""` inside quotes), trimmed; null when a quote is not closed properly. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let k = 0;
  for (;;) {
    while (line[k] === ' ' || line[k] === '\t') k++;
    let field = '';
    if (line[k] === '"') {
      k++;
      for (;;) {
        if (k >= line.length) return null;
        if (line[k] === '"') {
          if (line[k + 1] === '"') {
            field += '"';
            k += 2;
            continue;
          }
          k++;
          break;
        }
        field += line[k++];
      }
      while (line[k] === ' ' || line[k] === '\t') k++;
      if (k < line.length && line[k] !== ',') return null;
    } else {
      const end = line.indexOf(',', k);
      field = line.slice(k, end < 0 ? line.length : end);
      if (field.includes('"')) return null;
      k = end < 0 ? line.length : end;
    }
    fields.push(field.trim());
    if (k >= line.length) return fields;
    k++; // the comma
  }
}

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** Parses the outcomes CSV. Throws EvaluationInputError when there is no usable header. */
export function parseOutcomes(text: string): OutcomesFile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw new EvaluationInputError('the outcomes file is empty; it needs a header line naming the columns id, event and date');
  const header = splitCsvLine(lines[headerIndex]!)?.map((name) => name.toLowerCase());
  if (!header) throw new EvaluationInputError(`the outcomes file's header (line ${headerIndex + 1}) is not valid CSV`);
  const column = Object.fromEntries(REQUIRED_COLUMNS.map((name) => [name, header.indexOf(name)])) as Record<(typeof REQUIRED_COLUMNS)[number], number>;
  const missing = REQUIRED_COLUMNS.filter((name) => column[name] < 0);
  if (missing.length > 0) {
    throw new EvaluationInputError(`the outcomes file's header (line ${headerIndex + 1}) lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; it needs id, event and date`);
  }
  const repeated = REQUIRED_COLUMNS.filter((name) => header.lastIndexOf(name) !== column[name]);
  if (repeated.length > 0) throw new EvaluationInputError(`the outcomes file's header names ${repeated.join(', ')} twice`);

  const excluded: Exclusion[] = [];
  const candidates: { line: number; fields: string[] }[] = [];
  const idsSeen = new Set<string>();
  let dataRows = 0;
  for (let k = headerIndex + 1; k < lines.length; k++) {
    if (lines[k]!.trim() === '') continue;
    dataRows++;
    const line = k + 1;
    const fields = splitCsvLine(lines[k]!);
    if (fields?.[column.id]) idsSeen.add(fields[column.id]!);
    if (!fields) excluded.push({ line, reason: 'malformed', detail: 'a quoted field is not closed properly (one record per line)' });
    else if (fields.length !== header.length) excluded.push({ line, reason: 'malformed', detail: `${fields.length} fields where the header has ${header.length}` });
    else if (fields[column.id] === '') excluded.push({ line, reason: 'malformed', detail: 'no id' });
    else candidates.push({ line, fields });
  }
  const count = new Map<string, number>();
  for (const { fields } of candidates) count.set(fields[column.id]!, (count.get(fields[column.id]!) ?? 0) + 1);

  const rows: OutcomeRow[] = [];
  for (const { line, fields } of candidates) {
    const id = fields[column.id]!;
    const event = fields[column.event]!;
    const date = fields[column.date]!;
    const times = count.get(id)!;
    if (times > 1) excluded.push({ line, reason: 'duplicate-id', detail: `the id is on ${times} rows` });
    else if (event !== '0' && event !== '1') excluded.push({ line, reason: 'malformed', detail: 'event must be 1 (fracture) or 0 (none)' });
    else if (!isIsoDate(date)) excluded.push({ line, reason: 'malformed', detail: 'date must be a calendar date written YYYY-MM-DD' });
    else rows.push({ line, id, event: event === '1' ? 1 : 0, date });
  }
  excluded.sort((a, b) => a.line - b.line);
  return { dataRows, rows, excluded, idsSeen };
}

export async function readOutcomesFile(path: string): Promise<OutcomesFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EvaluationInputError(`cannot read the outcomes file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseOutcomes(text);
}
