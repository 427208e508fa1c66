/**
 * The leader-epoch check of Fetch (v9+) and ListOffsets (v4+). One node leads every partition at epoch
 * 0 for ever (the metadata handler says so), so a client's current_leader_epoch is fine when -1 (not
 * given) or 0; older is fenced, newer is unknown, as Kafka answers.
 */
import type { WireError } from '../../protocol/wire/ops.ts';
import { wireError } from '../wire-error.ts';

export const LEADER_EPOCH = 0;

export function checkLeaderEpoch(requested: number | undefined): WireError | undefined {
  if (requested === undefined || requested === -1 || requested === LEADER_EPOCH) return undefined;
  return requested < LEADER_EPOCH
    ? wireError('FENCED_LEADER_EPOCH', `leader epoch ${requested} is older than ${LEADER_EPOCH}`)
    : wireError('UNKNOWN_LEADER_EPOCH', `leader epoch ${requested} is newer than ${LEADER_EPOCH}`);
}
