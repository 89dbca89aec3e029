import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../src/terminal-text.js';

describe('terminalSafe', () => {
  it.each([
    // C0, each a thing a terminal acts on
    ['NUL', 'a\x00b', 'a\\x00b'],
    ['BEL', 'a\x07b', 'a\\x07b'],
    ['BS (overwrites what was shown)', 'safe\x08\x08\x08\x08evil', 'safe\\x08\\x08\\x08\\x08evil'],
    ['TAB', 'a\tb', 'a\\tb'],
    ['LF (forges a line)', 'x.txt\n12:00:00 GET /admin 200', 'x.txt\\n12:00:00 GET /admin 200'],
    ['CR (overwrites the line)', 'x\rGET', 'x\\rGET'],
    ['CR LF', 'a\r\nb', 'a\\r\\nb'],
    ['ESC alone', '\x1b', '\\x1b'],
    ['window title (OSC … BEL)', '\x1b]0;pwned\x07.txt', '\\x1b]0;pwned\\x07.txt'],
    ['clear screen (CSI 2J)', '\x1b[2J', '\\x1b[2J'],
    ['colour (SGR)', '\x1b[31mred\x1b[0m', '\\x1b[31mred\\x1b[0m'],
    ['US (last C0)', '\x1f', '\\x1f'],
    // DEL and C1 (code points U+0080–U+009F, the UTF-8 bytes C2 80 – C2 9F)
    ['DEL', 'a\x7fb', 'a\\x7fb'],
    ['C1 PAD (first)', '\u0080', '\\x80'],
    ['C1 NEL (a line break to some terminals)', 'a\u0085b', 'a\\x85b'],
    ['C1 CSI', '\u009b2J', '\\x9b2J'],
    ['C1 OSC … ST', '\u009d0;t\u009c', '\\x9d0;t\\x9c'],
    ['C1 APC (last)', '\u009f', '\\x9f'],
    ['C1 decoded from UTF-8 bytes', Buffer.from([0x61, 0xc2, 0x9b, 0x62]).toString('utf8'), 'a\\x9bb'],
    // Unicode line breaks and bidi controls (Trojan Source)
    ['LINE SEPARATOR', 'a\u2028b', 'a\\u2028b'],
    ['PARAGRAPH SEPARATOR', 'a\u2029b', 'a\\u2029b'],
    ['RLO', 'invoice\u202egpj.exe', 'invoice\\u202egpj.exe'],
    ['LRE … PDF', '\u202aa\u202c', '\\u202aa\\u202c'],
    ['RLE, LRO', '\u202b\u202d', '\\u202b\\u202d'],
    ['LRI, RLI, FSI, PDI', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
    ['LRM, RLM, ALM', '\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'],
    // Lone surrogates have no character to show; pairs are one character.
    ['lone high surrogate', 'a\ud800b', 'a\\ud800b'],
    ['lone low surrogate', 'a\udc00b', 'a\\udc00b'],
    ['a surrogate pair', 'a😀b', 'a😀b'],
    // What a person means to see is kept as it is.
    ['plain', '/css/site.css', '/css/site.css'],
    ['empty', '', ''],
    ['spaces and punctuation', 'my file (1) [x] {y} %20 ~', 'my file (1) [x] {y} %20 ~'],
    ['accents, CJK, emoji, combining marks', 'café 中文 e\u0301 👨‍👩‍👧', 'café 中文 e\u0301 👨‍👩‍👧'],
    ['NBSP and Latin-1 letters', '\u00a0\u00c2\u00ff', '\u00a0\u00c2\u00ff'],
    ['U+FFFD (what invalid UTF-8 decodes to)', Buffer.from([0x61, 0xff, 0x62]).toString('utf8'), 'a\ufffdb'],
    ['backslashes (Windows paths)', 'C:\\site\\a.txt', 'C:\\site\\a.txt'],
  ])('%s', (_name, input, shown) => {
    expect(terminalSafe(input)).toBe(shown);
  });

  it('leaves no control, separator or bidi character in anything, and is the identity on what it leaves', () => {
    let every = '';
    for (let code = 0; code < 0x10000; code++) every += String.fromCharCode(code);
    const safe = terminalSafe(every);
    expect(safe).not.toMatch(/[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Cs}/u);
    expect(terminalSafe(safe)).toBe(safe);
  });
});
