// inference-pool/server: the HTTP side. createServer() for a ready Fastify server, the plugin for an
// app of your own, and the Roboflow mapping as plain functions for any other framework.
export { createServer } from './create-server.js';
export { inferencePool } from './plugin.js';
export { HttpError, STATUS_BY_CODE, toHttpError } from './http-errors.js';
export {
  ROBOFLOW_DEFAULTS,
  ROUTE_TASKS,
  decodeBase64Image,
  parseInferBody,
  parseLegacyQuery,
} from './roboflow-request.js';
export type { ImageSource, LegacyRequest, ParsedRequest, Query, VisualizeOptions } from './roboflow-request.js';
export { toRoboflowResponse } from './roboflow-response.js';
export type {
  ResponseExtras,
  RoboflowClassificationResponse,
  RoboflowDetection,
  RoboflowDetectionResponse,
  RoboflowResponse,
} from './roboflow-response.js';
export { findModel, runInference } from './inference.js';
export type { InferenceJob, InferenceOutput } from './inference.js';
export { loadImageSource, loadImageSources } from './image-sources.js';
export type { ImageSourceSettings } from './image-sources.js';
export type * from './options.js';
