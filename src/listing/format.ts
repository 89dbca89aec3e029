/** Text helpers for listings: escaping, human-readable sizes and dates. */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const HTML_SPECIAL = /[&<>"']/g;

/**
 * Escape for HTML text and for quoted attribute values alike: with all five
 * characters escaped, one function is safe in both places, whichever quote an
 * attribute uses.
 */
export function escapeHtml(text: string): string {
  return text.replace(HTML_SPECIAL, (character) => HTML_ESCAPES[character] as string);
}

/**
 * Characters that are legal in a file name but make it lie about itself:
 * C0 controls and DEL (a newline or a terminal escape in a name), and the
 * explicit bidi embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069), with which `\u202Egnp.exe` reads as `exe.png`.
 */
const DECEPTIVE_CHARACTERS = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A file name as a person should see it: control characters become their
 * Unicode "control pictures" (U+2400 block: a newline shows as ␊) and bidi
 * controls become U+FFFD, so a name cannot disguise itself or break the layout.
 * Only for display; links use the exact name.
 */
export function visibleName(name: string): string {
  return name.replace(DECEPTIVE_CHARACTERS, (character) => {
    const code = character.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    return code === 0x7f ? '\u2421' : '\ufffd';
  });
}

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * Bytes in binary units, one decimal above bytes: `0 B`, `1023 B`, `1.5 KiB`.
 * The unit is chosen after rounding, so 1,048,575 bytes is `1.0 MiB`, never
 * `1024.0 KiB`.
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let unit = 0;
  let value = bytes;
  do {
    value /= 1024;
    unit++;
  } while (unit < SIZE_UNITS.length - 1 && Number(value.toFixed(1)) >= 1024);
  return `${value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

/**
 * ISO 8601 in UTC (`2024-05-01T09:30:00.000Z`), or null when the time cannot be
 * a JavaScript Date (some file systems store mtimes beyond ±275,760 years,
 * where `toISOString` would throw and take the whole listing down).
 */
export function isoTimestamp(mtimeMs: number): string | null {
  const date = new Date(mtimeMs);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** `YYYY-MM-DD HH:MM` in UTC: short, sortable by eye, the same for every visitor. */
export function formatDate(iso: string): string {
  // Slicing around 'T' also handles the six-digit years of toISOString (+012345-…).
  const t = iso.indexOf('T');
  return `${iso.slice(0, t)} ${iso.slice(t + 1, t + 6)}`;
}
