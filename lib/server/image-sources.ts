// A request's image sources as bytes: base64 decoded here, URLs fetched only when URL input is on
// (through url-input.ts's checks), raw bytes as they came. Never pickle or numpy.
import { HttpError } from './http-errors.js';
import type { UrlInputOptions } from './options.js';
import { decodeBase64Image } from './roboflow-request.js';
import type { ImageSource } from './roboflow-request.js';
import { UrlInputError, fetchImageUrl } from './url-input.js';

export interface ImageSourceSettings {
  allowUrlInput: boolean;
  urlInput: UrlInputOptions;
}

export async function loadImageSource(
  source: ImageSource,
  settings: ImageSourceSettings,
  field: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (source.type === 'bytes') {
    if (source.value.length === 0) throw new HttpError(400, `Invalid request: ${field}: empty image`);
    return source.value;
  }
  if (source.type === 'base64') return decodeBase64Image(source.value, field);
  if (!settings.allowUrlInput) {
    throw new HttpError(400, `Invalid request: ${field}: URL input is disabled on this server`);
  }
  try {
    return await fetchImageUrl(source.value, settings.urlInput, signal);
  } catch (error) {
    if (error instanceof UrlInputError) throw new HttpError(error.status, error.message, { cause: error });
    throw error;
  }
}

export function loadImageSources(
  sources: ImageSource[],
  settings: ImageSourceSettings,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const many = sources.length > 1;
  return Promise.all(sources.map((s, i) => loadImageSource(s, settings, many ? `image[${i}]` : 'image', signal)));
}
