// Broken image files of every kind the pool reads, for codecs.test.ts and its child process: cut,
// corrupted, or shorter than a header. `decodes` tells whether the pool still gives a result (a JPEG
// cut inside its scan decodes with a warning, as with OpenCV) or refuses the file, and `message`
// the codec's own words in the refusal.
import { encodeBmp, encodeJpeg, encodePng, encodeWebp, picture } from './images.ts';

export interface BrokenImage {
  name: string;
  bytes: Uint8Array;
  decodes: boolean;
  message?: RegExp;
}

function find(bytes: Uint8Array, marker: number[], from = 0): number {
  for (let i = from; i + marker.length <= bytes.length; i++) {
    if (marker.every((b, k) => bytes[i + k] === b)) return i;
  }
  throw new Error(`marker ${marker} not found`);
}

export async function brokenImages(): Promise<BrokenImage[]> {
  const image = picture(64, 48, 3);
  const jpeg = await encodeJpeg(image);
  const png = encodePng(image);
  const bmp = encodeBmp(image);
  const webp = await encodeWebp(image);
  const sos = find(jpeg, [0xff, 0xda]);

  const badDqt = Uint8Array.from(jpeg);
  badDqt[find(jpeg, [0xff, 0xdb]) + 4] = 0x37; // table index 7: there are 4
  const garbledScan = Uint8Array.from(jpeg);
  for (let i = sos + 40; i < sos + 60; i++) garbledScan[i] = 0xff; // fill bytes where entropy data belongs
  const badCrc = Uint8Array.from(png);
  badCrc[29] = badCrc[29]! ^ 0x55; // IHDR's checksum
  const idat = find(png, [0x49, 0x44, 0x41, 0x54]); // "IDAT"

  return [
    { name: 'JPEG cut inside its scan', bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), decodes: true },
    { name: 'JPEG with garbled scan data', bytes: garbledScan, decodes: true },
    {
      name: 'JPEG cut before its scan',
      bytes: jpeg.subarray(0, sos),
      decodes: false,
      message: /missing SOS marker.*Premature end of JPEG file/,
    },
    { name: 'JPEG with a bad quantisation table', bytes: badDqt, decodes: false, message: /Bogus DQT index 7/ },
    { name: 'PNG cut after 40 bytes', bytes: png.subarray(0, 40), decodes: false, message: /read beyond end of data/ },
    {
      name: 'PNG cut inside its image data',
      bytes: png.subarray(0, idat + 100),
      decodes: false,
      message: /read beyond end of data/,
    },
    { name: 'PNG with a wrong IHDR checksum', bytes: badCrc, decodes: false, message: /IHDR: CRC error/ },
    {
      name: 'BMP cut short',
      bytes: bmp.subarray(0, bmp.length - 100),
      decodes: false,
      message: /truncated pixel data/,
    },
    { name: 'WebP of 31 bytes', bytes: webp.subarray(0, 31), decodes: false, message: /truncated header/ },
    { name: 'WebP cut short', bytes: webp.subarray(0, webp.length - 50), decodes: false },
  ];
}
