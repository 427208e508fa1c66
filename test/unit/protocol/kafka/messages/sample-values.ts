/**
 * Builds message values from the schemas (through the generator's model) for the codec tests: for a
 * version, every field the version carries gets a non-default value, and every other field holds its
 * default, which is exactly what decoding gives back.
 */

import {
  contains,
  type FieldModel,
  type FieldType,
  loadModels,
  type MessageModel,
  type StructModel,
} from '../../../../../scripts/generate-kafka-messages.ts';
import { ZERO_UUID } from '../../../../../src/protocol/kafka/reader.ts';

/**
 * values: ordinary non-default values (some non-ASCII strings, int64 beyond 2^32).
 * nulls:  null wherever the version allows it and the default is not null; negative numbers.
 * large:  byte fields of 5000 bytes (beyond the Writer's zero-copy threshold) and long strings.
 */
export type Variant = 'values' | 'nulls' | 'large';
export const VARIANTS: readonly Variant[] = ['values', 'nulls', 'large'];

export const MODELS: Map<string, MessageModel> = loadModels();

export function model(name: string): MessageModel {
  const m = MODELS.get(name);
  if (m === undefined) throw new Error(`no model ${name}`);
  return m;
}

export function versionsOf(m: MessageModel): number[] {
  const out: number[] = [];
  for (let v = m.validVersions.min; v <= m.validVersions.max; v++) out.push(v);
  return out;
}

export type Value = Record<string, unknown>;

/** A field's default, built fresh (as the decoder builds it). */
export function defaultOf(f: FieldModel): unknown {
  const d = f.default;
  switch (d.kind) {
    case 'literal':
      return d.value;
    case 'emptyBytes':
      return new Uint8Array(0);
    case 'emptyArray':
      return [];
    case 'zeroUuid':
      return ZERO_UUID;
    case 'struct':
      return defaultStruct(d.struct);
  }
}

export function defaultStruct(s: StructModel): Value {
  const v: Value = {};
  for (const f of s.fields) v[f.prop] = defaultOf(f);
  return v;
}

function uuidFor(seed: number): string {
  const h = (seed * 2654435761 + 0x9e3779b9).toString(16).padStart(8, '0').slice(-8);
  return `${h}-1234-4abc-8def-${(seed + 1).toString(16).padStart(12, '0')}`;
}

function bytesFor(seed: number, variant: Variant): Uint8Array {
  const n = variant === 'large' ? 5000 : 3 + (seed % 4);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

function scalar(
  kind: FieldType['kind'],
  def: unknown,
  seed: number,
  variant: Variant,
  name: string,
): unknown {
  const neg = variant === 'nulls';
  let v: unknown;
  switch (kind) {
    case 'int8':
      v = neg ? -((seed % 100) + 2) : (seed % 100) + 2;
      break;
    case 'int16':
      v = neg ? -(1000 + seed) : 1000 + seed;
      break;
    case 'uint16':
      v = 65000 + (seed % 500);
      break;
    case 'int32':
      v = neg ? -(100000 + seed) : 100000 + seed;
      break;
    case 'int64':
      v = variant === 'large' ? Number.MAX_SAFE_INTEGER - seed : neg ? -(2 ** 45) - seed : 2 ** 40 + seed;
      break;
    case 'float64':
      v = neg ? -1.25 - seed : 1.5 + seed;
      break;
    case 'bool':
      return def !== true;
    case 'string':
      v =
        variant === 'large'
          ? `${name}-`.padEnd(300 + (seed % 1000), 'x')
          : seed % 3 === 0
            ? `${name}-é-☃-😀-${seed}`
            : `${name}-${seed}`;
      break;
    case 'uuid':
      v = uuidFor(seed);
      break;
    default:
      throw new Error(`not a scalar: ${kind}`);
  }
  // Never the default (e.g. a field whose default happens to equal the value).
  return v === def ? (typeof v === 'number' ? v + 1 : `${String(v)}!`) : v;
}

let counter = 0;

/** A value for `struct` at `version`: present fields non-default, absent ones at their defaults. */
export function sampleStruct(s: StructModel, version: number, variant: Variant): Value {
  const v: Value = {};
  for (const f of s.fields) {
    v[f.prop] = contains(f.versions, version) ? sampleField(f, version, variant) : defaultOf(f);
  }
  return v;
}

/** A non-default value of a field at a version that carries it. */
export function sampleField(f: FieldModel, version: number, variant: Variant): unknown {
  const seed = ++counter;
  const def = f.default.kind === 'literal' ? f.default.value : undefined;
  if (variant === 'nulls' && contains(f.nullableVersions, version) && def !== null) return null;
  const t = f.type;
  switch (t.kind) {
    case 'bytes':
    case 'records':
      return bytesFor(seed, variant);
    case 'struct':
      return sampleStruct(t.struct, version, variant);
    case 'array': {
      const el = t.element;
      const items: unknown[] = [];
      for (let i = 0; i < 2; i++) {
        items.push(
          el.kind === 'struct'
            ? sampleStruct(el.struct, version, variant)
            : scalar(el.kind, undefined, seed + i, variant, f.prop),
        );
      }
      return items;
    }
    default:
      return scalar(t.kind, def, seed, variant, f.prop);
  }
}

/** A sample value for a whole message at a version. */
export function sampleMessage(m: MessageModel, version: number, variant: Variant): Value {
  return sampleStruct(m.root, version, variant);
}

/** A non-default value for a field at a version that does NOT carry it (built as if it did). */
export function nonDefaultAbsent(f: FieldModel): unknown {
  const probe = f.versions?.min ?? 0;
  return sampleField(f, probe, 'values');
}
