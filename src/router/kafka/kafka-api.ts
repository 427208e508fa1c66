/**
 * The contract between the Kafka connection and the per-API adapters (one file per Kafka API in this
 * directory). An adapter translates a decoded Kafka request into calls to the protocol-neutral handlers
 * (src/router/handlers) and their results back into the Kafka response body of the request's version;
 * the connection does framing, ordering, flow control and encoding. Each API is one entry of the
 * table in api-table.ts.
 *
 * Main thread only.
 */
import type { ApiKey, ResponseBodies } from '../../protocol/kafka/api-keys.ts';
import type { DecodedRequest } from '../../protocol/kafka/request-codec.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { FetchReadAhead } from '../handlers/fetch.ts';

/** A decoded request of one API. */
export type KafkaRequest<K extends ApiKey> = Extract<DecodedRequest, { apiKey: K }>;

/** What an adapter sees besides the request. */
export interface KafkaEnv {
  readonly ctx: BrokerContext;
  /** Aborted when the connection closes or the broker drains: parked requests answer at once. */
  readonly signal: AbortSignal;
  /** The client's address (the group coordinator records it per member; DescribeGroups shows it). */
  readonly clientHost: string;
  /** This connection's fetch read-ahead (handlers/fetch.ts). */
  readonly readAhead: FetchReadAhead;
}

/**
 * The reply to a request that gets no response (Produce with acks=0). With `closeConnection` the
 * connection closes once the responses before it are out: Kafka's only way to tell an acks=0 producer
 * that something failed.
 */
export class NoResponse {
  constructor(readonly closeConnection: boolean) {}
}

export type KafkaReply<K extends ApiKey> = ResponseBodies[K] | NoResponse;

export interface KafkaApi<K extends ApiKey> {
  readonly apiKey: K;
  /** The versions advertised in ApiVersions and accepted; anything else closes the connection. */
  readonly versions: readonly [min: number, max: number];
  /**
   * Pipelined requests of this API may run together (Produce: the engine appends them in the order
   * they were handed over, and a pipelining producer needs the overlap for throughput). Any other
   * request runs alone, after everything before it has finished, as in Kafka.
   */
  readonly concurrent?: boolean;
  handle(request: KafkaRequest<K>, env: KafkaEnv): KafkaReply<K> | Promise<KafkaReply<K>>;
}
