/**
 * The group coordinator's long waits as Kafka requests: a JoinGroup parked until the rebalance
 * completes, a follower's SyncGroup parked until the leader's arrives. The connection serves its
 * requests one at a time, so a parked one holds back the requests behind it on that connection, as in
 * Kafka (clients heartbeat on the connection they joined on only once the join has answered).
 *
 * When the broker drains (shutdown), a parked request answers at once with NOT_COORDINATOR, as Kafka's
 * coordinator answers the members it was holding when it resigns: the client looks for the
 * coordinator again instead of waiting out its request timeout. When the connection closes, the answer
 * has nowhere to go; the coordinator's member stays until its session times out, as in Kafka.
 *
 * Main thread only.
 */

/** `wait`, or `onAbort()` as soon as `signal` aborts. */
export function parkedUntilAborted<T>(wait: Promise<T>, signal: AbortSignal, onAbort: () => T): Promise<T> {
  if (signal.aborted) return Promise.resolve(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => resolve(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    wait.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}
