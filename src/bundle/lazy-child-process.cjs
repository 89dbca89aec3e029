// Stands in for node:child_process in the CLI's bundle (dist/serve-dir.cjs), where esbuild's
// --alias puts it. Commander loads node:child_process when it is loaded, for subcommands that
// run other executables; serve-dir has none, and loading the module cost 7 ms of a 150 ms
// start. The real module is loaded on first use, so nothing changes should commander use it.
'use strict';

let real;
module.exports = new Proxy(
  {},
  {
    get: (_target, key) => (real ??= process.getBuiltinModule('node:child_process'))[key],
    has: (_target, key) => key in (real ??= process.getBuiltinModule('node:child_process')),
  },
);
