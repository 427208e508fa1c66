/**
 * The WebSocket front door: upgrades HTTP connections on the broker's port to WebSocket (ws, with
 * bufferutil for masking) and runs a WsConnection per client.
 *
 * Main thread only.
 */
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import type { BrokerContext } from '../broker-context.ts';
import { drainConnections } from '../drain-connections.ts';
import { WsConnection, type WsLimits } from './ws-connection.ts';

export class WsFrontDoor {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private accepting = true;

  constructor(
    server: Server,
    ctx: BrokerContext,
    limits: WsLimits,
    serverVersion: string,
    onError: (err: unknown) => void,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // Frames above the limit are refused from their header, before their payload is buffered.
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    server.on('upgrade', (req, socket, head) => {
      if (!this.accepting) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const connection = new WsConnection(ws, req.socket, ctx, limits, serverVersion, onError);
        this.connections.add(connection);
        ws.on('close', () => this.connections.delete(connection));
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (parked fetches answer at
   * once), then close every connection with 1001. Returns the number of requests that were still in
   * flight when `timeoutMs` ran out.
   */
  async close(timeoutMs: number): Promise<number> {
    this.accepting = false;
    const unfinished = await drainConnections(this.connections, timeoutMs);
    this.wss.close();
    return unfinished;
  }
}
