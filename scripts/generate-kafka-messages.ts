/**
 * Generates the Kafka wire-protocol codecs in src/protocol/kafka/messages/ and src/protocol/kafka/api-keys.ts
 * from Apache Kafka's JSON message schemas (../shared/kafka-messages/, relative to the project root).
 *
 *   node --import tsx scripts/generate-kafka-messages.ts           write the files
 *   node --import tsx scripts/generate-kafka-messages.ts --check   exit 1 and name the files that differ
 *
 * One file per API (request + response, every valid version), plus request-header.ts, response-header.ts
 * and the two consumer-protocol "data" types. The output is straight-line TypeScript: one read and one
 * write function per struct, with version tests inline (no schema interpretation at run time). It carries
 * field names, types and version ranges only; the schemas' `about` texts stay out. Every file is passed
 * through Biome (the project's pinned version) so that `biome check` accepts it as generated.
 *
 * Schema rules implemented (see ../shared/kafka-messages/README.md): versions, nullableVersions,
 * taggedVersions/tag (written only when the value differs from its default), default (decimal, hex,
 * "null", booleans), ignorable (a non-ignorable field holding a non-default value in a version that
 * lacks it throws UNSUPPORTED_VERSION; an ignorable one is dropped), flexibleVersions (message and
 * field level), mapKey (an ordinary array), nullable structs (int8 marker), records (nullable bytes,
 * never copied), zeroCopy (bytes fields without it are copied on decode so they do not pin the frame).
 *
 * The model functions are exported for the tests, which build values for every version from the same
 * schemas.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_DIR = path.resolve(PROJECT_ROOT, '../shared/kafka-messages');
export const MESSAGES_DIR = path.join(PROJECT_ROOT, 'src/protocol/kafka/messages');
export const API_KEYS_FILE = path.join(PROJECT_ROOT, 'src/protocol/kafka/api-keys.ts');
export const KAFKA_COMMIT = '1eb7644';

/** The APIs Sluice implements (the ACL APIs are left out on purpose). */
export const API_NAMES = [
  'Produce',
  'Fetch',
  'ListOffsets',
  'Metadata',
  'OffsetCommit',
  'OffsetFetch',
  'FindCoordinator',
  'JoinGroup',
  'Heartbeat',
  'LeaveGroup',
  'SyncGroup',
  'DescribeGroups',
  'ListGroups',
  'SaslHandshake',
  'ApiVersions',
  'CreateTopics',
  'DeleteTopics',
  'DeleteRecords',
  'InitProducerId',
  'DescribeConfigs',
  'AlterConfigs',
  'CreatePartitions',
  'DeleteGroups',
  'SaslAuthenticate',
  'IncrementalAlterConfigs',
  'OffsetDelete',
  'DescribeCluster',
] as const;

/** Schemas that are not request/response pairs: one codec per file. */
export const STANDALONE_NAMES = [
  'RequestHeader',
  'ResponseHeader',
  'ConsumerProtocolSubscription',
  'ConsumerProtocolAssignment',
] as const;

// ---------------------------------------------------------------------------------------------------
// Schema model
// ---------------------------------------------------------------------------------------------------

/** An inclusive version range; max is Infinity for "N+". */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export type PrimitiveKind =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldType =
  | { readonly kind: PrimitiveKind }
  | { readonly kind: 'array'; readonly element: FieldType }
  | { readonly kind: 'struct'; readonly struct: StructModel };

/** A default value: a JS literal, or a marker for values that must be built fresh. */
export type DefaultValue =
  | { readonly kind: 'literal'; readonly value: number | boolean | string | null }
  | { readonly kind: 'emptyBytes' }
  | { readonly kind: 'emptyArray' }
  | { readonly kind: 'zeroUuid' }
  | { readonly kind: 'struct'; readonly struct: StructModel };

export interface FieldModel {
  /** The schema's name (PascalCase). */
  readonly name: string;
  /** The TypeScript property (camelCase). */
  readonly prop: string;
  readonly typeName: string;
  readonly type: FieldType;
  /** Versions that carry the field, clipped to the enclosing struct's versions (null: none). */
  readonly versions: VersionRange | null;
  readonly nullableVersions: VersionRange | null;
  readonly taggedVersions: VersionRange | null;
  readonly tag: number | null;
  readonly ignorable: boolean;
  readonly zeroCopy: boolean;
  /** Field-level flexibleVersions override (RequestHeader.ClientId: "none"); undefined = the message's. */
  readonly flexibleVersions: VersionRange | null | undefined;
  readonly default: DefaultValue;
}

export interface StructModel {
  /** TypeScript interface name: the schema's struct type, or `<Message>Data` for the top level. */
  readonly name: string;
  /** Dotted path from the message, for error messages (e.g. "FetchRequest.Topics"). */
  readonly path: string;
  /** Versions in which the struct can appear. */
  readonly versions: VersionRange;
  readonly fields: FieldModel[];
}

export interface MessageModel {
  /** Schema name, e.g. "FetchRequest", "RequestHeader". */
  readonly name: string;
  readonly type: 'request' | 'response' | 'header' | 'data';
  readonly apiKey: number | null;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange | null;
  readonly root: StructModel;
  /** Every struct, the root first, then nested ones in schema order. */
  readonly structs: StructModel[];
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  zeroCopy?: boolean;
  default?: string | number | boolean;
  flexibleVersions?: string;
  fields?: RawField[];
  mapKey?: boolean;
  about?: string;
  entityType?: string;
}

interface RawSchema {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: RawField[];
}

/** Parses "3+", "1-4", "0" or "none" (null). */
export function parseVersions(spec: string): VersionRange | null {
  const s = spec.trim();
  if (s === 'none') return null;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number.POSITIVE_INFINITY };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`Bad version spec ${JSON.stringify(spec)}`);
}

export function intersect(a: VersionRange | null, b: VersionRange | null): VersionRange | null {
  if (a === null || b === null) return null;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min <= max ? { min, max } : null;
}

export function contains(range: VersionRange | null, version: number): boolean {
  return range !== null && version >= range.min && version <= range.max;
}

function covers(outer: VersionRange | null, inner: VersionRange): boolean {
  return outer !== null && outer.min <= inner.min && outer.max >= inner.max;
}

export function formatRange(r: VersionRange | null): string {
  if (r === null) return 'none';
  if (r.max === Number.POSITIVE_INFINITY) return `${r.min}+`;
  return r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`;
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** Reads a schema: strips the `//` comment lines (license header, version notes), then parses. */
export function readSchema(file: string): RawSchema {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  return JSON.parse(text) as RawSchema;
}

const PRIMITIVES = new Set<string>([
  'int8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'records',
  'uuid',
]);

function parseIntDefault(text: string, where: string): number {
  const t = text.trim();
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (/^\d+$/.test(body)) n = Number(body);
  else throw new Error(`${where}: bad integer default ${JSON.stringify(text)}`);
  return neg ? -n : n;
}

/** Builds the model of one schema. */
export function buildModel(raw: RawSchema): MessageModel {
  const validVersions = parseVersions(raw.validVersions);
  if (validVersions === null) throw new Error(`${raw.name}: no valid versions`);
  const flexibleVersions = parseVersions(raw.flexibleVersions);
  const structs: StructModel[] = [];
  const structNames = new Map<string, RawField[]>();

  const buildStruct = (name: string, structPath: string, versions: VersionRange, rawFields: RawField[]) => {
    const struct: StructModel = { name, path: structPath, versions, fields: [] };
    structs.push(struct);
    for (const f of rawFields) struct.fields.push(buildField(f, struct));
    return struct;
  };

  const buildField = (f: RawField, parent: StructModel): FieldModel => {
    const where = `${parent.path}.${f.name}`;
    const versions = intersect(parseVersions(f.versions ?? 'none'), parent.versions);
    const nullableVersions = intersect(parseVersions(f.nullableVersions ?? 'none'), versions);
    const taggedVersions = intersect(parseVersions(f.taggedVersions ?? 'none'), versions);
    if ((f.tag === undefined) !== (f.taggedVersions === undefined)) {
      throw new Error(`${where}: tag and taggedVersions go together`);
    }
    if (taggedVersions !== null && versions !== null && taggedVersions.max !== versions.max) {
      throw new Error(`${where}: taggedVersions must run to the end of versions`);
    }
    if (taggedVersions !== null && !covers(flexibleVersions, taggedVersions)) {
      throw new Error(`${where}: tagged outside flexible versions`);
    }
    let type: FieldType;
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    if (PRIMITIVES.has(base)) {
      type = { kind: base as PrimitiveKind };
    } else if (/^[A-Z]/.test(base)) {
      let subFields = f.fields;
      if (subFields === undefined) {
        subFields = structNames.get(base);
        if (subFields === undefined) throw new Error(`${where}: struct ${base} has no fields`);
      } else {
        if (structNames.has(base)) throw new Error(`${where}: struct ${base} is defined twice`);
        structNames.set(base, subFields);
      }
      const structVersions = versions ?? { min: parent.versions.min, max: parent.versions.min - 1 };
      type = { kind: 'struct', struct: buildStruct(base, where, structVersions, subFields) };
    } else {
      throw new Error(`${where}: unknown type ${f.type}`);
    }
    if (isArray) {
      if (type.kind === 'records' || type.kind === 'bytes')
        throw new Error(`${where}: arrays of ${type.kind}`);
      type = { kind: 'array', element: type };
    }
    const fieldDefault = parseDefault(f, type, nullableVersions, where);
    return {
      name: f.name,
      prop: camelCase(f.name),
      typeName: f.type,
      type,
      versions,
      nullableVersions,
      taggedVersions,
      tag: f.tag ?? null,
      ignorable: f.ignorable === true,
      zeroCopy: f.zeroCopy === true,
      flexibleVersions: f.flexibleVersions === undefined ? undefined : parseVersions(f.flexibleVersions),
      default: fieldDefault,
    };
  };

  const root = buildStruct(`${raw.name}Data`, raw.name, validVersions, raw.fields);
  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions,
    root,
    structs,
  };
}

function parseDefault(
  f: RawField,
  type: FieldType,
  nullable: VersionRange | null,
  where: string,
): DefaultValue {
  const d = f.default === undefined ? undefined : String(f.default);
  const isNull = d === 'null';
  if (isNull && nullable === null && f.versions !== undefined) {
    // Kafka requires nullableVersions for a "null" default; a field never present has none.
    if (parseVersions(f.nullableVersions ?? 'none') === null)
      throw new Error(`${where}: null default, not nullable`);
  }
  switch (type.kind) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
      return { kind: 'literal', value: d === undefined || d === '' ? 0 : parseIntDefault(d, where) };
    case 'float64':
      return { kind: 'literal', value: d === undefined || d === '' ? 0 : Number(d) };
    case 'bool':
      if (d !== undefined && d !== 'true' && d !== 'false') throw new Error(`${where}: bad bool default`);
      return { kind: 'literal', value: d === 'true' };
    case 'string':
      return { kind: 'literal', value: isNull ? null : (d ?? '') };
    case 'uuid':
      return { kind: 'zeroUuid' };
    case 'bytes':
      return isNull ? { kind: 'literal', value: null } : { kind: 'emptyBytes' };
    case 'records':
      // Kafka's generated classes default records to null.
      return { kind: 'literal', value: null };
    case 'array':
      return isNull ? { kind: 'literal', value: null } : { kind: 'emptyArray' };
    case 'struct':
      return isNull ? { kind: 'literal', value: null } : { kind: 'struct', struct: type.struct };
  }
}

/** Loads and models every schema this generator handles, keyed by schema name. */
export function loadModels(schemaDir = SCHEMA_DIR): Map<string, MessageModel> {
  const models = new Map<string, MessageModel>();
  const names = [...API_NAMES.flatMap((n) => [`${n}Request`, `${n}Response`]), ...STANDALONE_NAMES];
  for (const name of names) {
    const file = path.join(schemaDir, `${name}.json`);
    const raw = readSchema(file);
    if (raw.name !== name) throw new Error(`${file}: name is ${raw.name}`);
    models.set(name, buildModel(raw));
  }
  return models;
}

// ---------------------------------------------------------------------------------------------------
// Code generation
// ---------------------------------------------------------------------------------------------------

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if import in instanceof let new null return static super switch this throw true try typeof ' +
    'var void while with yield await implements interface package private protected public arguments eval ' +
    'undefined r w v t version flexible tagged items count item tagsLeft tag size end'
  ).split(' '),
);

/** A local variable name for a field (avoids keywords and the generator's own locals). */
function localName(prop: string): string {
  return RESERVED.has(prop) ? `${prop}_` : prop;
}

/** A JS condition that is true for the versions in `range`, given that the version is within `within`. */
function versionCond(range: VersionRange | null, within: VersionRange): string {
  const r = intersect(range, within);
  if (r === null) return 'false';
  const lower = r.min > within.min;
  const upper = r.max < within.max;
  if (lower && upper && r.min === r.max) return `version === ${r.min}`;
  const parts: string[] = [];
  if (lower) parts.push(`version >= ${r.min}`);
  if (upper) parts.push(`version <= ${r.max}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** A JS condition that is true for the versions in `within` that are NOT in `range`. */
function versionNotCond(range: VersionRange | null, within: VersionRange): string {
  const r = intersect(range, within);
  if (r === null) return 'true';
  const parts: string[] = [];
  if (r.min > within.min) parts.push(`version < ${r.min}`);
  if (r.max < within.max) parts.push(`version > ${r.max}`);
  return parts.length === 0 ? 'false' : parts.join(' || ');
}

function and(a: string, b: string): string {
  if (a === 'false' || b === 'false') return 'false';
  if (a === 'true') return b;
  if (b === 'true') return a;
  return `${wrapOr(a)} && ${wrapOr(b)}`;
}

function wrapOr(c: string): string {
  return c.includes('||') ? `(${c})` : c;
}

function isNullableAnywhere(f: FieldModel): boolean {
  return f.nullableVersions !== null;
}

function tsType(t: FieldType): string {
  switch (t.kind) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
    case 'float64':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'string':
    case 'uuid':
      return 'string';
    case 'bytes':
    case 'records':
      return 'Uint8Array';
    case 'array': {
      const e = tsType(t.element);
      return `${e}[]`;
    }
    case 'struct':
      return t.struct.name;
  }
}

function typeAdmitsNull(f: FieldModel): boolean {
  return isNullableAnywhere(f) || (f.default.kind === 'literal' && f.default.value === null);
}

function fieldTsType(f: FieldModel): string {
  const base = tsType(f.type);
  return typeAdmitsNull(f) ? `${base} | null` : base;
}

/** Required in the interface iff every version of the struct carries it as a regular field. */
function isRequired(f: FieldModel, s: StructModel): boolean {
  return f.taggedVersions === null && covers(f.versions, s.versions);
}

/** Fixed encoded size of an array element, or 1 for variable-size elements (a lower bound). */
function minElementSize(t: FieldType): number {
  switch (t.kind) {
    case 'int8':
    case 'bool':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    default:
      return 1;
  }
}

class Emitter {
  readonly lines: string[] = [];
  private indent = 0;
  line(text = ''): void {
    this.lines.push(text === '' ? '' : '  '.repeat(this.indent) + text);
  }
  open(text: string): void {
    this.line(text);
    this.indent++;
  }
  close(text = '}'): void {
    this.indent--;
    this.line(text);
  }
  /** Appends the lines of another emitter at the current indentation. */
  append(other: Emitter): void {
    for (const l of other.lines) this.lines.push(l === '' ? '' : '  '.repeat(this.indent) + l);
  }
  /** `if (cond) stmt;` for a single statement, a braced block otherwise; no test when cond is 'true'. */
  guarded(cond: string, body: Emitter): void {
    if (body.lines.length === 0 || cond === 'false') return;
    if (cond === 'true') {
      this.append(body);
    } else if (body.lines.length === 1 && !/^(const|let) /.test(body.lines[0]!)) {
      this.line(`if (${cond}) ${body.lines[0]}`);
    } else {
      this.open(`if (${cond}) {`);
      this.append(body);
      this.close();
    }
  }
  /** Closes a block and opens the next one on the same line (`} else {`). */
  reopen(text: string): void {
    this.indent--;
    this.line(text);
    this.indent++;
  }
}

interface FileContext {
  /** The message being generated (for error messages). */
  message: string;
  readonly uses: Set<string>;
  /** Structs whose isDefault / default factories are needed. */
  readonly needIsDefault: Set<StructModel>;
  readonly needFactory: Set<StructModel>;
}

function defaultExpr(d: DefaultValue, ctx: FileContext): string {
  switch (d.kind) {
    case 'literal':
      return d.value === null ? 'null' : typeof d.value === 'string' ? `'${d.value}'` : String(d.value);
    case 'emptyBytes':
      ctx.uses.add('EMPTY_BYTES');
      return 'EMPTY_BYTES';
    case 'emptyArray':
      return '[]';
    case 'zeroUuid':
      ctx.uses.add('ZERO_UUID');
      return 'ZERO_UUID';
    case 'struct':
      ctx.needFactory.add(d.struct);
      return `default${d.struct.name}()`;
  }
}

/** The encoder's view of a field value: `v.x`, with the default when an optional field is undefined. */
function valueExpr(f: FieldModel, s: StructModel, ctx: FileContext): string {
  const access = `v.${f.prop}`;
  if (isRequired(f, s)) return access;
  const d = f.default;
  if (d.kind === 'literal' && d.value === null) return `${access} ?? null`;
  const def = defaultExpr(d, ctx);
  if (isNullableAnywhere(f)) return `${access} === undefined ? ${def} : ${access}`;
  return `${access} ?? ${def}`;
}

/** A condition that is true when `v.x` holds something other than the field's default. */
function nonDefaultCond(f: FieldModel, ctx: FileContext, access = `v.${f.prop}`): string {
  const d = f.default;
  const defined = `${access} !== undefined`;
  switch (d.kind) {
    case 'literal':
      if (d.value === null) return `${defined} && ${access} !== null`;
      return `${defined} && ${access} !== ${defaultExpr(d, ctx)}`;
    case 'emptyBytes':
      return isNullableAnywhere(f)
        ? `${defined} && (${access} === null || ${access}.byteLength > 0)`
        : `${defined} && ${access}.byteLength > 0`;
    case 'emptyArray':
      return isNullableAnywhere(f)
        ? `${defined} && (${access} === null || ${access}.length > 0)`
        : `${defined} && ${access}.length > 0`;
    case 'zeroUuid':
      ctx.uses.add('ZERO_UUID');
      return `${defined} && ${access} !== ZERO_UUID`;
    case 'struct':
      ctx.needIsDefault.add(d.struct);
      return isNullableAnywhere(f)
        ? `${defined} && (${access} === null || !isDefault${d.struct.name}(${access}))`
        : `${defined} && !isDefault${d.struct.name}(${access})`;
  }
}

/** The compact-encoding expression for a field within a struct: 'true', 'false', 'flexible' or a test. */
function compactExpr(f: FieldModel, s: StructModel, m: MessageModel): string {
  const flex = versionCond(m.flexibleVersions, s.versions);
  if (f.flexibleVersions === undefined) return flex === 'true' || flex === 'false' ? flex : 'flexible';
  const c = versionCond(intersect(m.flexibleVersions, f.flexibleVersions), s.versions);
  return c;
}

// --- writing ---------------------------------------------------------------------------------------

/** Statements that write `value` (an expression without side effects) of type t. */
function emitWriteValue(
  e: Emitter,
  f: FieldModel,
  t: FieldType,
  value: string,
  compact: string,
  range: VersionRange,
  ctx: FileContext,
  writer: string,
): void {
  // A value whose type admits null is checked against the versions that allow it, then written
  // with the nullable encoding (identical bytes to the non-nullable one when not null).
  const nullable = typeAdmitsNull(f);
  const nullCheck = (): void => {
    const notNullable = versionNotCond(f.nullableVersions, range);
    if (notNullable === 'false') return;
    ctx.uses.add('nullNotAllowed');
    const cond = notNullable === 'true' ? `${value} === null` : `${value} === null && ${wrapOr(notNullable)}`;
    e.line(`if (${cond}) throw nullNotAllowed('${ctx.message}', '${pathOf(f)}', version);`);
  };
  switch (t.kind) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
    case 'float64':
    case 'bool':
      e.line(`${writer}.${t.kind}(${value});`);
      return;
    case 'uuid':
      e.line(`${writer}.uuid(${value});`);
      return;
    case 'string':
      if (nullable) {
        nullCheck();
        e.line(`${writer}.nullableString(${value}, ${compact});`);
      } else {
        e.line(`${writer}.string(${value}, ${compact});`);
      }
      return;
    case 'bytes':
    case 'records':
      if (nullable) {
        nullCheck();
        e.line(`${writer}.nullableBytes(${value}, ${compact});`);
      } else {
        e.line(`${writer}.bytes(${value}, ${compact});`);
      }
      return;
    case 'struct': {
      // Unlike strings and arrays, a nullable struct has its own encoding (an int8 marker before it).
      const write = `write${t.struct.name}(${writer}, ${value}, version);`;
      if (!nullable) {
        e.line(write);
        return;
      }
      const markerCond = versionCond(f.nullableVersions, range);
      const writeNonNullable = (): void => {
        ctx.uses.add('nullNotAllowed');
        e.line(`if (${value} === null) throw nullNotAllowed('${ctx.message}', '${pathOf(f)}', version);`);
        e.line(write);
      };
      if (markerCond === 'false') {
        writeNonNullable();
        return;
      }
      if (markerCond !== 'true') e.open(`if (${markerCond}) {`);
      e.open(`if (${value} === null) {`);
      e.line(`${writer}.int8(-1);`);
      e.reopen('} else {');
      e.line(`${writer}.int8(1);`);
      e.line(write);
      e.close();
      if (markerCond !== 'true') {
        e.reopen('} else {');
        writeNonNullable();
        e.close();
      }
      return;
    }
    case 'array': {
      const el = t.element;
      const writeElement = (item: string): string => {
        if (el.kind === 'struct') return `write${el.struct.name}(${writer}, ${item}, version);`;
        if (el.kind === 'string') return `${writer}.string(${item}, ${compact});`;
        if (el.kind === 'array' || el.kind === 'bytes' || el.kind === 'records')
          throw new Error('unsupported');
        return `${writer}.${el.kind}(${item});`;
      };
      if (nullable) {
        nullCheck();
        e.open(`if (${value} === null) {`);
        e.line(`${writer}.nullArray(${compact});`);
        e.reopen('} else {');
      }
      e.line(`${writer}.arrayLength(${value}.length, ${compact});`);
      e.line(`for (const item of ${value}) ${writeElement('item')}`);
      if (nullable) e.close();
      return;
    }
  }
}

const fieldPaths = new WeakMap<FieldModel, string>();

/** The field's path inside its message, for error messages ("Topics.Partitions.Records"). */
function pathOf(f: FieldModel): string {
  return fieldPaths.get(f) ?? f.name;
}

function registerPaths(m: MessageModel): void {
  for (const s of m.structs) {
    const prefix = s.path === m.name ? '' : `${s.path.slice(m.name.length + 1)}.`;
    for (const f of s.fields) fieldPaths.set(f, `${prefix}${f.name}`);
  }
}

function emitWriteStruct(out: Emitter, s: StructModel, m: MessageModel, ctx: FileContext): void {
  ctx.message = m.name;
  const flex = versionCond(m.flexibleVersions, s.versions);
  const e = new Emitter();
  if (flex !== 'true' && flex !== 'false') e.line(`const flexible = ${flex};`);
  const flexibleExpr = flex === 'true' || flex === 'false' ? flex : 'flexible';
  for (const f of s.fields) {
    const regular = f.taggedVersions === null ? f.versions : rangeBefore(f.versions, f.taggedVersions.min);
    const cond = versionCond(regular, s.versions);
    const absent = versionNotCond(f.versions, s.versions);
    if (absent !== 'false' && !f.ignorable) {
      ctx.uses.add('unsupportedField');
      e.line(
        `if (${and(absent, nonDefaultCond(f, ctx))}) throw unsupportedField('${m.name}', '${pathOf(f)}', version);`,
      );
    }
    if (cond === 'false') continue;
    const range = intersect(regular, s.versions) as VersionRange;
    const needsNullCheck = typeAdmitsNull(f) && versionNotCond(f.nullableVersions, range) !== 'false';
    const needsLocal = f.type.kind === 'array' || f.type.kind === 'struct' || needsNullCheck;
    const body = new Emitter();
    let value = valueExpr(f, s, ctx);
    if (needsLocal) {
      const local = localName(f.prop);
      body.line(`const ${local} = ${value};`);
      value = local;
    }
    emitWriteValue(body, f, f.type, value, compactExpr(f, s, m), range, ctx, 'w');
    if (cond !== 'true' || !needsLocal) e.guarded(cond, body);
    else e.append(body);
  }
  const tagged = s.fields
    .filter((f) => f.taggedVersions !== null && f.tag !== null)
    .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
  if (flexibleExpr !== 'false') {
    if (tagged.length === 0) {
      const stmt = 'w.taggedFields(undefined, v._unknownTaggedFields);';
      e.line(flexibleExpr === 'true' ? stmt : `if (flexible) ${stmt}`);
    } else {
      if (flexibleExpr !== 'true') e.open('if (flexible) {');
      ctx.uses.add('TaggedField');
      e.line('let tagged: TaggedField[] | undefined;');
      for (const f of tagged) {
        const tv = f.taggedVersions as VersionRange;
        const cond = and(versionCond(tv, s.versions), nonDefaultCond(f, ctx));
        e.open(`if (${cond}) {`);
        e.line('const t = new Writer({ initialSize: 64 });');
        emitWriteValue(
          e,
          f,
          f.type,
          `v.${f.prop}`,
          'true',
          intersect(tv, s.versions) as VersionRange,
          ctx,
          't',
        );
        e.line(`(tagged ??= []).push({ tag: ${f.tag}, data: t.toBuffer() });`);
        e.close();
      }
      e.line('w.taggedFields(tagged, v._unknownTaggedFields);');
      if (flexibleExpr !== 'true') e.close();
    }
  }
  emitFunction(out, `write${s.name}(w: Writer, v: ${s.name}, version: number): void`, e);
}

/** Emits a function; a `version` parameter that the body does not use is named `_version`. */
function emitFunction(out: Emitter, signature: string, body: Emitter): void {
  const usesVersion = body.lines.some((l) => /\bversion\b/.test(l));
  out.open(
    `function ${usesVersion ? signature : signature.replace('version: number', '_version: number')} {`,
  );
  out.append(body);
  out.close();
  out.line();
}

function rangeBefore(r: VersionRange | null, version: number): VersionRange | null {
  if (r === null || version <= r.min) return null;
  return { min: r.min, max: Math.min(r.max, version - 1) };
}

// --- reading ---------------------------------------------------------------------------------------

/** An expression that reads a scalar, string, bytes, uuid or struct value. */
function readExpr(f: FieldModel, t: FieldType, compact: string, nullableCond: string): string {
  const copy = t.kind === 'bytes' && !f.zeroCopy ? 'Copy' : '';
  const choose = (nonNull: string, nullable: string): string => {
    if (nullableCond === 'false') return nonNull;
    if (nullableCond === 'true') return nullable;
    return `${nullableCond} ? ${nullable} : ${nonNull}`;
  };
  switch (t.kind) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
    case 'float64':
    case 'bool':
    case 'uuid':
      return `r.${t.kind}()`;
    case 'string':
      return choose(`r.string(${compact})`, `r.nullableString(${compact})`);
    case 'bytes':
    case 'records':
      return choose(`r.bytes${copy}(${compact})`, `r.nullableBytes${copy}(${compact})`);
    case 'struct':
      return choose(
        `read${t.struct.name}(r, version)`,
        `r.int8() < 0 ? null : read${t.struct.name}(r, version)`,
      );
    case 'array':
      throw new Error('arrays are read by statements');
  }
}

function readElementExpr(t: FieldType, compact: string): string {
  if (t.kind !== 'array') throw new Error('not an array');
  const el = t.element;
  if (el.kind === 'struct') return `read${el.struct.name}(r, version)`;
  if (el.kind === 'string') return `r.string(${compact})`;
  return `r.${el.kind}()`;
}

function arrayLengthExpr(t: FieldType, compact: string, nullableCond: string): string {
  if (t.kind !== 'array') throw new Error('not an array');
  const size = minElementSize(t.element);
  if (nullableCond === 'false') return `r.arrayLength(${compact}, ${size})`;
  if (nullableCond === 'true') return `r.nullableArrayLength(${compact}, ${size})`;
  return `${nullableCond} ? r.nullableArrayLength(${compact}, ${size}) : r.arrayLength(${compact}, ${size})`;
}

/** Statements that read a value of type t into `target` (declared already when `assign`). */
function emitReadValue(
  e: Emitter,
  f: FieldModel,
  t: FieldType,
  target: string,
  compact: string,
  nullableCond: string,
): void {
  if (t.kind !== 'array') {
    e.line(`${target} = ${readExpr(f, t, compact, nullableCond)};`);
    return;
  }
  const elType = tsType(t.element);
  const readElement = readElementExpr(t, compact);
  const lengthExpr = arrayLengthExpr(t, compact, nullableCond);
  if (nullableCond === 'false') {
    e.line(`const items: ${elType}[] = [];`);
    e.line(`for (let count = ${lengthExpr}; count > 0; count--) items.push(${readElement});`);
    e.line(`${target} = items;`);
  } else {
    e.line(`const count = ${lengthExpr};`);
    e.open('if (count < 0) {');
    e.line(`${target} = null;`);
    e.reopen('} else {');
    e.line(`const items: ${elType}[] = [];`);
    e.line(`for (let i = count; i > 0; i--) items.push(${readElement});`);
    e.line(`${target} = items;`);
    e.close();
  }
}

function emitReadStruct(out: Emitter, s: StructModel, m: MessageModel, ctx: FileContext): void {
  const flex = versionCond(m.flexibleVersions, s.versions);
  const e = new Emitter();
  if (flex !== 'true' && flex !== 'false') e.line(`const flexible = ${flex};`);
  const props: string[] = [];
  for (const f of s.fields) {
    const local = localName(f.prop);
    props.push(local === f.prop ? f.prop : `${f.prop}: ${local}`);
    const regular = f.taggedVersions === null ? f.versions : rangeBefore(f.versions, f.taggedVersions.min);
    const cond = versionCond(regular, s.versions);
    const def = defaultExpr(f.default, ctx);
    const type = fieldTsType(f);
    if (cond === 'false') {
      e.line(`const ${local}: ${type} = ${def};`);
      continue;
    }
    const nullableCond = versionCond(f.nullableVersions, intersect(regular, s.versions) ?? s.versions);
    const compact = compactExpr(f, s, m);
    if (f.type.kind !== 'array') {
      const expr = readExpr(f, f.type, compact, nullableCond);
      if (cond === 'true') e.line(`const ${local}: ${type} = ${expr};`);
      else e.line(`const ${local}: ${type} = ${wrapOr(cond)} ? ${wrapTernary(expr)} : ${def};`);
      continue;
    }
    if (nullableCond === 'false' && !typeAdmitsNull(f)) {
      // Non-nullable array: fill the (default, empty) array in place.
      e.line(`const ${local}: ${type} = [];`);
      const body = new Emitter();
      body.line(
        `for (let count = ${arrayLengthExpr(f.type, compact, 'false')}; count > 0; count--) ${local}.push(${readElementExpr(f.type, compact)});`,
      );
      e.guarded(cond, body);
      continue;
    }
    e.line(`let ${local}: ${type} = ${cond === 'true' ? 'null' : def};`);
    const body = new Emitter();
    emitReadValue(body, f, f.type, local, compact, nullableCond);
    if (cond === 'true') {
      e.open('{');
      e.append(body);
      e.close();
    } else {
      e.guarded(cond, body);
    }
  }
  const flexibleExpr = flex === 'true' || flex === 'false' ? flex : 'flexible';
  e.line(`const v: ${s.name} = { ${props.join(', ')} };`);
  const tagged = s.fields
    .filter((f) => f.taggedVersions !== null && f.tag !== null)
    .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
  if (flexibleExpr !== 'false') {
    if (tagged.length === 0) {
      e.line(flexibleExpr === 'true' ? 'r.taggedFields(v);' : 'if (flexible) r.taggedFields(v);');
    } else {
      if (flexibleExpr !== 'true') e.open('if (flexible) {');
      e.open('for (let tagsLeft = r.tagCount(); tagsLeft > 0; tagsLeft--) {');
      e.line('const tag = r.uvarint();');
      e.line('const size = r.tagSize();');
      e.open('switch (tag) {');
      for (const f of tagged) {
        const tv = f.taggedVersions as VersionRange;
        const cond = versionCond(tv, intersect(s.versions, m.flexibleVersions) ?? s.versions);
        e.open(`case ${f.tag}: {`);
        if (cond !== 'true') e.open(`if (${cond}) {`);
        e.line('const end = r.beginTag(size);');
        const nullableCond = versionCond(f.nullableVersions, intersect(tv, s.versions) ?? s.versions);
        emitReadValue(e, f, f.type, `v.${f.prop}`, 'true', nullableCond);
        e.line('r.endTag(end);');
        if (cond !== 'true') {
          e.reopen('} else {');
          e.line('r.unknownTag(v, tag, size);');
          e.close();
        }
        e.line('break;');
        e.close();
      }
      e.line('default:');
      e.line('  r.unknownTag(v, tag, size);');
      e.close();
      e.close();
      if (flexibleExpr !== 'true') e.close();
    }
  }
  e.line('return v;');
  emitFunction(out, `read${s.name}(r: Reader, version: number): ${s.name}`, e);
}

function wrapTernary(expr: string): string {
  return expr.includes('?') ? `(${expr})` : expr;
}

// --- defaults --------------------------------------------------------------------------------------

function emitFactory(e: Emitter, s: StructModel, ctx: FileContext): void {
  e.line(`/** A ${s.name} with every field at its default. */`);
  e.open(`function default${s.name}(): ${s.name} {`);
  const props = s.fields.map((f) => `${f.prop}: ${defaultExpr(f.default, ctx)}`);
  e.line(`return { ${props.join(', ')} };`);
  e.close();
  e.line();
}

function emitIsDefault(e: Emitter, s: StructModel, ctx: FileContext, flexible: boolean): void {
  e.line(
    `/** True when every field of a ${s.name} holds its default (tagged fields are written otherwise). */`,
  );
  e.open(`function isDefault${s.name}(v: ${s.name}): boolean {`);
  const conds = s.fields.map((f) => `!(${nonDefaultCond(f, ctx)})`);
  if (flexible) conds.push('(v._unknownTaggedFields === undefined || v._unknownTaggedFields.length === 0)');
  e.line(`return ${conds.join(' && ')};`);
  e.close();
  e.line();
}

// --- files -----------------------------------------------------------------------------------------

function layoutComment(m: MessageModel): string[] {
  const out: string[] = [];
  const flex = m.flexibleVersions === null ? 'never flexible' : `flexible ${formatRange(m.flexibleVersions)}`;
  const key = m.apiKey === null ? '' : `API key ${m.apiKey}, `;
  out.push(`${m.name} (${key}versions ${formatRange(m.validVersions)}, ${flex})`);
  const rows: string[][] = [];
  const walk = (s: StructModel, depth: number): void => {
    for (const f of s.fields) {
      const attrs: string[] = [`v${formatRange(f.versions)}`];
      if (f.nullableVersions !== null) attrs.push(`nullable ${formatRange(f.nullableVersions)}`);
      if (f.taggedVersions !== null) attrs.push(`tag ${f.tag} (${formatRange(f.taggedVersions)})`);
      const d = f.default;
      if (
        d.kind === 'literal' &&
        d.value !== 0 &&
        d.value !== false &&
        d.value !== '' &&
        f.type.kind !== 'records'
      ) {
        attrs.push(`default ${d.value === null ? 'null' : JSON.stringify(d.value)}`);
      }
      if (f.ignorable) attrs.push('ignorable');
      if (f.zeroCopy) attrs.push('zeroCopy');
      if (f.flexibleVersions !== undefined) attrs.push(`flexible ${formatRange(f.flexibleVersions)}`);
      rows.push([`${'  '.repeat(depth)}${f.name}`, f.typeName, attrs.join(', ')]);
      const t = f.type.kind === 'array' ? f.type.element : f.type;
      if (t.kind === 'struct') walk(t.struct, depth + 1);
    }
  };
  walk(m.root, 1);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  for (const r of rows) out.push(`${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`.trimEnd());
  return out;
}

function emitInterfaces(e: Emitter, m: MessageModel): void {
  const flexible = m.flexibleVersions;
  for (const s of m.structs) {
    const top = s === m.root;
    e.line(
      `/** ${top ? `${m.name}, versions ${formatRange(s.versions)}.` : `${s.path}: versions ${formatRange(s.versions)}.`} */`,
    );
    e.open(`export interface ${s.name} {`);
    for (const f of s.fields) {
      const notes: string[] = [`${f.typeName} v${formatRange(f.versions)}`];
      if (f.nullableVersions !== null) notes.push(`nullable v${formatRange(f.nullableVersions)}`);
      if (f.taggedVersions !== null) notes.push(`tag ${f.tag}`);
      const d = f.default;
      if (d.kind === 'literal' && !isRequired(f, s) && f.type.kind !== 'records') {
        notes.push(`default ${d.value === null ? 'null' : JSON.stringify(d.value)}`);
      }
      e.line(`/** ${notes.join(', ')} */`);
      e.line(`${f.prop}${isRequired(f, s) ? '' : '?'}: ${fieldTsType(f)};`);
    }
    if (intersect(flexible, s.versions) !== null) {
      e.line(
        '/** Tagged fields this codec does not know (kept only when the Reader is asked to keep them). */',
      );
      e.line('_unknownTaggedFields?: TaggedField[];');
    }
    e.close();
    e.line();
  }
}

function codecConstName(m: MessageModel): string {
  return m.name;
}

function emitCodec(e: Emitter, m: MessageModel): void {
  const name = codecConstName(m);
  const data = m.root.name;
  const [min, max] = [m.validVersions.min, m.validVersions.max];
  const flex = m.flexibleVersions === null ? 'null' : String(m.flexibleVersions.min);
  const apiKey = m.apiKey === null ? 'null' : String(m.apiKey);
  const versioned = m.type === 'data';
  e.line(
    `/** ${m.name} codec: versions ${min}-${max}${m.flexibleVersions === null ? '' : `, flexible from v${flex}`}. */`,
  );
  e.open(`export const ${name}: ${versioned ? 'VersionedDataCodec' : 'MessageCodec'}<${data}> = {`);
  e.line(`name: '${m.name}',`);
  e.line(`apiKey: ${apiKey},`);
  e.line(`validVersions: [${min}, ${max}],`);
  e.line(`flexibleVersions: ${flex},`);
  e.open(`encode(version: number, value: ${data}, writer: Writer): void {`);
  e.line(`assertVersion('${m.name}', version, ${min}, ${max});`);
  e.line(`write${data}(writer, value, version);`);
  e.close('},');
  e.open(`decode(version: number, reader: Reader): ${data} {`);
  e.line(`assertVersion('${m.name}', version, ${min}, ${max});`);
  e.line(`return read${data}(reader, version);`);
  e.close('},');
  if (versioned) {
    e.open(`encodeVersioned(version: number, value: ${data}): Uint8Array {`);
    e.line(`assertVersion('${m.name}', version, ${min}, ${max});`);
    e.line('const writer = new Writer({ initialSize: 128 });');
    e.line('writer.int16(version);');
    e.line(`write${data}(writer, value, version);`);
    e.line('return writer.toBuffer();');
    e.close('},');
    e.open(`decodeVersioned(bytes: Uint8Array): { version: number; value: ${data} } {`);
    e.line('const reader = new Reader(bytes);');
    e.line('const version = reader.int16();');
    e.line(`if (version < 0) throw invalidRequest(\`${m.name} version \${version} is negative\`);`);
    e.line(
      `// Like Kafka's ConsumerProtocol: a newer version is read as v${max} (later versions only add fields at the end).`,
    );
    e.line(`return { version, value: read${data}(reader, Math.min(version, ${max})) };`);
    e.close('},');
  }
  e.close('};');
  e.line();
}

/** Generates the source of one messages/<name>.ts file (before formatting). */
export function generateMessageFile(models: MessageModel[], sources: string[]): string {
  const ctx: FileContext = { message: '', uses: new Set(), needIsDefault: new Set(), needFactory: new Set() };
  for (const m of models) registerPaths(m);
  const names = new Set<string>();
  for (const m of models) {
    for (const s of m.structs) {
      if (names.has(s.name)) throw new Error(`struct name ${s.name} is used twice in one file`);
      names.add(s.name);
    }
  }

  const body = new Emitter();
  for (const m of models) emitInterfaces(body, m);
  for (const m of models) emitCodec(body, m);
  for (const m of models) {
    for (const s of m.structs) emitWriteStruct(body, s, m, ctx);
    for (const s of m.structs) emitReadStruct(body, s, m, ctx);
  }
  // Factories and predicates can pull in further ones (nested structs): iterate to a fixed point.
  const emitted = new Set<string>();
  const helpers = new Emitter();
  let progress = true;
  while (progress) {
    progress = false;
    for (const s of [...ctx.needFactory]) {
      const key = `default${s.name}`;
      if (emitted.has(key)) continue;
      emitted.add(key);
      progress = true;
      emitFactory(helpers, s, ctx);
    }
    for (const s of [...ctx.needIsDefault]) {
      const key = `isDefault${s.name}`;
      if (emitted.has(key)) continue;
      emitted.add(key);
      progress = true;
      const m = models.find((x) => x.structs.includes(s));
      emitIsDefault(helpers, s, ctx, m !== undefined && intersect(m.flexibleVersions, s.versions) !== null);
    }
  }

  const code = `${body.lines.join('\n')}\n${helpers.lines.join('\n')}`;
  const used = (id: string): boolean => new RegExp(`\\b${id}\\b`).test(code);
  const versioned = models.some((m) => m.type === 'data');

  const out: string[] = [];
  out.push(
    "// Generated by scripts/generate-kafka-messages.ts from Apache Kafka's protocol message schemas",
    `// (${sources.join(', ')}; Apache License 2.0) at apache/kafka commit ${KAFKA_COMMIT}.`,
    '// Do not edit: run `node --import tsx scripts/generate-kafka-messages.ts` to regenerate',
    '// (`--check` verifies that this file is up to date). Codec conventions: messages/README.md.',
    '//',
  );
  for (const m of models) {
    for (const l of layoutComment(m)) out.push(`// ${l}`.trimEnd());
    out.push('//');
  }
  out.pop();
  out.push('');
  out.push(
    importLine(
      '../reader.ts',
      ['assertVersion', 'EMPTY_BYTES', 'ZERO_UUID', 'invalidRequest'].filter(used),
      ['TaggedField'].filter(used),
      code.includes('new Reader(') ? ['Reader'] : [],
      code.includes('new Reader(') ? [] : ['Reader'],
    ),
  );
  out.push(
    importLine('../request-codec.ts', [], [versioned ? 'VersionedDataCodec' : 'MessageCodec'], [], []),
  );
  const writerIsValue = code.includes('new Writer(');
  out.push(
    importLine(
      '../writer.ts',
      ['nullNotAllowed', 'unsupportedField'].filter(used),
      [],
      writerIsValue ? ['Writer'] : [],
      writerIsValue ? [] : ['Writer'],
    ),
  );
  out.push('');
  return `${out.join('\n')}\n${body.lines.join('\n')}\n${helpers.lines.join('\n')}\n`;
}

function importLine(
  from: string,
  values: string[],
  types: string[],
  classValues: string[],
  classTypes: string[],
): string {
  const allValues = [...values, ...classValues];
  const allTypes = [...types, ...classTypes];
  if (allValues.length === 0) return `import type { ${allTypes.join(', ')} } from '${from}';`;
  const specifiers = [...allValues, ...allTypes.map((t) => `type ${t}`)];
  return `import { ${specifiers.join(', ')} } from '${from}';`;
}

/** Generates api-keys.ts: the table of APIs, their codecs and header versions. */
export function generateApiKeysFile(models: Map<string, MessageModel>): string {
  const apis = API_NAMES.map((name) => {
    const req = models.get(`${name}Request`)!;
    const res = models.get(`${name}Response`)!;
    if (req.apiKey !== res.apiKey) throw new Error(`${name}: request and response API keys differ`);
    if (formatRange(req.validVersions) !== formatRange(res.validVersions)) {
      throw new Error(`${name}: request and response versions differ`);
    }
    if (formatRange(req.flexibleVersions) !== formatRange(res.flexibleVersions)) {
      throw new Error(`${name}: request and response flexible versions differ`);
    }
    return { name, req, res, apiKey: req.apiKey as number };
  }).sort((a, b) => a.apiKey - b.apiKey);

  const out: string[] = [];
  out.push(
    "// Generated by scripts/generate-kafka-messages.ts from Apache Kafka's protocol message schemas",
    `// (Apache License 2.0) at apache/kafka commit ${KAFKA_COMMIT}. Do not edit: run`,
    '// `node --import tsx scripts/generate-kafka-messages.ts` to regenerate.',
    '//',
    '// The Kafka APIs Sluice implements: API key -> name, valid versions, first flexible version, and the',
    '// request and response codecs; plus the header version rules (KAFKA-PROTOCOL.md §1).',
    '',
    "import { SluiceError } from '../../errors.ts';",
  );
  for (const a of apis) {
    out.push(
      `import { ${a.name}Request, type ${a.name}RequestData, ${a.name}Response, type ${a.name}ResponseData } from './messages/${kebabCase(a.name)}.ts';`,
    );
  }
  out.push("import type { MessageCodec } from './request-codec.ts';", '');
  out.push('/** API keys by name. */');
  out.push('export const API_KEYS = {');
  for (const a of apis) out.push(`  ${a.name}: ${a.apiKey},`);
  out.push('} as const;', '');
  out.push('export type ApiName = keyof typeof API_KEYS;');
  out.push('export type ApiKey = (typeof API_KEYS)[ApiName];', '');
  out.push('/** The request body type of each API key. */');
  out.push('export interface RequestBodies {');
  for (const a of apis) out.push(`  ${a.apiKey}: ${a.name}RequestData;`);
  out.push('}', '');
  out.push('/** The response body type of each API key. */');
  out.push('export interface ResponseBodies {');
  for (const a of apis) out.push(`  ${a.apiKey}: ${a.name}ResponseData;`);
  out.push('}', '');
  out.push(
    '/** One API: its versions (from the schemas; what a broker advertises may be narrower) and codecs. */',
    'export interface ApiSpec<K extends ApiKey = ApiKey> {',
    '  readonly apiKey: K;',
    '  readonly name: ApiName;',
    '  readonly validVersions: readonly [min: number, max: number];',
    '  /** The first flexible version, or null when no version is flexible. */',
    '  readonly flexibleVersions: number | null;',
    '  readonly request: MessageCodec<RequestBodies[K]>;',
    '  readonly response: MessageCodec<ResponseBodies[K]>;',
    '}',
    '',
    'export const API_TABLE: { readonly [K in ApiKey]: ApiSpec<K> } = {',
  );
  for (const a of apis) {
    const flex = a.req.flexibleVersions === null ? 'null' : String(a.req.flexibleVersions.min);
    out.push(
      `  ${a.apiKey}: { apiKey: ${a.apiKey}, name: '${a.name}', validVersions: [${a.req.validVersions.min}, ${a.req.validVersions.max}], flexibleVersions: ${flex}, request: ${a.name}Request, response: ${a.name}Response },`,
    );
  }
  out.push('};', '');
  out.push(
    'const byKey: (ApiSpec | undefined)[] = [];',
    'for (const spec of Object.values(API_TABLE) as ApiSpec[]) byKey[spec.apiKey] = spec;',
    '',
    '/** The API with this key, or undefined when Sluice does not implement it. */',
    'export function apiSpec(apiKey: number): ApiSpec | undefined {',
    '  return byKey[apiKey];',
    '}',
    '',
    'function knownApi(apiKey: number): ApiSpec {',
    '  const spec = byKey[apiKey];',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: this line is generated TypeScript
    "  if (spec === undefined) throw new SluiceError('INVALID_REQUEST', `Unknown Kafka API key ${apiKey}`);",
    '  return spec;',
    '}',
    '',
    '/** True when this version of the API uses the flexible (compact, tagged-field) encoding. */',
    'export function isFlexibleVersion(apiKey: number, apiVersion: number): boolean {',
    '  const flexible = knownApi(apiKey).flexibleVersions;',
    '  return flexible !== null && apiVersion >= flexible;',
    '}',
    '',
    '/** Request header version: 2 (with tagged fields) for flexible versions, else 1. */',
    'export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {',
    '  return isFlexibleVersion(apiKey, apiVersion) ? 2 : 1;',
    '}',
    '',
    '/**',
    ' * Response header version: 1 (with tagged fields) for flexible versions, else 0. ApiVersions always',
    ' * answers with header v0 (KIP-511), so that a client can read the response whatever version it sent.',
    ' */',
    'export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {',
    `  if (apiKey === API_KEYS.ApiVersions) return 0;`,
    '  return isFlexibleVersion(apiKey, apiVersion) ? 1 : 0;',
    '}',
    '',
  );
  return out.join('\n');
}

/** Every generated file: absolute path → source (not yet formatted). */
export function generateAll(models = loadModels()): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of API_NAMES) {
    const req = models.get(`${name}Request`)!;
    const res = models.get(`${name}Response`)!;
    files.set(
      path.join(MESSAGES_DIR, `${kebabCase(name)}.ts`),
      generateMessageFile([req, res], [`${name}Request.json`, `${name}Response.json`]),
    );
  }
  for (const name of STANDALONE_NAMES) {
    const m = models.get(name)!;
    files.set(path.join(MESSAGES_DIR, `${kebabCase(name)}.ts`), generateMessageFile([m], [`${name}.json`]));
  }
  files.set(API_KEYS_FILE, generateApiKeysFile(models));
  return files;
}

/** Formats and lint-fixes a source file with the project's Biome, as `biome check --write` would. */
export function formatWithBiome(file: string, source: string): string {
  const biome = path.join(PROJECT_ROOT, 'node_modules/@biomejs/biome/bin/biome');
  const rel = path.relative(PROJECT_ROOT, file);
  const result = spawnSync(process.execPath, [biome, 'check', '--write', `--stdin-file-path=${rel}`], {
    cwd: PROJECT_ROOT,
    input: source,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 || result.stdout.length === 0) {
    throw new Error(`biome failed on ${rel}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Generates and formats everything; returns path → final text. */
export function renderAll(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, source] of generateAll()) out.set(file, formatWithBiome(file, source));
  return out;
}

/** Files that differ from what the generator produces (missing, changed, or stale generated files). */
export function checkGenerated(rendered = renderAll()): string[] {
  const differ: string[] = [];
  for (const [file, text] of rendered) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text)
      differ.push(path.relative(PROJECT_ROOT, file));
  }
  if (existsSync(MESSAGES_DIR)) {
    for (const f of readdirSync(MESSAGES_DIR)) {
      const full = path.join(MESSAGES_DIR, f);
      if (f.endsWith('.ts') && !rendered.has(full))
        differ.push(`${path.relative(PROJECT_ROOT, full)} (not generated)`);
    }
  }
  return differ;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const rendered = renderAll();
  if (check) {
    const differ = checkGenerated(rendered);
    if (differ.length > 0) {
      console.error(
        `Generated Kafka codecs are out of date; run node --import tsx scripts/generate-kafka-messages.ts:`,
      );
      for (const f of differ) console.error(`  ${f}`);
      return 1;
    }
    console.log(`${rendered.size} generated files are up to date.`);
    return 0;
  }
  mkdirSync(MESSAGES_DIR, { recursive: true });
  for (const [file, text] of rendered) writeFileSync(file, text);
  console.log(`Wrote ${rendered.size} files.`);
  return 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
