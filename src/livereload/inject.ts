// Puts the live-reload script tag into an HTML page: before the last </body>, else before the
// last </html>, else at the end (browsers run a script after </html> just as well, and some
// pages, fragments and error pages have neither tag).
//
// Works on the bytes: a page is searched from its end, so the usual page costs a few bytes of
// scanning and a huge one without </body> one linear pass, never a decode to a JS string.
// UTF-8 and anything ASCII-compatible is searched as is (a UTF-8 byte-order mark is just three
// bytes before the markup); a UTF-16 page, recognised by its byte-order mark, gets the tag in
// its own encoding.

const LESS_THAN = 0x3c;
const SLASH = 0x2f;
const GREATER_THAN = 0x3e;

/** Returns the page with `tag` inserted (a new Buffer; `html` is not modified). */
export function injectScript(html: Buffer, tag: string): Buffer {
  const utf16 = utf16ByteOrder(html);
  if (utf16 !== undefined) return injectIntoUtf16(html, tag, utf16);
  const at = findInsertionPoint(html);
  const tagBytes = Buffer.from(tag, 'utf8');
  return Buffer.concat([html.subarray(0, at), tagBytes, html.subarray(at)], html.length + tagBytes.length);
}

/** Byte offset of the last `</body>`, else of the last `</html>`, else the end of the page. */
export function findInsertionPoint(html: Buffer): number {
  let htmlEndTag = -1;
  for (let i = html.length - 2; i >= 0; i--) {
    if (html[i] !== LESS_THAN || html[i + 1] !== SLASH) continue;
    const initial = html[i + 2]! | 0x20;
    if (initial === 0x62 /* b */ && isEndTagNamed(html, i, 'body')) return i;
    if (initial === 0x68 /* h */ && htmlEndTag === -1 && isEndTagNamed(html, i, 'html')) htmlEndTag = i;
  }
  return htmlEndTag === -1 ? html.length : htmlEndTag;
}

/**
 * Whether the "</" at `at` starts the end tag `name`: tag names are ASCII case-insensitive and
 * end at whitespace, "/" or ">" (HTML's tokenizer), so "</BODY>" and "</body >" count and
 * "</bodyguard>" does not. A page cut off right after the name counts too.
 */
function isEndTagNamed(html: Buffer, at: number, name: string): boolean {
  const nameStart = at + 2;
  for (let j = 0; j < name.length; j++) {
    // Setting bit 0x20 lowercases an ASCII letter; the names are lowercase letters only.
    if ((html[nameStart + j]! | 0x20) !== name.charCodeAt(j)) return false;
  }
  const next = html[nameStart + name.length];
  return next === undefined || next === GREATER_THAN || next === SLASH || isHtmlWhitespace(next);
}

function isHtmlWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d;
}

function utf16ByteOrder(html: Buffer): 'le' | 'be' | undefined {
  if (html[0] === 0xff && html[1] === 0xfe) return 'le';
  if (html[0] === 0xfe && html[1] === 0xff) return 'be';
  return undefined;
}

/** Rare enough to take the simple road: to UTF-8, inject, and back, keeping the byte-order mark. */
function injectIntoUtf16(html: Buffer, tag: string, byteOrder: 'le' | 'be'): Buffer {
  const content = html.subarray(2, html.length - (html.length % 2));
  const littleEndian = byteOrder === 'le' ? content : Buffer.from(content).swap16();
  const injected = injectScript(Buffer.from(littleEndian.toString('utf16le'), 'utf8'), tag);
  const encoded = Buffer.from(injected.toString('utf8'), 'utf16le');
  if (byteOrder === 'be') encoded.swap16();
  return Buffer.concat([html.subarray(0, 2), encoded]);
}
