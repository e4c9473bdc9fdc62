// The slice of dcmjs (untyped JavaScript) that this project uses, typed at the boundary.
declare module 'dcmjs' {
  /** A DICOM element as dcmjs holds it: value representation plus values. */
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
    InlineBinary?: string;
    BulkDataURI?: string;
  }
  /** Dataset keyed by 8-hex-digit tag (e.g. `00280010`). */
  export type DicomDataset = Record<string, DicomElement>;

  export interface ReadOptions {
    ignoreErrors?: boolean;
    untilTag?: string;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }

  export class DicomDict {
    constructor(meta: DicomDataset);
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }

  export const data: {
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict;
    };
    DicomDict: typeof DicomDict;
    DicomMetaDictionary: {
      naturalizeDataset(dataset: DicomDataset): Record<string, unknown>;
      denaturalizeDataset(dataset: Record<string, unknown>): DicomDataset;
      uid(): string;
    };
  };

  /** loglevel: the root logger, and named child loggers that do not follow the root's level once made. */
  export interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
    getLogger(name: string): Logger;
  }
  export const log: Logger;

  const dcmjs: { data: typeof data; log: typeof log };
  export default dcmjs;
}
