// What the event stream names: only paths a request would be served for (item: the stream
// announces only what can be served). End to end: the handler's own rules decide.

import { symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { SseClient } from './sse-client.js';

afterAll(cleanup);

describe.runIf(process.platform === 'linux')('the live-reload stream', () => {
  it('names only paths a request would be served for', async () => {
    const root = await tempDir();
    const outside = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>', 'gone.html': 'soon deleted', 'sub/ok.css': 'a {}' });
    await writeTree(outside, { 'secret.html': 'outside the root' });
    const running = await serveDirectory(root, { watch: true });
    await running.handler.ready;
    const client = await SseClient.connect(`http://127.0.0.1:${running.port}/__serve-dir/events`);
    expect((await client.next()).data.type).toBe('hello');

    // Names the path guard refuses (400), and a link whose target is outside the root (404).
    await writeFile(join(root, 'back\\slash.html'), 'x');
    await writeFile(Buffer.from(`${root}/not-utf8-\xff.html`, 'latin1'), 'x');
    await symlink(join(outside, 'secret.html'), join(root, 'leak.html'));
    expect((await request(running.port, '/back%5Cslash.html')).status).toBe(400);
    expect((await request(running.port, '/not-utf8-%FF.html')).status).toBe(400);
    expect((await request(running.port, '/leak.html')).status).toBe(404);
    // What may be told: a change, and a deletion (pages that showed it should hear).
    await writeFile(join(root, 'sub/ok.css'), 'b {}');
    await unlink(join(root, 'gone.html'));

    const told = new Set<string>();
    while (!(told.has('/sub/ok.css') && told.has('/gone.html'))) {
      const event = await client.next();
      expect(event.data.type).toBe('change');
      for (const path of event.data.paths as string[]) told.add(path);
    }
    expect([...told].sort()).toEqual(['/gone.html', '/sub/ok.css']);
    client.close();
  });
});
