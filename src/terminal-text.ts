/**
 * Text from a file name, a request or an error message, made safe to print on a
 * terminal. Such text is chosen by whoever named a file or sent a request, and a
 * terminal obeys what it prints: `ESC ] 0;…BEL` sets the window title, `ESC [2J`
 * clears the screen, the single byte CSI (U+009B) does what `ESC [` does, and a
 * line break forges a log line of the attacker's choosing. So every character a
 * terminal could act on, or that makes the text read differently from what it
 * is, is shown as an escape instead:
 *
 * - C0 controls (U+0000–U+001F: NUL, BEL, BS, TAB, LF, CR, ESC …) and DEL;
 * - C1 controls (U+0080–U+009F): request targets are decoded one byte a char,
 *   so a raw byte 0x9B arrives as U+009B;
 * - line and paragraph separators (U+2028, U+2029);
 * - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069), which reorder what follows on the line ("Trojan Source",
 *   CVE-2021-42574);
 * - lone UTF-16 surrogates, which have no character to show.
 *
 * TAB, LF and CR read as `\t`, `\n`, `\r`; other characters up to U+00FF as
 * `\xHH`; the rest as `\uHHHH`. A backslash is kept as it is, so Windows paths
 * stay readable: the output is for a person to read, not to parse back.
 */
export function terminalSafe(text: string): string {
  // Nearly every line is clean: one scan, no copy.
  return UNSAFE.test(text) ? text.replace(EVERY_UNSAFE, escapeChar) : text;
}

const UNSAFE = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;
const EVERY_UNSAFE = new RegExp(UNSAFE.source, 'gu');

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
