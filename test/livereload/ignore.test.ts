import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIgnoreMatcher, globToRegExp } from '../../src/livereload/ignore.js';

const ROOT = path.resolve('/srv/site');
const at = (relative: string) => path.join(ROOT, ...relative.split('/'));

describe('createIgnoreMatcher', () => {
  const userPatterns = ['*.log', 'dist', '/build/', 'docs/api', 'src/**/*.map', 'tmp/**', './cache', at('private')];
  const isIgnored = createIgnoreMatcher(ROOT, userPatterns);

  it.each([
    // always ignored, at any depth
    ['.git', true],
    ['.git/HEAD', true],
    ['node_modules', true],
    ['node_modules/pkg/index.js', true],
    ['app/node_modules/pkg/index.js', true],
    ['a/b/.git/config', true],
    // editor artifacts
    ['css/.site.css.swp', true],
    ['4913', true],
    ['index.html~', true],
    ['.#index.html', true],
    ['#index.html#', true],
    ['index.html___jb_tmp___', true],
    ['.DS_Store', true],
    // names at any depth
    ['server.log', true],
    ['logs/today.log', true],
    ['dist', true],
    ['packages/x/dist/bundle.js', true],
    // anchored patterns
    ['build', true],
    ['build/app.js', true],
    ['src/build/app.js', false],
    ['docs/api/index.html', true],
    ['docs/guide/index.html', false],
    ['x/docs/api/index.html', false],
    ['src/app.js.map', true],
    ['src/deep/er/app.js.map', true],
    ['lib/app.js.map', false],
    ['tmp', true],
    ['tmp/a/b', true],
    ['cache/x', true],
    ['private/key.pem', true],
    // not ignored
    ['index.html', false],
    ['css/site.css', false],
    ['.github/workflows/ci.yml', false],
    ['node_modules_docs/index.html', false],
    ['distance.html', false],
    ['flash.swf', false],
  ])('%s -> %s', (relative, expected) => {
    expect(isIgnored(at(relative))).toBe(expected);
    // The scan's shortcut agrees, for an entry of the first folder on the path not ignored
    // by itself (where a scan that never enters ignored folders would ask).
    const segments = relative.split('/');
    const depth = segments.findIndex((_, i) => isIgnored(at(segments.slice(0, i + 1).join('/'))));
    const last = depth === -1 ? segments.length - 1 : depth;
    expect(isIgnored.entry(segments.slice(0, last).join('/'), segments[last]!)).toBe(expected);
  });

  it('never ignores the root itself or paths outside it', () => {
    expect(isIgnored(ROOT)).toBe(false);
    expect(isIgnored(path.resolve('/srv/other/node_modules'))).toBe(false);
  });

  it('judges paths relative to the root, so a root inside node_modules is still watched', () => {
    const root = path.resolve('/work/node_modules/pkg/docs');
    expect(createIgnoreMatcher(root, [])(path.join(root, 'index.html'))).toBe(false);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['*.css', 'site.css', true],
    ['*.css', 'a/site.css', false],
    ['?.js', 'a.js', true],
    ['?.js', 'ab.js', false],
    ['**/*.css', 'site.css', true],
    ['**/*.css', 'a/b/site.css', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**', 'a/x/y', true],
    ['a**b', 'a/b', false],
    ['[abc].txt', 'b.txt', true],
    ['[abc].txt', 'd.txt', false],
    ['[!abc].txt', 'd.txt', true],
    ['*.{jpg,png}', 'photo.png', true],
    ['*.{jpg,png}', 'photo.gif', false],
    ['file(1).txt', 'file(1).txt', true],
    ['a+b.txt', 'a+b.txt', true],
    ['\\*.txt', '*.txt', true],
    ['\\*.txt', 'x.txt', false],
    ['[unclosed', '[unclosed', true],
  ])('%s matches %s: %s', (glob, candidate, expected) => {
    expect(globToRegExp(glob).test(candidate)).toBe(expected);
  });

  it('rejects an unclosed brace with a message naming the pattern', () => {
    expect(() => globToRegExp('*.{css')).toThrow('Invalid ignore pattern "*.{css"');
  });
});
