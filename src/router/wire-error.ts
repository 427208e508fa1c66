/** Errors as responses carry them: `{ code, message, retriable }` (docs/protocol.md, docs/errors.md). */
import { ERRORS, type ErrorCode, toErrorData } from '../errors.ts';
import type { WireError } from '../protocol/wire/ops.ts';

export function wireError(code: ErrorCode, message?: string): WireError {
  return { code, message: message ?? ERRORS[code].message, retriable: ERRORS[code].retriable };
}

/** Any thrown value as a WireError (unexpected ones become UNKNOWN_SERVER_ERROR). */
export function toWireError(err: unknown): WireError {
  const data = toErrorData(err);
  return { code: data.code, message: data.message, retriable: ERRORS[data.code].retriable };
}
