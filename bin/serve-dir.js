#!/usr/bin/env node
// The launcher. The CLI is one bundled CommonJS file (see "bundle" in package.json): loading
// it takes a fraction of the time of the ~50 ES modules it is built from.
'use strict';

require('../dist/serve-dir.cjs').main(process.argv);
