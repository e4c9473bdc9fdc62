// Reads a cohort directory in the `synth` format (src/synthetic/README.md): metadata, one row per
// patient and the image tensors, read a batch at a time so a 5,000-patient cohort (1 GB of tensors)
// never has to sit in memory. A site can bring its own validation data in the same format.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePreprocessingSpec, type PreprocessingSpec } from '../imaging/preprocessing.js';
import type { RiskFactors } from '../model/risk-factors.js';

export interface CohortPatient {
  id: string;
  factors: RiskFactors;
  /** Years to event or censoring. */
  time: number;
  event: boolean;
  /** Known only for synthetic cohorts: the generator's log hazard ratio. */
  trueLogHazard: number | null;
}

export interface CohortMetadata {
  seed?: number;
  count: number;
  statement?: string;
  preprocessing: PreprocessingSpec;
  generator?: { truth?: { baseline?: { shape: number; scale: number } } };
}

export interface Cohort {
  dir: string;
  metadata: CohortMetadata;
  patients: CohortPatient[];
  /** Tensors of patients [start, start + count), each height × width, row-major. */
  images(start: number, count: number): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export class CohortFormatError extends Error {
  override name = 'CohortFormatError';
}

function parseRows(text: string, file: string): CohortPatient[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  const columns = (header ?? '').split(',');
  const required = ['id', 'age', 'female', 'weightKg', 'heightCm', 'time', 'event'];
  for (const name of required) if (!columns.includes(name)) throw new CohortFormatError(`${file} has no ${name} column`);
  return lines.map((line, row) => {
    const values = line.split(',');
    const field = (name: string): string => values[columns.indexOf(name)] ?? '';
    const number = (name: string): number | null => {
      const value = field(name);
      if (value === '') return null;
      const n = Number(value);
      if (!Number.isFinite(n)) throw new CohortFormatError(`${file} row ${row + 2}: ${name} is not a number`);
      return n;
    };
    const flag = (name: string): boolean | null => {
      const n = number(name);
      return n === null ? null : n === 1;
    };
    const female = flag('female');
    const time = number('time');
    if (time === null || time <= 0) throw new CohortFormatError(`${file} row ${row + 2}: time must be a positive number`);
    return {
      id: field('id'),
      factors: {
        age: number('age'),
        sex: female === null ? null : female ? 'female' : 'male',
        weightKg: number('weightKg'),
        heightCm: number('heightCm'),
        priorFragilityFracture: flag('priorFragilityFracture'),
        parentHipFracture: flag('parentHipFracture'),
        currentSmoking: flag('currentSmoking'),
        glucocorticoids: flag('glucocorticoids'),
        rheumatoidArthritis: flag('rheumatoidArthritis'),
        secondaryOsteoporosis: flag('secondaryOsteoporosis'),
        alcohol: flag('alcohol'),
        femoralNeckTScore: number('femoralNeckTScore'),
      },
      time,
      event: flag('event') === true,
      trueLogHazard: number('trueLogHazard'),
    };
  });
}

export async function readCohort(dir: string): Promise<Cohort> {
  const metadataFile = join(dir, 'cohort.json');
  let metadata: CohortMetadata & { format?: string; images?: { file?: string } ; table?: { file?: string } };
  try {
    metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as typeof metadata;
  } catch (error) {
    throw new CohortFormatError(`cannot read ${metadataFile}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (metadata.format !== 'spine-cds-cohort') throw new CohortFormatError(`${metadataFile} is not a spine-cds cohort (format ${String(metadata.format)})`);
  const spec = parsePreprocessingSpec(metadata.preprocessing);
  const tableFile = join(dir, metadata.table?.file ?? 'patients.csv');
  const patients = parseRows(await readFile(tableFile, 'utf8'), tableFile);
  if (patients.length !== metadata.count) throw new CohortFormatError(`${tableFile} has ${patients.length} rows, cohort.json says ${metadata.count}`);
  const imageFile = join(dir, metadata.images?.file ?? 'images.f32');
  const pixels = spec.height * spec.width;
  const handle: FileHandle = await open(imageFile, 'r');
  const { size } = await handle.stat();
  if (size !== patients.length * pixels * 4) {
    await handle.close();
    throw new CohortFormatError(`${imageFile} has ${size} bytes, expected ${patients.length} × ${spec.height} × ${spec.width} float32`);
  }
  return {
    dir,
    metadata: { ...metadata, preprocessing: spec },
    patients,
    async images(start, count) {
      const end = Math.min(patients.length, start + count);
      const bytes = new Uint8Array((end - start) * pixels * 4);
      await handle.read(bytes, 0, bytes.byteLength, start * pixels * 4);
      const all = new Float32Array(bytes.buffer);
      return Array.from({ length: end - start }, (_, k) => all.slice(k * pixels, (k + 1) * pixels));
    },
    close: () => handle.close(),
  };
}
