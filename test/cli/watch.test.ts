// The live-reload flags end to end through the CLI (the bundled dist/serve-dir.cjs, as users
// run it): --watch, --poll and --ignore, observed on the event stream a page would open.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SseClient } from '../livereload/sse-client.js';
import { cleanup, request, runCli, startCli, stopCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';

afterAll(cleanup);

let streams: SseClient[] = [];
afterEach(() => {
  for (const stream of streams) stream.response.destroy();
  streams = [];
});

/** A site served with `flags`, its watcher ready, and an event stream open on it past its hello. */
async function watchedSite(flags: string[]): Promise<{ root: string; cli: StartedCli; stream: SseClient }> {
  const root = await tempDir();
  await writeTree(root, { 'index.html': '<p>home</p>', 'css/site.css': 'p {}', 'drafts/notes.html': 'draft' });
  const cli = await startCli([root, '--port', '0', ...flags]);
  await cli.waitForStdout(/live reload: watching for changes/);
  const stream = await SseClient.connect(`http://127.0.0.1:${cli.port}/__serve-dir/events`);
  streams.push(stream);
  expect(stream.status).toBe(200);
  expect((await stream.next()).data.type).toBe('hello');
  return { root, cli, stream };
}

describe('--watch', () => {
  it.each([[['--watch']], [['-w']], [['--watch', '--poll']]])('%j: an edit reaches the event stream, named by its URL path', async (flags) => {
    const { root, cli, stream } = await watchedSite(flags);
    expect(cli.stdout()).toContain('Live reload on:');
    await writeFile(join(root, 'css', 'site.css'), 'p { color: red }');
    const message = await stream.next(10_000);
    expect(message.data).toEqual({ type: 'change', paths: ['/css/site.css'] });
    await cli.waitForStdout(/site\.css/);
  });

  it('injects the client into pages only with --watch', async () => {
    const { cli } = await watchedSite(['--watch']);
    expect((await request(cli.port, '/')).text).toContain('/__serve-dir/client.js');
    const plain = await startCli([await tempDirWithPage(), '--port', '0', '--quiet']);
    expect((await request(plain.port, '/')).text).not.toContain('/__serve-dir/');
    expect((await request(plain.port, '/__serve-dir/events')).status).toBe(404);
  });
});

describe('--quiet with --watch', () => {
  it('announces an edit to the pages without a line for it', async () => {
    const root = await tempDirWithPage();
    const cli = await startCli([root, '--port', '0', '--watch', '--quiet']);
    const stream = await SseClient.connect(`http://127.0.0.1:${cli.port}/__serve-dir/events`);
    streams.push(stream);
    expect((await stream.next()).data.type).toBe('hello');
    // No line says when the watcher is ready: edit until one is announced.
    let edits = 0;
    let message;
    do {
      await writeFile(join(root, 'index.html'), `<p>edit ${++edits}</p>`);
      message = await stream.nextOrNone(1000);
    } while (message === undefined && edits < 10);
    expect(message?.data).toEqual({ type: 'change', paths: ['/index.html'] });
    expect((await stopCli(cli)).code).toBe(0);
    expect(cli.stdout()).not.toMatch(/↻|index\.html|GET /);
  });
});

describe('--ignore', () => {
  it.each([[['--watch', '--ignore', 'drafts']], [['--watch', '--poll', '--ignore', 'drafts/**']]])(
    '%j: an edit under an ignored path is not announced; the next edit elsewhere is, alone',
    async (flags) => {
      const { root, stream } = await watchedSite(flags);
      await writeFile(join(root, 'drafts', 'notes.html'), 'draft, edited');
      // Events come in order: had the ignored edit been announced, it would come first.
      await writeFile(join(root, 'index.html'), '<p>home, edited</p>');
      expect((await stream.next(10_000)).data).toEqual({ type: 'change', paths: ['/index.html'] });
    },
  );

  it('without --watch, --ignore and --poll are refused with one line', async () => {
    const root = await tempDirWithPage();
    for (const flags of [['--ignore', 'drafts'], ['--poll']]) {
      const cli = await runCli([root, '--port', '0', ...flags]);
      expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 1, stderr: `serve-dir: ${flags[0]} only applies with --watch\n` });
    }
  });
});

async function tempDirWithPage(): Promise<string> {
  const root = await tempDir();
  await writeTree(root, { 'index.html': '<p>home</p>' });
  return root;
}
