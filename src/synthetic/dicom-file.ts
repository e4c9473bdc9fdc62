// Writes single-frame greyscale radiographs as DICOM Part 10 (explicit VR little endian) with dcmjs.
// Used by the synthetic cohort and the tests, so both produce files that a PACS accepts as real.
import dcmjs from 'dcmjs';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

export const SOP_CLASS = {
  crImage: '1.2.840.10008.5.1.4.1.1.1',
  dxForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  dxForProcessing: '1.2.840.10008.5.1.4.1.1.1.1.1',
} as const;

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

export interface RadiographPixels {
  rows: number;
  columns: number;
  /** 8 → Uint8Array; 16 → Uint16Array (unsigned) or Int16Array (signed). */
  data: Uint8Array | Uint16Array | Int16Array;
  bitsStored: number;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
}

/**
 * Naturalised DICOM attributes (dcmjs keywords → values), e.g. `{ Modality: 'DX', ViewPosition: 'LL' }`.
 * UIDs, SOP class and image pixel attributes not given here are filled in.
 */
export type DicomAttributes = Record<string, unknown>;

export function writeRadiograph(pixels: RadiographPixels, attributes: DicomAttributes = {}): Uint8Array {
  const { rows, columns, data, bitsStored, photometric } = pixels;
  if (data.length !== rows * columns) throw new RangeError(`pixel data has ${data.length} values, expected rows × columns = ${rows * columns}`);
  const bitsAllocated = data.BYTES_PER_ELEMENT * 8;
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new RangeError(`bitsStored ${bitsStored} does not fit ${bitsAllocated}-bit data`);
  const sopClass = (attributes.SOPClassUID as string | undefined) ?? SOP_CLASS.dxForPresentation;
  const sopInstance = (attributes.SOPInstanceUID as string | undefined) ?? DicomMetaDictionary.uid();
  // Copy into a fresh, even-length buffer: DICOM values have even length and dcmjs writes the whole ArrayBuffer.
  const bytes = new Uint8Array(data.byteLength + (data.byteLength % 2));
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const dataset = {
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: sopClass,
    StudyInstanceUID: DicomMetaDictionary.uid(),
    SeriesInstanceUID: DicomMetaDictionary.uid(),
    SeriesNumber: 1,
    InstanceNumber: 1,
    ...attributes,
    SOPInstanceUID: sopInstance,
    SamplesPerPixel: 1,
    PhotometricInterpretation: photometric,
    Rows: rows,
    Columns: columns,
    BitsAllocated: bitsAllocated,
    BitsStored: bitsStored,
    HighBit: bitsStored - 1,
    PixelRepresentation: data instanceof Int16Array ? 1 : 0,
    PixelData: bytes.buffer,
    _vrMap: { PixelData: bitsAllocated > 8 ? 'OW' : 'OB' },
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopInstance,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: '1.2.826.0.1.3680043.10.1477.1',
    ImplementationVersionName: 'SPINE-CDS-0.1',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
