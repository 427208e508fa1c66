/**
 * Handler errors (`{ code, message, retriable }` with a Sluice error code) as Kafka wire errors: the
 * numeric code from the error registry (ERRORS[code].kafkaCode) and the message for the versions
 * that carry one.
 */
import { ERRORS, type ErrorCode, isErrorCode } from '../../errors.ts';
import type { WireError } from '../../protocol/wire/ops.ts';

export interface KafkaError {
  /** Kafka's numeric error code; 0 = none. */
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export const NO_ERROR: KafkaError = { errorCode: 0, errorMessage: null };

export function kafkaError(error: WireError | undefined): KafkaError {
  if (!error) return NO_ERROR;
  const code = isErrorCode(error.code) ? ERRORS[error.code].kafkaCode : ERRORS.UNKNOWN_SERVER_ERROR.kafkaCode;
  return { errorCode: code, errorMessage: error.message };
}

/** The Kafka numeric code of a coordinator error (undefined = none = 0). */
export function kafkaCode(code: ErrorCode | undefined): number {
  return code === undefined ? 0 : ERRORS[code].kafkaCode;
}
