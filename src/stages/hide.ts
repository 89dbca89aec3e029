import { realpathSync } from 'node:fs';
import type { RequestContext, StageResult } from '../context.js';
import type { FileEntry } from '../fs/file-cache.js';
import { fail } from '../respond.js';

/**
 * Files never served, whatever the request's path: the CLI's config file, which may name
 * credentials and lies in the folder served. The file is recognised by its real path, so a
 * symlink to it, or a percent-encoded name, is a 404 too. A file entry stays the same object
 * while the file is unchanged, so its real path is looked up once per version, not per request.
 */
export function createHiddenFiles(hidden: readonly string[]): ((ctx: RequestContext) => StageResult) | undefined {
  if (hidden.length === 0) return undefined;
  const verdicts = new WeakMap<FileEntry, boolean>();
  const isHidden = (file: FileEntry): boolean => {
    let verdict = verdicts.get(file);
    if (verdict === undefined) {
      try {
        verdict = hidden.includes(realpathSync.native(file.absolute));
      } catch {
        verdict = true; // gone or unreadable since resolution: certainly not to be served
      }
      verdicts.set(file, verdict);
    }
    return verdict;
  };
  return function hideFiles(ctx: RequestContext): StageResult {
    const file = ctx.entity?.file;
    if (ctx.status !== 200 || file === undefined) return;
    if (isHidden(file)) return fail(ctx, 404);
  };
}
