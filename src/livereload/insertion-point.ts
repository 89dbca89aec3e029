// Where the live-reload script tag goes in a page, and whether it can go in at all.
//
// The tag must land where a browser will run it: in markup, not inside a comment, a <script> or
// <style> (a JS string holding "</body>"), or a quoted attribute. So the page is read by a small
// scan that knows those constructs, simplified from HTML's tokenizer
// (https://html.spec.whatwg.org/multipage/parsing.html#tokenization): comments (<!-- -->), bogus
// comments and doctypes (<! >, <? >), tags with their quoted attribute values, and the elements
// whose contents are text until their own end tag (script, style, textarea, title, ...).
// Not modelled: script's "double-escaped" state (<!--<script> inside a script) and foreign
// content (SVG's <style>); both are rare, and the worst outcome is a page without live reload.
//
// The point chosen: before the last </body> in markup, else before the last </html>, else at the
// end; but a page that ends inside an unclosed construct (an unterminated comment or script) gets
// the tag just before that construct, the last place a browser reads as markup.
//
// The scan works on bytes, in chunks of any size (a page larger than memory is scanned as it is
// read): 10 to 20 ms per megabyte of dense markup once compiled, far less for long text.

const enum State {
  Data,
  /** Inside <name ...> or </name ...>, up to its '>'. */
  Tag,
  /** <!-- ... --> */
  Comment,
  /** <!...>, <?...>, </ followed by a non-letter: up to the next '>'. */
  BogusComment,
  /** The contents of script, style, textarea, title...: text until </name. */
  RawText,
  /** After <plaintext>: text to the end of the page. */
  PlainText,
}

/** Elements whose contents are text up to their own end tag (the spec's RAWTEXT, RCDATA and script data). */
const RAW_TEXT_ELEMENTS = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);
/** Longest tag name worth remembering: the longest of the names above, and "plaintext". */
const MAX_INTERESTING_NAME = 9;
/** The names we look for, as (initial << 4 | length): a cheap first test before making a string. */
const INTERESTING_SHAPES = new Set(
  [...RAW_TEXT_ELEMENTS, 'body', 'html', 'plaintext'].map((name) => (name.charCodeAt(0) << 4) | name.length),
);

const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const DASH = 0x2d;
const EQUALS = 0x3d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const DASHES = Buffer.from('--');
const END_TAG_OPEN = Buffer.from('</');

function isAsciiLetter(byte: number): boolean {
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/**
 * buffer.indexOf(byte, from), by hand over the first bytes: a call into the native search costs
 * more than a short loop, and in markup the next '<' or quote is usually a few bytes away
 * (a 26 MB page of short tags scanned 1.1 to 1.9 times faster in our runs on the shared 2-core
 * machine). Long runs of text still get the native search.
 */
function indexOfByte(buffer: Buffer, byte: number, from: number): number {
  const stop = Math.min(buffer.length, from + 64);
  for (let i = from; i < stop; i++) if (buffer[i] === byte) return i;
  return stop === buffer.length ? -1 : buffer.indexOf(byte, stop);
}

/** A tag name ends at whitespace, "/" or ">" (HTML's tokenizer). */
function isTagNameEnd(byte: number): boolean {
  return byte === GREATER_THAN || byte === SLASH || isHtmlWhitespace(byte);
}

function isHtmlWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d;
}

/** Finds the insertion point of a page given in chunks: write() each, then end(). */
export class InsertionPointScanner {
  #state = State.Data;
  /** Absolute offset of the first byte not yet consumed (the carry's first byte, if any). */
  #position = 0;
  /** A few bytes held back from the last chunk: a construct whose start needs more to recognise. */
  #carry: Buffer | undefined;
  /** Offset of the '<' that opened the construct we are in (for a raw-text element, its start tag). */
  #constructStart = 0;
  #lastBodyEnd = -1;
  #lastHtmlEnd = -1;
  // The tag being read.
  #tagIsEnd = false;
  /** Lowercased, when it is one of the names we look for; '' otherwise. */
  #tagName = '';
  #afterEquals = false;
  #quote = 0;
  /** The element whose end tag closes the raw text we are in. */
  #rawTextName = '';

  /** Scans the next bytes of the page. The chunk may be reused by the caller afterwards. */
  write(chunk: Buffer): void {
    const buffer = this.#carry === undefined ? chunk : Buffer.concat([this.#carry, chunk]);
    const consumed = this.#scan(buffer, false);
    this.#carry = consumed === buffer.length ? undefined : Buffer.from(buffer.subarray(consumed));
    this.#position += consumed;
  }

  /** The byte offset at which to insert, once the whole page has been written. */
  end(): number {
    let length = this.#position;
    if (this.#carry !== undefined) {
      this.#scan(this.#carry, true);
      length += this.#carry.length;
      this.#carry = undefined;
    }
    if (this.#lastBodyEnd >= 0) return this.#lastBodyEnd;
    if (this.#lastHtmlEnd >= 0) return this.#lastHtmlEnd;
    return this.#state === State.Data ? length : this.#constructStart;
  }

  /** Scans `buffer` (at this.#position); returns how many bytes were consumed (the rest needs more input). */
  #scan(buffer: Buffer, final: boolean): number {
    const length = buffer.length;
    let i = 0;
    while (i < length) {
      switch (this.#state) {
        case State.Data: {
          const lessThan = indexOfByte(buffer, LESS_THAN, i);
          if (lessThan < 0) return length;
          const next = this.#markupAt(buffer, lessThan, final);
          if (next < 0) return lessThan;
          i = next;
          break;
        }
        case State.Tag:
          i = this.#tag(buffer, i);
          break;
        case State.Comment: {
          const dashes = buffer.indexOf(DASHES, i);
          if (dashes < 0) return !final && buffer[length - 1] === DASH ? length - 1 : length;
          const after = buffer[dashes + 2];
          const afterBang = buffer[dashes + 3];
          if (!final && (after === undefined || (after === BANG && afterBang === undefined))) return dashes;
          if (after === GREATER_THAN) {
            this.#state = State.Data;
            i = dashes + 3;
          } else if (after === BANG && afterBang === GREATER_THAN) {
            this.#state = State.Data;
            i = dashes + 4;
          } else {
            i = dashes + 1;
          }
          break;
        }
        case State.BogusComment: {
          const end = buffer.indexOf(GREATER_THAN, i);
          if (end < 0) return length;
          this.#state = State.Data;
          i = end + 1;
          break;
        }
        case State.RawText: {
          const open = buffer.indexOf(END_TAG_OPEN, i);
          if (open < 0) return !final && buffer[length - 1] === LESS_THAN ? length - 1 : length;
          const name = this.#rawTextName;
          const terminator = open + 2 + name.length;
          if (terminator >= length && !final) return open;
          let matches = terminator < length;
          for (let j = 0; matches && j < name.length; j++) matches = (buffer[open + 2 + j]! | 0x20) === name.charCodeAt(j);
          if (matches) {
            const byte = buffer[terminator]!;
            matches = byte === GREATER_THAN || byte === SLASH || isHtmlWhitespace(byte);
          }
          if (!matches) {
            i = open + 1;
            break;
          }
          // The end tag of the raw-text element: its '>' returns to markup. Should the page end
          // before that, the construct still open is the element, from its start tag.
          this.#beginTag(true, name);
          i = terminator;
          break;
        }
        case State.PlainText:
          return length;
      }
    }
    return length;
  }

  /**
   * At a '<' in markup: what it opens, and where scanning goes on; -1 when the chunk ends too
   * soon to tell (at most 4 bytes are needed).
   */
  #markupAt(buffer: Buffer, at: number, final: boolean): number {
    const next = buffer[at + 1];
    if (next === undefined) return final ? at + 1 : -1;
    if (next === BANG) {
      if (at + 3 >= buffer.length && !final) return -1;
      this.#constructStart = this.#position + at;
      // The dashes of "<!--" are scanned again as the comment's, so that "<!-->" closes at once, as in browsers.
      this.#state = buffer[at + 2] === DASH && buffer[at + 3] === DASH ? State.Comment : State.BogusComment;
      return at + 2;
    }
    if (next === SLASH) {
      const initial = buffer[at + 2];
      if (initial === undefined) return final ? at + 2 : -1;
      if (initial === GREATER_THAN) return at + 3; // "</>" is dropped
      this.#constructStart = this.#position + at;
      if (!isAsciiLetter(initial)) {
        this.#state = State.BogusComment;
        return at + 2;
      }
      return this.#tagNameAt(buffer, at + 2, true, final);
    }
    if (next === QUESTION) {
      this.#constructStart = this.#position + at;
      this.#state = State.BogusComment;
      return at + 2;
    }
    if (isAsciiLetter(next)) {
      const after = this.#tagNameAt(buffer, at + 1, false, final);
      if (after >= 0) this.#constructStart = this.#position + at;
      return after;
    }
    return at + 1; // "<" followed by anything else is text
  }

  /**
   * Reads the name of a tag starting at `start` and enters the tag after it; -1 when the chunk
   * ends before the name does and it could still be one we look for (at most 10 bytes are held).
   */
  #tagNameAt(buffer: Buffer, start: number, isEnd: boolean, final: boolean): number {
    const limit = Math.min(buffer.length, start + MAX_INTERESTING_NAME + 1);
    let end = start;
    while (end < limit && !isTagNameEnd(buffer[end]!)) end++;
    if (end === buffer.length && end < start + MAX_INTERESTING_NAME + 1 && !final) return -1;
    const length = end - start;
    // Only names we look for become strings: most tags (p, a, div, span) cost no allocation.
    const interesting = length <= MAX_INTERESTING_NAME && INTERESTING_SHAPES.has(((buffer[start]! | 0x20) << 4) | length);
    this.#beginTag(isEnd, interesting ? buffer.toString('latin1', start, end).toLowerCase() : '');
    return end;
  }

  #beginTag(isEnd: boolean, name: string): void {
    this.#state = State.Tag;
    this.#tagIsEnd = isEnd;
    this.#tagName = name;
    this.#afterEquals = false;
    this.#quote = 0;
  }

  /** Reads a tag's attributes from `i` (after its name); returns where scanning goes on. */
  #tag(buffer: Buffer, i: number): number {
    const length = buffer.length;
    let quote = this.#quote;
    let afterEquals = this.#afterEquals;
    for (; i < length; i++) {
      if (quote !== 0) {
        const close = indexOfByte(buffer, quote, i);
        if (close < 0) {
          i = length;
          break;
        }
        quote = 0;
        i = close;
        continue;
      }
      const byte = buffer[i]!;
      if (byte === GREATER_THAN) return this.#endTag(i);
      if (byte === EQUALS) {
        afterEquals = true;
      } else if (afterEquals && !isHtmlWhitespace(byte)) {
        // Only a value may be quoted; a quote elsewhere is part of a (malformed) name.
        afterEquals = false;
        if (byte === DOUBLE_QUOTE || byte === SINGLE_QUOTE) quote = byte;
      }
    }
    this.#quote = quote;
    this.#afterEquals = afterEquals;
    return i;
  }

  /** The tag's '>' at `i`. */
  #endTag(i: number): number {
    const name = this.#tagName;
    this.#state = State.Data;
    if (this.#tagIsEnd) {
      if (name === 'body') this.#lastBodyEnd = this.#constructStart;
      else if (name === 'html') this.#lastHtmlEnd = this.#constructStart;
    } else if (RAW_TEXT_ELEMENTS.has(name)) {
      // "<script/>" is not self-closing in HTML: its contents start all the same.
      this.#state = State.RawText;
      this.#rawTextName = name;
    } else if (name === 'plaintext') {
      this.#state = State.PlainText;
    }
    return i + 1;
  }
}

/** The insertion point of a page held in memory (see the top of this file). */
export function findInsertionPoint(html: Buffer): number {
  const scanner = new InsertionPointScanner();
  scanner.write(html);
  return scanner.end();
}

/** How many bytes of a page decide its charset: the spec's prescan reads the first 1024. */
export const CHARSET_PRESCAN_BYTES = 1024;

/**
 * Labels of the encodings in which ASCII bytes always mean ASCII characters, so that an ASCII
 * tag can be put between bytes without decoding: UTF-8, ASCII, ISO-8859-x, windows-125x (WHATWG
 * Encoding labels). Multi-byte legacy encodings are not in it: in Shift_JIS or ISO-2022-JP some
 * ASCII bytes are halves of other characters.
 */
const ASCII_COMPATIBLE = /^(?:utf-?8|unicode-1-1-utf-8|(?:us-)?ascii|iso[-_]?8859-\d{1,2}|iso8859\d{1,2}|iso[-_]?latin\d|latin\d|l\d|(?:x-)?cp125\d|windows-125\d|cp819|ibm819)$/i;
const META_CHARSET = /<meta\s[^>]*?charset\s*=\s*["']?\s*([^\s"'>;/]+)/i;

/**
 * Undefined when the tag can be inserted as bytes into a page starting with `head` (UTF-8 or an
 * ASCII-compatible charset, or none declared); otherwise the page's charset as the terminal
 * should name it. Looks at the byte-order mark (which wins over any declaration), then at a
 * <meta charset> or http-equiv declaration in the first 1024 bytes. A NUL there is UTF-16 or
 * UTF-32 without a byte-order mark: no HTML page in an ASCII-compatible encoding holds one.
 */
export function incompatibleCharset(head: Buffer): string | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return undefined;
  if (head[0] === 0xff && head[1] === 0xfe) return head[2] === 0 && head[3] === 0 ? 'UTF-32LE' : 'UTF-16LE';
  if (head[0] === 0xfe && head[1] === 0xff) return 'UTF-16BE';
  if (head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff) return 'UTF-32BE';
  const prescan = head.subarray(0, CHARSET_PRESCAN_BYTES);
  if (prescan.includes(0)) return 'UTF-16 or UTF-32 (no byte-order mark)';
  const declared = META_CHARSET.exec(prescan.toString('latin1'))?.[1];
  if (declared === undefined || ASCII_COMPATIBLE.test(declared)) return undefined;
  // Only what the pattern allows, and at most 40 characters of it: it goes to the terminal.
  return declared.replace(/[^\w.:+-]/g, '?').slice(0, 40);
}
