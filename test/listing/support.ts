/** Shared by the listing tests: hostile file names, and reading attributes back as a browser does. */

/**
 * File names that are special somewhere: in HTML text or attributes, in URLs
 * (query, fragment, escapes, schemes, dot segments, backslash), or in how text
 * is shown (emoji, CJK, combining marks, bidi override, control characters).
 * [name, its escaped text in the page, its href attribute as written]
 */
export const HOSTILE_NAMES: [string, string, string][] = [
  ['<script>alert(1)', '&lt;script&gt;alert(1)', './%3Cscript%3Ealert(1)'],
  ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;', './%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E'],
  ['say "hi"', 'say &quot;hi&quot;', './say%20%22hi%22'],
  ['" onmouseover="alert(1)', '&quot; onmouseover=&quot;alert(1)', './%22%20onmouseover%3D%22alert(1)'],
  ["it's", 'it&#39;s', './it&#39;s'],
  ["' onclick='x", '&#39; onclick=&#39;x', './&#39;%20onclick%3D&#39;x'],
  ['Tom & Jerry', 'Tom &amp; Jerry', './Tom%20%26%20Jerry'],
  ['&amp;', '&amp;amp;', './%26amp%3B'],
  ['what?', 'what?', './what%3F'],
  ['c#', 'c#', './c%23'],
  ['#top', '#top', './%23top'],
  ['100%', '100%', './100%25'],
  ['%2e%2e', '%2e%2e', './%252e%252e'],
  ['%2F', '%2F', './%252F'],
  ['a:b', 'a:b', './a%3Ab'],
  ['javascript:alert(1)', 'javascript:alert(1)', './javascript%3Aalert(1)'],
  ['http:', 'http:', './http%3A'],
  ['//evil.example', '//evil.example', './%2F%2Fevil.example'],
  ['with space', 'with space', './with%20space'],
  [' padded ', ' padded ', './%20padded%20'],
  ['semi;colon', 'semi;colon', './semi%3Bcolon'],
  ['a=b&c=d', 'a=b&amp;c=d', './a%3Db%26c%3Dd'],
  ['plus+sign', 'plus+sign', './plus%2Bsign'],
  ['back\\slash', 'back\\slash', './back%5Cslash'],
  ['😀 party', '😀 party', './%F0%9F%98%80%20party'],
  ['中文文件名', '中文文件名', './%E4%B8%AD%E6%96%87%E6%96%87%E4%BB%B6%E5%90%8D'],
  ['é', 'é', './%C3%A9'],
  ['e\u0301', 'e\u0301', './e%CC%81'],
  ['\u202Egnp.exe', '\ufffdgnp.exe', './%E2%80%AEgnp.exe'],
  ['...', '...', './...'],
  ['..a', '..a', './..a'],
  ['new\nline', 'new\u240aline', './new%0Aline'],
  ['~!*()', '~!*()', './~!*()'],
  ['`{|}^[]', '`{|}^[]', './%60%7B%7C%7D%5E%5B%5D'],
];

/** Undo HTML escaping of an attribute value, as a browser does. */
export function unescapeAttribute(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, entity: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] as string,
  );
}

/** Every link's href in a page, unescaped: what a browser would resolve. */
export function hrefsIn(html: string): string[] {
  return [...html.matchAll(/<a href="([^"]*)"/g)].map((match) => unescapeAttribute(match[1] as string));
}
