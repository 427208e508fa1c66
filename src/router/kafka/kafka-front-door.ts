/**
 * The Kafka front door: a TCP listener speaking the Kafka wire protocol, so that Kafka clients
 * (kafkajs, librdkafka/kcat) work against Sluice unchanged. Runs a KafkaConnection per client; the
 * APIs it serves are in api-table.ts, docs/kafka.md describes them.
 *
 * Limits come from the broker configuration: socket.request.max.bytes bounds a request frame; the
 * per-connection flow-control settings are shared with the WebSocket front door (ws.max.inflight.*,
 * ws.send.buffer.high.water.bytes), which mean the same thing for any connection.
 *
 * Main thread only.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import type { BrokerContext } from '../broker-context.ts';
import { drainConnections } from '../drain-connections.ts';
import { KafkaConnection, type KafkaLimits } from './kafka-connection.ts';

export class KafkaFrontDoor {
  private readonly server: Server;
  private readonly connections = new Set<KafkaConnection>();
  private accepting = true;

  constructor(ctx: BrokerContext, onError: (err: unknown) => void) {
    const limits: KafkaLimits = {
      maxFrameBytes: ctx.config['socket.request.max.bytes'],
      maxInFlight: ctx.config['ws.max.inflight.requests'],
      maxInFlightBytes: ctx.config['ws.max.inflight.bytes'],
      highWaterBytes: ctx.config['ws.send.buffer.high.water.bytes'],
    };
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (!this.accepting) {
        socket.destroy();
        return;
      }
      const connection = new KafkaConnection(socket, ctx, limits, onError);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** Listen; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (parked fetches answer at
   * once), then close every connection. Returns the number of requests that were still in flight
   * when `timeoutMs` ran out.
   */
  async close(timeoutMs: number): Promise<number> {
    this.accepting = false;
    this.server.close();
    return drainConnections(this.connections, timeoutMs);
  }
}
