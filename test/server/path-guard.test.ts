import { randomUUID } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, request, serveDirectory, tempDir, writeTree, type RawResponse } from '../helpers/server.js';

// Secrets the server must never send: outside the root (a sibling whose name
// extends the root's, and the parent) and inside dotfiles.
const SIBLING_CANARY = `sibling-${randomUUID()}`;
const PARENT_CANARY = `parent-${randomUUID()}`;
const DOTENV_CANARY = `dotenv-${randomUUID()}`;
const GIT_CANARY = `git-${randomUUID()}`;
const OUTSIDE_CANARIES = [SIBLING_CANARY, PARENT_CANARY];
const DOTFILE_CANARIES = [DOTENV_CANARY, GIT_CANARY];

let base: string;
let root: string;
let hidden: number; // default: dotfiles hidden
let shown: number; // dotfiles: true

beforeAll(async () => {
  base = await tempDir();
  root = join(base, 'site');
  await writeTree(base, {
    'canary.txt': PARENT_CANARY,
    'site-secret/canary.txt': SIBLING_CANARY,
  });
  await writeTree(root, {
    'file.txt': 'plain file',
    'dir/inner.txt': 'inner',
    '.env': DOTENV_CANARY,
    '.git/config': GIT_CANARY,
    'sub/.hidden': DOTENV_CANARY,
    '.well-known/x': 'well known',
    'real/target.txt': 'reached through a link',
  });
  await symlink(join(root, 'real', 'target.txt'), join(root, 'link-inside.txt'));
  await symlink(join(root, 'real'), join(root, 'link-inside-dir'));
  await symlink(join(base, 'site-secret', 'canary.txt'), join(root, 'escape-file.txt'));
  await symlink(join(base, 'site-secret'), join(root, 'escape-dir'));
  await symlink('..', join(root, 'escape-parent'));
  await symlink('../../canary.txt', join(root, 'dir', 'escape-relative.txt'));
  hidden = (await serveDirectory(root)).port;
  shown = (await serveDirectory(root, { dotfiles: true })).port;
});
afterAll(cleanup);

/** Every response, whatever the request: no secret from outside, no absolute path. */
function expectNothingLeaked(response: RawResponse, allowDotfileCanaries = false): void {
  const everything = JSON.stringify(response.headers) + response.text;
  for (const canary of OUTSIDE_CANARIES) expect(everything).not.toContain(canary);
  if (!allowDotfileCanaries) for (const canary of DOTFILE_CANARIES) expect(everything).not.toContain(canary);
  expect(everything).not.toContain(base);
  expect(everything).not.toContain(dirname(base));
}

/** The server is still healthy after a hostile request. */
async function expectStillServing(port: number): Promise<void> {
  const response = await request(port, '/file.txt');
  expect(response.status).toBe(200);
  expect(response.text).toBe('plain file');
}

describe('path guard: hostile request targets, sent as raw bytes', () => {
  // [target exactly as sent, status]
  it.each([
    // Encoded dot segments and separators
    ['/%2e%2e/canary.txt', 400],
    ['/%2E%2E/site-secret/canary.txt', 400],
    ['/.%2e/canary.txt', 400],
    ['/dir/%2e%2e/%2e%2e/canary.txt', 400],
    ['/..%2fcanary.txt', 400],
    ['/..%2Fsite-secret%2Fcanary.txt', 400],
    ['/dir%2f..%2f..%2fcanary.txt', 400],
    ['/%2fetc%2fpasswd', 400],
    ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 400],
    // Backslashes, raw and encoded (Windows reads them as separators)
    ['/..\\canary.txt', 400],
    ['/dir\\..\\..\\canary.txt', 400],
    ['/..%5ccanary.txt', 400],
    ['/%5c..%5c..%5csite-secret%5ccanary.txt', 400],
    // Double encoding is decoded once: a literal name '%2e%2e' that does not exist
    ['/%252e%252e/canary.txt', 404],
    ['/%252e%252e%252fcanary.txt', 404],
    ['/%25%32%65%25%32%65/canary.txt', 404],
    // NUL and malformed escapes
    ['/file.txt%00', 400],
    ['/file.txt%00.html', 400],
    ['/%00', 400],
    ['/%zz', 400],
    ['/%', 400],
    ['/file.txt%2', 400],
    ['/%e0%80%ae%e0%80%ae/canary.txt', 400],
    ['/%c0%ae%c0%ae/canary.txt', 400],
    ['/%c0%af', 400],
    ['/%ff', 400],
    // Plain dot segments above the root
    ['/../canary.txt', 400],
    ['/../../../../etc/passwd', 400],
    ['/dir/../../canary.txt', 400],
    ['/./../site-secret/canary.txt', 400],
    ['/..', 400],
    ['http://localhost/../canary.txt', 400],
    // Names that look absolute stay inside the root
    ['//etc/passwd', 404],
    ['/site-secret/canary.txt', 404],
    ['/' + 'a'.repeat(300), 404],
    // Symlinks whose real path leaves the root
    ['/escape-file.txt', 404],
    ['/escape-dir', 404],
    ['/escape-dir/', 404],
    ['/escape-dir/canary.txt', 404],
    ['/escape-parent/canary.txt', 404],
    ['/escape-parent/site-secret/canary.txt', 404],
    ['/dir/escape-relative.txt', 404],
    // Dotfiles and dot-directories, however they are spelled
    ['/.env', 404],
    ['/%2eenv', 404],
    ['/.git/config', 404],
    ['/.git/./config', 404],
    ['//.git//config', 404],
    ['/.git/', 404],
    ['/.git', 404],
    ['/dir/../.env', 404],
    ['/.env/.', 404],
    ['/.env?x', 404],
    ['/sub/.hidden', 404],
    ['/sub/%2ehidden', 404],
  ])('%s → %i, nothing leaked, server still serving', async (target, status) => {
    const response = await request(hidden, target);
    expect(response.status).toBe(status);
    expect(response.headers['location']).toBeUndefined();
    expectNothingLeaked(response);
    await expectStillServing(hidden);
  });

  it.each([
    ['/link-inside.txt', 'reached through a link'],
    ['/link-inside-dir/target.txt', 'reached through a link'],
    ['/dir/../file.txt', 'plain file'],
    ['/./file.txt', 'plain file'],
    ['/dir/./inner.txt', 'inner'],
    ['//dir//inner.txt', 'inner'],
    ['/.well-known/x', 'well known'],
    ['/%2ewell-known/x', 'well known'],
    ['http://localhost/file.txt', 'plain file'],
  ])('%s is served (200)', async (target, body) => {
    const response = await request(hidden, target);
    expect(response.status).toBe(200);
    expect(response.text).toBe(body);
    expectNothingLeaked(response);
  });

  it('an escaping symlink to a folder is not followed into a listing', async () => {
    // No '/escape-dir/' listing above; the linked folder's real files stay out of every listing.
    for (const accept of ['text/html', 'application/json']) {
      const response = await request(hidden, '/', { headers: { Accept: accept } });
      expect(response.status).toBe(200);
      expect(response.text).not.toMatch(/escape-(file|dir|parent)/);
      expect(response.text).toContain('link-inside.txt');
      expectNothingLeaked(response);
    }
    const inner = await request(hidden, '/dir/', { headers: { Accept: 'application/json' } });
    expect(inner.text).not.toContain('escape-relative');
  });
});

describe('path guard with dotfiles: true', () => {
  // [target, status, body]: dotfiles are served, traversal is still refused.
  it.each([
    ['/.env', 200, DOTENV_CANARY],
    ['/.git/config', 200, GIT_CANARY],
    ['/.git/./config', 200, GIT_CANARY],
    ['//.git//config', 200, GIT_CANARY],
    ['/dir/../.env', 200, DOTENV_CANARY],
    ['/.env?x', 200, DOTENV_CANARY],
    ['/sub/.hidden', 200, DOTENV_CANARY],
    ['/.env/.', 404, undefined],
    ['/%2e%2e/canary.txt', 400, undefined],
    ['/../canary.txt', 400, undefined],
    ['/escape-file.txt', 404, undefined],
    ['/escape-parent/canary.txt', 404, undefined],
  ])('%s → %i', async (target, status, body) => {
    const response = await request(shown, target);
    expect(response.status).toBe(status);
    if (body !== undefined) expect(response.text).toBe(body);
    expectNothingLeaked(response, body !== undefined);
    await expectStillServing(shown);
  });

  it('dot entries are listed only when dotfiles are served', async () => {
    const names = async (port: number) => {
      const response = await request(port, '/', { headers: { Accept: 'application/json' } });
      return (JSON.parse(response.text) as { entries: { name: string }[] }).entries.map((entry) => entry.name);
    };
    expect(await names(hidden)).not.toContain('.env');
    expect(await names(hidden)).not.toContain('.git');
    expect(await names(hidden)).toContain('.well-known');
    expect(await names(shown)).toEqual(expect.arrayContaining(['.env', '.git', '.well-known']));
  });
});

describe('a root inside a symlinked path', () => {
  it('serves its files (the root is compared by real path)', async () => {
    const linkBase = await tempDir();
    await mkdir(join(linkBase, 'real-root'));
    await writeFile(join(linkBase, 'real-root', 'a.txt'), 'a');
    await symlink(join(linkBase, 'real-root'), join(linkBase, 'linked-root'));
    const { port } = await serveDirectory(join(linkBase, 'linked-root'));
    const response = await request(port, '/a.txt');
    expect(response.status).toBe(200);
    expect(response.text).toBe('a');
  });
});
