// The slice of @cornerstonejs/codec-charls (Emscripten build of CharLS, untyped) that this project uses.
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  export interface JpegLSFrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
  }
  export interface JpegLSDecoder {
    /** A view into the module's heap, sized for the encoded frame, to copy it into. */
    getEncodedBuffer(length: number): Uint8Array;
    /** Throws (a number: an Emscripten exception pointer) when the stream is invalid. */
    decode(): void;
    /** A view into the module's heap; valid until the decoder is deleted. */
    getDecodedBuffer(): Uint8Array;
    getFrameInfo(): JpegLSFrameInfo;
    delete(): void;
  }
  export interface CharlsModule {
    JpegLSDecoder: new () => JpegLSDecoder;
  }
  const factory: () => Promise<CharlsModule>;
  export default factory;
}
