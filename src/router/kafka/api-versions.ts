/**
 * ApiVersions (API key 18), v0–3: the APIs of the table with the versions this broker accepts.
 *
 * The response always goes out with response header v0, also for the flexible v3 (KIP-511; the codec's
 * responseHeaderVersion does this). A request of a version we do not accept is answered as Kafka does,
 * without reading its body: a v0 response with UNSUPPORTED_VERSION and key 18 with its range, from
 * which librdkafka and kafkajs pick a version to retry with.
 */
import { ERRORS } from '../../errors.ts';
import { API_KEYS } from '../../protocol/kafka/api-keys.ts';
import type { ApiVersionsResponseData } from '../../protocol/kafka/messages/api-versions.ts';
import type { KafkaApi } from './kafka-api.ts';

export const API_VERSIONS_RANGE = [0, 3] as const;

/** What a table entry tells ApiVersions. */
interface Advertised {
  readonly apiKey: number;
  readonly versions: readonly [min: number, max: number];
}

export function apiVersionsApi(table: () => Iterable<Advertised>): KafkaApi<typeof API_KEYS.ApiVersions> {
  return {
    apiKey: API_KEYS.ApiVersions,
    versions: API_VERSIONS_RANGE,
    handle: (): ApiVersionsResponseData => ({
      errorCode: 0,
      apiKeys: [...table()].map((a) => ({
        apiKey: a.apiKey,
        minVersion: a.versions[0],
        maxVersion: a.versions[1],
      })),
      throttleTimeMs: 0,
    }),
  };
}

/** The v0 body that answers an ApiVersions request of a version outside API_VERSIONS_RANGE. */
export function unsupportedApiVersionsBody(): ApiVersionsResponseData {
  return {
    errorCode: ERRORS.UNSUPPORTED_VERSION.kafkaCode,
    apiKeys: [
      { apiKey: API_KEYS.ApiVersions, minVersion: API_VERSIONS_RANGE[0], maxVersion: API_VERSIONS_RANGE[1] },
    ],
  };
}
