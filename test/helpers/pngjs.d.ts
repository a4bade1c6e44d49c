// pngjs ships no types; this covers the sync API the tests use.
declare module 'pngjs' {
  export interface PNGOptions {
    width?: number;
    height?: number;
    colorType?: 0 | 2 | 4 | 6;
    inputColorType?: 0 | 2 | 4 | 6;
    bitDepth?: 8 | 16;
    inputHasAlpha?: boolean;
  }
  export class PNG {
    constructor(options?: PNGOptions);
    width: number;
    height: number;
    /** RGBA, 8 bits per channel, after decoding. */
    data: Buffer;
    static sync: {
      read(buffer: Uint8Array, options?: PNGOptions): PNG;
      write(png: PNG, options?: PNGOptions): Buffer;
    };
  }
}
