/**
 * A group member's heartbeats: one `heartbeat` request every `intervalMs` while started, never two at
 * once, on a timer of its own so that a busy application does not starve them. The member stops them
 * while its JoinGroup/SyncGroup are in flight (the coordinator counts a member waiting there as
 * alive) and starts them again with the next generation. An error code in the answer goes to
 * `onError` unless the heartbeats were stopped or restarted meanwhile (the answer is then about a
 * generation the member has left). Transport failures are not errors here: the next beat tries again
 * (the broker may be restarting, and the session timeout decides).
 */
import type { ClientTransport } from './transport.ts';

/** What a heartbeat carries. */
export interface HeartbeatIdentity {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
}

export class GroupHeartbeat {
  readonly #transport: ClientTransport;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (code: string) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by start and stop: answers and timers of an older run are ignored. */
  #run = 0;
  #running = false;

  constructor(
    transport: ClientTransport,
    options: { intervalMs: number; timeoutMs: number },
    onError: (code: string) => void,
  ) {
    this.#transport = transport;
    this.#intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs;
    this.#onError = onError;
  }

  /** Beat every interval as `who`, starting one interval from now. */
  start(who: HeartbeatIdentity): void {
    this.stop();
    this.#running = true;
    this.#schedule(++this.#run, who);
  }

  stop(): void {
    this.#running = false;
    this.#run++;
    clearTimeout(this.#timer);
  }

  #schedule(run: number, who: HeartbeatIdentity): void {
    if (!this.#running || run !== this.#run) return;
    this.#timer = setTimeout(() => void this.#beat(run, who), this.#intervalMs);
    this.#timer.unref?.();
  }

  async #beat(run: number, who: HeartbeatIdentity): Promise<void> {
    try {
      const response = await this.#transport.request('heartbeat', { ...who }, { timeoutMs: this.#timeoutMs });
      if (response.error && run === this.#run) this.#onError(response.error.code);
    } catch {
      // Connection lost or timed out: try again at the next beat.
    } finally {
      this.#schedule(run, who);
    }
  }
}
