/**
 * Exponential backoff with jitter, shared by reconnection, producer retries and the fetch loop.
 * Jitter spreads the retries of many clients after a broker restart so that they do not all
 * reconnect in the same millisecond.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay in milliseconds. */
  initialDelayMs: number;
  /** Ceiling of the delay in milliseconds. */
  maxDelayMs: number;
  /** Growth factor per attempt (default 2). */
  multiplier?: number;
  /** Fraction of the delay drawn at random, 0–1 (default 0.2): delay × (1 − jitter × random). */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 = first retry). */
export function backoffDelay(
  options: BackoffOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, multiplier = 2, jitter = 0.2 } = options;
  const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** Math.max(0, attempt));
  return Math.max(0, Math.round(base * (1 - jitter * random())));
}
