// Where a JSON text goes wrong, and why, in words a person editing a config file understands.
//
// JSON.parse in Node 20 often says neither where nor why ("Unexpected token 'p', "{ port: 80 }"
// is not valid JSON"), so on a failure this scanner walks the text by the grammar of RFC 8259
// and stops at the first character that cannot continue it. It is only run after JSON.parse
// has failed: it never decides whether a text is valid, only how to explain that it is not.

export interface JsonSyntaxError {
  /** 1-based line and column (in UTF-16 code units, as editors count). */
  line: number;
  column: number;
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The first syntax error of `text`, or undefined when this scanner finds none. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    let i = skipSpace(text, 0);
    i = scanValue(text, i);
    i = skipSpace(text, i);
    if (i < text.length) throw new Stop(i, `unexpected ${describeAt(text, i)} after the end of the settings`);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { ...position(text, error.offset), reason: error.reason };
  }
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** RFC 8259 §2: whitespace is space, tab, LF and CR only. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  if (text.startsWith('//', i) || text.startsWith('/*', i)) throw new Stop(i, 'comments are not allowed in JSON');
  return i;
}

function describeAt(text: string, i: number): string {
  if (i >= text.length) return 'end of file';
  const code = text.codePointAt(i) ?? 0;
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `"${String.fromCodePoint(code)}"`;
}

function scanValue(text: string, i: number): number {
  const c = text.charAt(i);
  if (c === '{') return scanObject(text, i);
  if (c === '[') return scanArray(text, i);
  if (c === '"') return scanString(text, i);
  if (c === '-' || (c >= '0' && c <= '9')) return scanNumber(text, i);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, i)) return i + literal.length;
  }
  if (c === "'") throw new Stop(i, 'strings must be in double quotes');
  if (i >= text.length) throw new Stop(i, 'unexpected end of file: a value is missing');
  throw new Stop(i, `expected a value, found ${describeAt(text, i)}`);
}

function scanObject(text: string, i: number): number {
  i = skipSpace(text, i + 1);
  if (text.charAt(i) === '}') return i + 1;
  for (;;) {
    const c = text.charAt(i);
    if (c === '}') throw new Stop(i, 'trailing comma before "}"');
    if (c !== '"') {
      if (c === "'") throw new Stop(i, 'keys must be in double quotes');
      if (/[A-Za-z_$]/.test(c)) throw new Stop(i, 'keys must be in double quotes ("port", not port)');
      throw new Stop(i, `expected a key in double quotes, found ${describeAt(text, i)}`);
    }
    i = skipSpace(text, scanString(text, i));
    if (text.charAt(i) !== ':') throw new Stop(i, `expected ":" after the key, found ${describeAt(text, i)}`);
    i = skipSpace(text, scanValue(text, skipSpace(text, i + 1)));
    const after = text.charAt(i);
    if (after === '}') return i + 1;
    if (after !== ',') throw new Stop(i, `expected "," or "}", found ${describeAt(text, i)}${after === '"' ? ' (a comma is missing)' : ''}`);
    i = skipSpace(text, i + 1);
  }
}

function scanArray(text: string, i: number): number {
  i = skipSpace(text, i + 1);
  if (text.charAt(i) === ']') return i + 1;
  for (;;) {
    if (text.charAt(i) === ']') throw new Stop(i, 'trailing comma before "]"');
    i = skipSpace(text, scanValue(text, i));
    const after = text.charAt(i);
    if (after === ']') return i + 1;
    if (after !== ',') throw new Stop(i, `expected "," or "]", found ${describeAt(text, i)}`);
    i = skipSpace(text, i + 1);
  }
}

function scanString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === 0x22 /* " */) return j + 1;
    if (code < 0x20) throw new Stop(j, code === 0x0a ? 'a string runs past the end of the line (missing closing quote?)' : `unescaped ${describeAt(text, j)} in a string`);
    if (code === 0x5c /* \ */) {
      const escape = text.charAt(j + 1);
      if (escape === 'u') {
        if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(j + 2, j + 6))) throw new Stop(j, 'invalid \\u escape: four hex digits must follow');
        j += 5;
      } else if ('"\\/bfnrt'.includes(escape) && escape !== '') {
        j += 1;
      } else {
        throw new Stop(j, `invalid escape "\\${escape}" in a string`);
      }
    }
  }
  throw new Stop(text.length, 'unexpected end of file inside a string');
}

/** RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
function scanNumber(text: string, i: number): number {
  const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
  if (match === null) throw new Stop(i, 'invalid number');
  const end = i + match[0].length;
  if (/[0-9.xXeE]/.test(text.charAt(end))) throw new Stop(i, 'invalid number (no leading zeros, hex or trailing dot in JSON)');
  return end;
}
