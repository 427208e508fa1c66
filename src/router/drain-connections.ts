/**
 * The graceful stop both front doors share: every connection stops reading new requests (parked
 * fetches answer at once), in-flight requests get up to `timeoutMs` to finish, then every connection
 * is closed. Returns how many requests were still in flight when time ran out.
 */
export interface DrainableConnection {
  drain(): void;
  whenIdle(): Promise<void>;
  readonly pending: number;
  close(): Promise<void>;
}

export async function drainConnections(
  connections: Iterable<DrainableConnection>,
  timeoutMs: number,
): Promise<number> {
  const all = [...connections];
  for (const c of all) c.drain();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.all(all.map((c) => c.whenIdle())), timeout]);
  clearTimeout(timer);
  let unfinished = 0;
  for (const c of all) unfinished += c.pending;
  await Promise.all(all.map((c) => c.close()));
  return unfinished;
}
