// Loaded by express.test.ts with plain `node`: the package, required by its own name from
// CommonJS, serves a real request.
'use strict';
const { get } = require('node:http');
const { startServer, createHandler } = require('serve-dir');

startServer({ directory: process.argv[2], port: 0, quiet: true }).then((running) => {
  get({ host: '127.0.0.1', port: running.port, path: '/hello%20world.txt' }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => {
      process.stdout.write(JSON.stringify({ status: res.statusCode, body, createHandler: typeof createHandler }));
      running.close(0);
    });
  });
});
