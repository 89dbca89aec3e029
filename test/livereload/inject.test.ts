import { describe, expect, it } from 'vitest';
import { injectScript } from '../../src/livereload/inject.js';

const TAG = '<script src="/__serve-dir/client.js"></script>';
const inject = (page: string) => injectScript(Buffer.from(page, 'utf8'), TAG).toString('utf8');

describe('injectScript', () => {
  it.each([
    ['before </body>', '<html><body><p>hi</p></body></html>', `<html><body><p>hi</p>${TAG}</body></html>`],
    ['uppercase tags', '<HTML><BODY>x</BODY></HTML>', `<HTML><BODY>x${TAG}</BODY></HTML>`],
    ['mixed case', '<body>x</Body>', `<body>x${TAG}</Body>`],
    ['space before >', '<body>x</body >', `<body>x${TAG}</body >`],
    ['newline before >', '<body>x</body\n>', `<body>x${TAG}</body\n>`],
    ['only </html>', '<html><p>x</p></html>\n', `<html><p>x</p>${TAG}</html>\n`],
    ['neither tag: appended', '<p>a fragment</p>', `<p>a fragment</p>${TAG}`],
    ['empty page', '', TAG],
    ['the last </body> wins', '<script>s = "</body>"</script><body>x</body>', `<script>s = "</body>"</script><body>x${TAG}</body>`],
    ['</body> preferred to a later </html>', '<body>x</body></html>', `<body>x${TAG}</body></html>`],
    ['</bodyguard> is not </body>', '<html><bodyguard></bodyguard></html>', `<html><bodyguard></bodyguard>${TAG}</html>`],
    ['</htmlx> is not </html>', '<p>x</htmlx>', `<p>x</htmlx>${TAG}`],
    // HTML has no self-closing script: what follows is script text, so the tag goes before it.
    ['"self-closing" script', '<body><script src="a.js"/></body>', `<body>${TAG}<script src="a.js"/></body>`],
    ['"</body>" in a script string', '<p>x</p><script>s = "</body>"</script>', `<p>x</p><script>s = "</body>"</script>${TAG}`],
    ['a trailing commented </body>', '<body>x</body><!-- </body> -->', `<body>x${TAG}</body><!-- </body> -->`],
    ['cut off right after the name', '<body>x</body', `<body>x${TAG}</body`],
    ['non-ASCII content', '<body>Grüße — 日本</body>', `<body>Grüße — 日本${TAG}</body>`],
  ])('%s', (_name, page, expected) => {
    expect(inject(page)).toBe(expected);
  });

  it('keeps a UTF-8 byte-order mark at the start', () => {
    const page = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<body>x</body>')]);
    const result = injectScript(page, TAG);
    expect([...result.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(result.subarray(3).toString('utf8')).toBe(`<body>x${TAG}</body>`);
  });

  it('does not modify the page it is given', () => {
    const page = Buffer.from('<body>x</body>');
    injectScript(page, TAG);
    expect(page.toString()).toBe('<body>x</body>');
  });

  it('handles a 10 MB page without </body> in one quick pass', () => {
    const page = Buffer.from(`<html>${'<p>lorem <b>ipsum</b></p>\n'.repeat(400_000)}`);
    expect(page.length).toBeGreaterThan(10_000_000);
    const started = performance.now();
    const result = injectScript(page, TAG);
    const elapsed = performance.now() - started;
    expect(result.subarray(-TAG.length).toString()).toBe(TAG);
    expect(result.length).toBe(page.length + TAG.length);
    // A linear scan takes well under a second here, even on a busy machine; a quadratic one would take minutes.
    expect(elapsed).toBeLessThan(5000);
  });
});
