import { describe, expect, it } from 'vitest';
import { findInsertionPoint, incompatibleCharset, InsertionPointScanner } from '../../src/livereload/insertion-point.js';

/** Each page is written with ‸ where the tag must go. */
const CASES: Array<[string, string]> = [
  ['before </body>', '<html><body><p>hi</p>‸</body></html>'],
  ['uppercase tags', '<HTML><BODY>x‸</BODY></HTML>'],
  ['mixed case', '<body>x‸</Body>'],
  ['space before >', '<body>x‸</body >'],
  ['newline before >', '<body>x‸</body\n>'],
  ['only </html>', '<html><p>x</p>‸</html>\n'],
  ['neither tag: at the end', '<p>a fragment</p>‸'],
  ['empty page', '‸'],
  ['</body> preferred to a later </html>', '<body>x‸</body></html>'],
  ['the last </body> in markup wins', '<body>a</body><p>b</p>‸</body>'],
  ['</bodyguard> is not </body>', '<html><bodyguard></bodyguard>‸</html>'],
  ['</htmlx> is not </html>', '<p>x</htmlx>‸'],
  ['"</body>" in a script string', '<body><script>s = "</body>";</script>‸</body>'],
  ['"</body>" in a script, no real one', '<p>x</p><script>s = "</body>";</script>‸'],
  ['"</body>" in uppercase SCRIPT', '<BODY><SCRIPT type="module">s = "</BODY>"</SCRIPT>‸</BODY>'],
  ['</scripts> does not end a script', '<body><script>a = "</scripts></body>"</script>‸</body>'],
  ['"</body>" in a style', '<body><style>p::after { content: "</body>" }</style>‸</body>'],
  ['"</body>" in a title', '<title>a </body> b</title><body>x‸</body>'],
  ['"</body>" in a textarea', '<body><textarea></body></textarea>‸</body>'],
  ['a trailing commented </body>', '<html><body>x‸</body></html><!-- </body> -->'],
  ['a commented </body> only', '<p>x</p><!-- </body> -->‸'],
  ['a comment with dashes inside', '<body><!-- a -- b --- </body> ---->‸</body>'],
  ['"<!-->" is an empty comment', '<body><!-->x‸</body>'],
  ['"<!--->" is an empty comment', '<body><!--->x‸</body>'],
  ['a comment closed by --!>', '<body><!-- </body> --!>x‸</body>'],
  ['"</body>" in a double-quoted attribute', '<body><a title="</body>">x</a>‸</body>'],
  ["'</body>' in a single-quoted attribute", "<body><a title='</body>'>x</a>‸</body>"],
  ['an attribute value quoted after spaces', '<body><a title = "</body>">x</a>‸</body>'],
  ['a quote inside an unquoted value', "<body><a title=it's>x</a>‸</body>"],
  ['"<" and ">" in text', '<body>1 < 2 > 0 <3 ‸</body>'],
  ['a doctype', '<!DOCTYPE html><body>x‸</body>'],
  ['a processing instruction', '<?xml version="1.0"?><body>x‸</body>'],
  ['a bogus comment "</ </body>"', '<body></ 1 </body>‸'],
  ['"</>" is dropped', '<body></>x‸</body>'],
  ['"self-closing" script: still a script', '<body>‸<script src="a.js"/></body>'],
  ['an unterminated comment: before it', '<body>x‸<!-- never closed </body>'],
  ['an unterminated script: before it', '<body>x‸<script>let s = "</body>"'],
  ['cut off inside the end tag', '<body>x‸</body'],
  ['cut off inside an attribute', '<body>x‸<a href="</body>'],
  ['plaintext: everything after is text', '<body>‸<plaintext></body>'],
  ['non-ASCII content', '<body>Grüße — 日本‸</body>'],
  ['a UTF-8 byte-order mark', '\ufeff<body>x‸</body>'],
];

function pageAndPoint(marked: string): [Buffer, number] {
  const [before, after] = marked.split('‸') as [string, string];
  return [Buffer.from(before + after), Buffer.byteLength(before)];
}

describe('findInsertionPoint', () => {
  it.each(CASES)('%s', (_name, marked) => {
    const [page, expected] = pageAndPoint(marked);
    expect(findInsertionPoint(page)).toBe(expected);
  });

  it.each(CASES)('%s, given one byte at a time', (_name, marked) => {
    const [page, expected] = pageAndPoint(marked);
    const scanner = new InsertionPointScanner();
    for (let i = 0; i < page.length; i++) scanner.write(page.subarray(i, i + 1));
    expect(scanner.end()).toBe(expected);
  });

  it('gives the same point whatever the chunks, with the chunk buffer reused', () => {
    // Every case in one page: states carried from one construct into the next.
    const page = Buffer.from(CASES.map(([, marked]) => marked.replace('‸', '')).join('\n'));
    const expected = findInsertionPoint(page);
    const reused = Buffer.alloc(7);
    for (const size of [2, 3, 5, 7]) {
      const scanner = new InsertionPointScanner();
      for (let at = 0; at < page.length; at += size) {
        const length = page.copy(reused, 0, at, at + size);
        scanner.write(reused.subarray(0, length));
        reused.fill(0x3c);
      }
      expect(scanner.end()).toBe(expected);
    }
  });

  it('scans a 10 MB page in one quick pass', () => {
    const page = Buffer.from(`<html>${'<p class="x">lorem <b>ipsum</b></p>\n'.repeat(300_000)}</html>`);
    expect(page.length).toBeGreaterThan(10_000_000);
    const started = performance.now();
    expect(findInsertionPoint(page)).toBe(page.length - '</html>'.length);
    // Linear: a few tens of ms here; a quadratic scan would take minutes.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('incompatibleCharset', () => {
  const utf16le = (text: string) => Buffer.from(text, 'utf16le');
  it.each([
    ['no declaration', Buffer.from('<p>x</p>'), undefined],
    ['UTF-8 byte-order mark', Buffer.from('\ufeff<p>x</p>'), undefined],
    ['<meta charset="utf-8">', Buffer.from('<meta charset="utf-8"><p>x'), undefined],
    ['<meta charset=UTF8>', Buffer.from('<META CHARSET=UTF8><p>x'), undefined],
    ['iso-8859-1', Buffer.from("<meta charset='iso-8859-1'>"), undefined],
    ['windows-1252 by http-equiv', Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'), undefined],
    ['us-ascii', Buffer.from('<meta charset="us-ascii">'), undefined],
    ['UTF-16LE byte-order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le('<p>x</p>')]), 'UTF-16LE'],
    ['UTF-16BE byte-order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16le('<p>x</p>').swap16()]), 'UTF-16BE'],
    ['UTF-32LE byte-order mark', Buffer.from([0xff, 0xfe, 0, 0, 0x3c, 0, 0, 0]), 'UTF-32LE'],
    ['UTF-32BE byte-order mark', Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x3c]), 'UTF-32BE'],
    ['UTF-16 without a byte-order mark', utf16le('<p>x</p>'), 'UTF-16 or UTF-32 (no byte-order mark)'],
    ['declared utf-16', Buffer.from('<meta charset="utf-16"><p>x'), 'utf-16'],
    ['Shift_JIS by http-equiv', Buffer.from('<meta http-equiv="content-type" content="text/html;charset=Shift_JIS">'), 'Shift_JIS'],
    ['a declaration after 1024 bytes is not read', Buffer.from(`${' '.repeat(1024)}<meta charset="utf-16">`), undefined],
    ['a control character in the name is not echoed', Buffer.from('<meta charset="x\x1b[31m">'), 'x??31m'],
  ])('%s', (_name, head, expected) => {
    expect(incompatibleCharset(head)).toBe(expected);
  });
});
