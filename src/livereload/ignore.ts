// Which paths under the served root the watcher leaves alone.
//
// The user's --ignore globs are compiled here (node:path's matchesGlob would do, but Node 20
// prints an experimental warning for it; chokidar 4+ takes no globs). The result is a predicate
// the watcher (native, or chokidar when polling) calls for every folder before it descends into
// it: an ignored folder is never read and never gets a watch of its own.
//
// Pattern semantics follow .gitignore, which people already know:
//   - a pattern without "/" matches a name at any depth ("*.log", "dist");
//   - a pattern with "/" is anchored at the root ("docs/api", "/build", "src/**/*.map");
//   - a pattern that matches a folder ignores everything inside it;
//   - "*" and "?" never cross "/", "**" as a whole segment spans any number of folders,
//     "[abc]" / "[!abc]" are character classes, "{a,b}" alternatives, "\" escapes.

import path from 'node:path';

/** Folders never worth watching at any depth: version-control data and installed packages. */
const ALWAYS_IGNORED_NAMES = new Set(['.git', 'node_modules']);

/**
 * Files editors write beside the one being saved: Vim swap files and its "4913" write probe,
 * backups ("name~"), Emacs locks and autosaves, JetBrains safe-write copies, Sublime Text
 * temporaries, Finder metadata. Announcing them would reload the page while the user types,
 * or twice for one save.
 */
const EDITOR_ARTIFACTS = [
  '.*.sw[a-px]',
  '4913',
  '*~',
  '.#*',
  '#*#',
  '*___jb_tmp___',
  '*___jb_old___',
  '.subl*.tmp',
  '.DS_Store',
];

/**
 * Says whether a path under the root is ignored. Called as a function with an absolute path
 * (true if it is inside `root` and ignored by the defaults or by one of the patterns, given
 * relative to the root; an absolute pattern inside the root is accepted too).
 */
export interface IgnoreMatcher {
  (absolutePath: string): boolean;
  /**
   * The same answer for the entry `name` of a folder that is itself not ignored, given by its
   * "/"-separated path relative to the root ('' for the root): only the entry's own segment is
   * tested. A first scan asks this for every file, without building a path for each.
   */
  entry(folderRelative: string, name: string): boolean;
}

/** Builds the matcher for `patterns`. Throws on a malformed pattern, with a message naming it. */
export function createIgnoreMatcher(root: string, patterns: readonly string[]): IgnoreMatcher {
  const names: RegExp[] = [];
  const anchored: RegExp[] = [];
  for (const pattern of [...EDITOR_ARTIFACTS, ...patterns]) {
    const glob = normalizePattern(root, pattern);
    if (glob === '') continue;
    if (glob.includes('/')) anchored.push(globToRegExp(glob.replace(/^\/+/, '')));
    else names.push(globToRegExp(glob));
  }

  /** Whether the last segment of `prefix`, `segment`, is ignored by itself. */
  function segmentIgnored(prefix: string, segment: string): boolean {
    if (ALWAYS_IGNORED_NAMES.has(segment)) return true;
    for (const name of names) if (name.test(segment)) return true;
    for (const glob of anchored) if (glob.test(prefix)) return true;
    return false;
  }

  const matcher = (absolutePath: string): boolean => {
    const relative = path.relative(root, absolutePath);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return false;
    let prefix = '';
    for (const segment of relative.split(path.sep)) {
      prefix = prefix === '' ? segment : `${prefix}/${segment}`;
      if (segmentIgnored(prefix, segment)) return true;
    }
    return false;
  };
  matcher.entry = (folderRelative: string, name: string): boolean =>
    segmentIgnored(anchored.length === 0 ? name : folderRelative === '' ? name : `${folderRelative}/${name}`, name);
  return matcher;
}

/**
 * The pattern with "/" separators, relative to the root, without a leading "./" or trailing
 * "/" or "/**" (a folder's contents are ignored with the folder, so "docs/**" means "docs",
 * and then the folder itself is not watched either).
 */
function normalizePattern(root: string, pattern: string): string {
  let glob = pattern.trim();
  if (path.isAbsolute(glob) && (glob + path.sep).startsWith(root + path.sep)) {
    glob = path.relative(root, glob);
  }
  if (path.sep === '\\') glob = glob.replaceAll('\\', '/');
  glob = glob.replace(/^(?:\.\/)+/, '');
  while (glob.endsWith('/**')) glob = glob.slice(0, -3);
  return glob.replace(/\/+$/, '');
}

/** Compiles one glob (see the file header for the syntax) to an anchored RegExp over "/"-separated paths. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let openBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    const atSegmentStart = i === 0 || glob[i - 1] === '/';
    if (char === '*' && glob[i + 1] === '*' && atSegmentStart && (glob[i + 2] === '/' || i + 2 === glob.length)) {
      // "**/" matches zero or more whole folders; a final "**" matches the rest of the path.
      source += i + 2 === glob.length ? '.*' : '(?:.*/)?';
      i += 2;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      const members = glob.slice(i + 1, end);
      const negated = members.startsWith('!') || members.startsWith('^');
      source += `[${negated ? '^' : ''}${(negated ? members.slice(1) : members).replaceAll('\\', '\\\\')}]`;
      i = end;
    } else if (char === '{') {
      openBraces++;
      source += '(?:';
    } else if (char === '}' && openBraces > 0) {
      openBraces--;
      source += ')';
    } else if (char === ',' && openBraces > 0) {
      source += '|';
    } else if (char === '\\' && i + 1 < glob.length) {
      source += escapeRegExp(glob[++i]!);
    } else {
      source += escapeRegExp(char);
    }
  }
  if (openBraces > 0) throw new Error(`Invalid ignore pattern "${glob}": unclosed "{"`);
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
