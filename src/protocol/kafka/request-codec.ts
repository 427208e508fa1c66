/**
 * Whole Kafka requests and responses: header + body, without the 4-byte size prefix of the frame.
 *
 *   request frame  = RequestHeader (v1, or v2 for flexible versions) + request body
 *   response frame = ResponseHeader (v0, or v1 for flexible versions; ApiVersions always v0) + response body
 *
 * The broker uses `decodeRequest` and `encodeResponse`; tests and tools use the inverses. The header
 * is read first: its api_key/api_version choose the body codec. In request header v2 the client_id is
 * still an int16-length string (the schema says so with a field-level `flexibleVersions: "none"`).
 *
 * Errors: a malformed frame throws `SluiceError('INVALID_REQUEST')` (Kafka closes the connection); an
 * unknown API key throws INVALID_REQUEST; a version outside the schema's range throws
 * `SluiceError('UNSUPPORTED_VERSION')`. For ApiVersions the caller answers such a request with a v0
 * error response instead (KAFKA-PROTOCOL.md §1): `peekRequestHeader` gives what that answer needs.
 * Bytes after the body are ignored, as Kafka does.
 *
 * Pure code, no I/O.
 */

import { SluiceError } from '../../errors.ts';
import {
  type ApiKey,
  apiSpec,
  type RequestBodies,
  type ResponseBodies,
  requestHeaderVersion,
  responseHeaderVersion,
} from './api-keys.ts';
import { RequestHeader, type RequestHeaderData } from './messages/request-header.ts';
import { ResponseHeader, type ResponseHeaderData } from './messages/response-header.ts';
import { Reader, type ReaderOptions } from './reader.ts';
import { Writer, type WriterOptions } from './writer.ts';

/**
 * The codec of one message (every version): generated in messages/<api>.ts as `<Name>Request`,
 * `<Name>Response`, `RequestHeader`, `ResponseHeader`.
 */
export interface MessageCodec<T> {
  /** The schema name, e.g. "FetchRequest". */
  readonly name: string;
  /** The API key; null for headers and data types. */
  readonly apiKey: number | null;
  readonly validVersions: readonly [min: number, max: number];
  /** The first flexible version, or null when no version is flexible. */
  readonly flexibleVersions: number | null;
  /**
   * Appends `value` encoded at `version`. Fields the version does not carry are dropped when ignorable
   * or at their default; otherwise UNSUPPORTED_VERSION is thrown. Undefined optional fields are
   * written as their defaults.
   */
  encode(version: number, value: T, writer: Writer): void;
  /**
   * Reads a value encoded at `version`. Every field of the interface is set: fields the version does
   * not carry (and absent tagged fields) hold their defaults.
   */
  decode(version: number, reader: Reader): T;
}

/**
 * A "data" type (ConsumerProtocolSubscription, ConsumerProtocolAssignment): a struct that travels inside
 * a bytes field, encoded non-flexibly after an int16 version.
 */
export interface VersionedDataCodec<T> extends MessageCodec<T> {
  /** int16 version + the struct at that version. */
  encodeVersioned(version: number, value: T): Uint8Array;
  /** Reads the int16 version, then the struct; a version newer than we know is read as our newest. */
  decodeVersioned(bytes: Uint8Array): { version: number; value: T };
}

/** A decoded request, discriminated by `apiKey` (switch on it to get the typed body). */
export type DecodedRequest = {
  [K in ApiKey]: {
    readonly apiKey: K;
    readonly apiVersion: number;
    readonly header: RequestHeaderData;
    readonly body: RequestBodies[K];
  };
}[ApiKey];

/** The first fields of every request header (v1 and v2 alike). */
export interface RequestHeaderPrefix {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

/** Reads api_key, api_version and correlation_id, whatever the API and version. */
export function peekRequestHeader(frame: Uint8Array): RequestHeaderPrefix {
  const r = new Reader(frame);
  return { apiKey: r.int16(), apiVersion: r.int16(), correlationId: r.int32() };
}

function withContext(err: unknown, what: string): unknown {
  if (err instanceof SluiceError && err.code === 'INVALID_REQUEST') {
    return new SluiceError('INVALID_REQUEST', `Invalid ${what}: ${err.message}`, { cause: err });
  }
  return err;
}

function lookup(apiKey: number, apiVersion: number) {
  const spec = apiSpec(apiKey);
  if (spec === undefined) throw new SluiceError('INVALID_REQUEST', `Unknown Kafka API key ${apiKey}`);
  const [min, max] = spec.validVersions;
  if (!(apiVersion >= min && apiVersion <= max)) {
    throw new SluiceError(
      'UNSUPPORTED_VERSION',
      `${spec.name} version ${apiVersion} is not supported (valid versions ${min}-${max})`,
    );
  }
  return spec;
}

/**
 * Decodes a request frame (everything after the int32 size). `body` views into `frame` for records
 * (Produce): keep `frame` alive and unmodified while the body is in use.
 */
export function decodeRequest(frame: Uint8Array, options?: ReaderOptions): DecodedRequest {
  const prefix = peekRequestHeader(frame);
  const spec = lookup(prefix.apiKey, prefix.apiVersion);
  const r = new Reader(frame, options);
  let header: RequestHeaderData;
  try {
    header = RequestHeader.decode(requestHeaderVersion(spec.apiKey, prefix.apiVersion), r);
  } catch (err) {
    throw withContext(err, `${spec.name} v${prefix.apiVersion} request header`);
  }
  let body: unknown;
  try {
    body = spec.request.decode(prefix.apiVersion, r);
  } catch (err) {
    throw withContext(err, `${spec.name} v${prefix.apiVersion} request`);
  }
  return { apiKey: spec.apiKey, apiVersion: prefix.apiVersion, header, body } as DecodedRequest;
}

/**
 * Encodes a response frame without its size prefix, as chunks (large record batches are not copied).
 * The frame length is the sum of the chunks' byteLength.
 */
export function encodeResponse<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseBodies[K],
  options?: WriterOptions,
): Uint8Array[] {
  const spec = lookup(apiKey, apiVersion);
  const w = new Writer(options);
  ResponseHeader.encode(responseHeaderVersion(apiKey, apiVersion), { correlationId }, w);
  (spec.response as { encode(version: number, value: unknown, writer: Writer): void }).encode(
    apiVersion,
    body,
    w,
  );
  return w.finish();
}

/** The header fields a client chooses (api_key and api_version come from the call). */
export interface RequestHeaderInput {
  readonly correlationId: number;
  /** Null is sent as a null string; Kafka treats it as "". */
  readonly clientId?: string | null;
}

/** Encodes a request frame without its size prefix (for tests, tools and clients). */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  header: RequestHeaderInput,
  body: RequestBodies[K],
  options?: WriterOptions,
): Uint8Array[] {
  const spec = lookup(apiKey, apiVersion);
  const w = new Writer(options);
  RequestHeader.encode(
    requestHeaderVersion(apiKey, apiVersion),
    {
      requestApiKey: apiKey,
      requestApiVersion: apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId === undefined ? null : header.clientId,
    },
    w,
  );
  (spec.request as { encode(version: number, value: unknown, writer: Writer): void }).encode(
    apiVersion,
    body,
    w,
  );
  return w.finish();
}

/** A decoded response. */
export interface DecodedResponse<K extends ApiKey> {
  readonly header: ResponseHeaderData;
  readonly correlationId: number;
  readonly body: ResponseBodies[K];
}

/**
 * Decodes a response frame (everything after the int32 size) of a request sent with this API key and
 * version (a response does not say which API it answers).
 */
export function decodeResponse<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Uint8Array,
  options?: ReaderOptions,
): DecodedResponse<K> {
  const spec = lookup(apiKey, apiVersion);
  const r = new Reader(frame, options);
  let header: ResponseHeaderData;
  let body: ResponseBodies[K];
  try {
    header = ResponseHeader.decode(responseHeaderVersion(apiKey, apiVersion), r);
    body = spec.response.decode(apiVersion, r) as ResponseBodies[K];
  } catch (err) {
    throw withContext(err, `${spec.name} v${apiVersion} response`);
  }
  return { header, correlationId: header.correlationId, body };
}
