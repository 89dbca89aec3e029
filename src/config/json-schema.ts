// The small part of JSON Schema (draft-07) that the config file's key table is written in, and
// a validator for exactly that part. The table in ../config.ts is the one source of truth: the
// published schema file is generated from it (a test keeps them equal) and the same fragments
// are what this module checks a config file against, so the editor and the CLI cannot disagree.

/** The keywords used; a test fails if the table uses one this validator does not implement. */
export interface JsonSchema {
  description?: string;
  type?: 'string' | 'integer' | 'boolean' | 'array' | 'object';
  minimum?: number;
  maximum?: number;
  minLength?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
}

export const IMPLEMENTED_KEYWORDS: ReadonlySet<string> = new Set([
  'description',
  'type',
  'minimum',
  'maximum',
  'minLength',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'anyOf',
]);

/** A value that does not fit the schema; the message names where (`"proxy./api.target"`) and why. */
export class SchemaViolation extends Error {
  override name = 'SchemaViolation';
}

function mismatch(path: string, schema: JsonSchema, value: unknown): SchemaViolation {
  return new SchemaViolation(`${quote(path)} must be ${describeSchema(schema)}, not ${describeValue(value)}`);
}

/** Throw a SchemaViolation for the first place where `value` does not fit `schema`. */
export function checkValue(value: unknown, schema: JsonSchema, path: string): void {
  if (schema.anyOf !== undefined) {
    checkAnyOf(value, schema.anyOf, path);
    return;
  }
  if (!hasType(value, schema)) throw mismatch(path, schema, value);
  if (typeof value === 'number' && (value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Infinity))) {
    throw mismatch(path, schema, value);
  }
  if (typeof value === 'string' && value.length < (schema.minLength ?? 0)) {
    throw mismatch(path, schema, value);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => checkValue(item, schema.items as JsonSchema, `${path}[${i}]`));
  }
  if (isPlainObject(value) && schema.type === 'object') checkObject(value, schema, path);
}

function checkObject(value: Record<string, unknown>, schema: JsonSchema, path: string): void {
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) throw new SchemaViolation(`${quote(path)} needs the key ${quote(name)}`);
  }
  for (const [name, item] of Object.entries(value)) {
    const known = Object.hasOwn(properties, name) ? properties[name] : undefined;
    const inner = `${path}.${name}`;
    if (known !== undefined) checkValue(item, known, inner);
    else if (schema.additionalProperties === false) throw new SchemaViolation(`${quote(path)}: ${unknownKeyReason(name, Object.keys(properties))}`);
    else if (typeof schema.additionalProperties === 'object') checkValue(item, schema.additionalProperties, inner);
  }
}

/**
 * Report the error of the alternative the value was evidently meant for (the one of its type),
 * so a proxy route object with a misspelt key says so rather than "must be a string or an object".
 */
function checkAnyOf(value: unknown, alternatives: readonly JsonSchema[], path: string): void {
  const sameType = alternatives.filter((alternative) => hasType(value, alternative));
  let first: unknown;
  for (const alternative of sameType) {
    try {
      checkValue(value, alternative, path);
      return;
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
  throw mismatch(path, { anyOf: [...alternatives] }, value);
}

function hasType(value: unknown, schema: JsonSchema): boolean {
  switch (schema.type) {
    case undefined:
      return true;
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "a whole number from 0 to 65535", "true or false", ... for error messages. */
export function describeSchema(schema: JsonSchema): string {
  if (schema.anyOf !== undefined) return schema.anyOf.map(describeSchema).join(' or ');
  switch (schema.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return (schema.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
    case 'integer':
      if (schema.minimum !== undefined && schema.maximum !== undefined) return `a whole number from ${schema.minimum} to ${schema.maximum}`;
      if (schema.minimum !== undefined) return `a whole number of at least ${schema.minimum}`;
      return 'a whole number';
    case 'array':
      return schema.items === undefined ? 'an array' : `an array of ${plural(describeSchema(schema.items))}`;
    case 'object':
      return 'an object';
    case undefined:
      return 'any value';
  }
}

function plural(description: string): string {
  return description.replace(/^an? (non-empty )?(string|object)$/, '$1$2s');
}

/** A short, terminal-safe description of a value found in the file. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `${quote(value.slice(0, 40))}...` : quote(value);
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return 'an object';
  }
}

/**
 * JSON quoting, plus escapes for the characters that could reorder or hide text in a terminal
 * (C1 controls, bidirectional overrides, zero-width characters): a key or value from the file
 * is shown as it is, never as what it pretends to be.
 */
export function quote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** 'unknown key "prot" (did you mean "port"?); valid keys: ...' */
export function unknownKeyReason(name: string, valid: readonly string[]): string {
  const suggestion = closest(name, valid);
  return `unknown key ${quote(name)}${suggestion === undefined ? '' : ` (did you mean ${quote(suggestion)}?)`}; valid keys: ${valid.join(', ')}`;
}

/** A likely intended key: the same once case and dashes are ignored ("cache-memory"), or a typo away. */
function closest(name: string, valid: readonly string[]): string | undefined {
  const loose = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  const same = valid.find((candidate) => loose(candidate) === loose(name));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = 3; // at most two edits
  for (const candidate of valid) {
    const distance = editDistance(loose(name), loose(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
