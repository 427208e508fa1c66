/**
 * The assignors Sluice ships, by Kafka protocol name, and the resolution of the consumer's
 * `assignors` option. Kept apart from assignor.ts so that the assignors can import its helpers
 * without an import cycle.
 */
import { SluiceError } from '../errors.ts';
import type { Assignor } from './assignor.ts';
import { cooperativeStickyAssignor } from './cooperative-sticky-assignor.ts';
import { rangeAssignor } from './range-assignor.ts';
import { roundRobinAssignor } from './round-robin-assignor.ts';

/** The built-in assignors by protocol name. */
export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

const BUILT_IN: Record<AssignorName, Assignor> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

/** Resolve assignor names (or custom assignors) to assignors; unknown names are INVALID_CONFIG. */
export function resolveAssignors(assignors: readonly (AssignorName | Assignor)[]): Assignor[] {
  if (assignors.length === 0) throw new SluiceError('INVALID_CONFIG', 'assignors lists no assignor');
  const resolved = assignors.map((a) => {
    if (typeof a !== 'string') return a;
    const found = Object.hasOwn(BUILT_IN, a) ? BUILT_IN[a] : undefined;
    if (!found) throw new SluiceError('INVALID_CONFIG', `unknown assignor ${a}`);
    return found;
  });
  if (new Set(resolved.map((a) => a.name)).size !== resolved.length)
    throw new SluiceError('INVALID_CONFIG', 'assignors lists a protocol name twice');
  return resolved;
}

/**
 * The rebalance protocol a member follows: cooperative only when every assignor it offers is
 * cooperative (Java's rule), since the group may pick any of them.
 */
export function rebalanceProtocolOf(assignors: readonly Assignor[]): 'eager' | 'cooperative' {
  return assignors.every((a) => a.rebalanceProtocol === 'cooperative') ? 'cooperative' : 'eager';
}
