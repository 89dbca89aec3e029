// Runs one autocannon measurement in a process of its own, so that it can be pinned to the
// load generator's CPU, and prints the result as one line of JSON.
//   node bench/autocannon-child.js '{"url": "...", "connections": 50, "duration": 5}'
import autocannon from 'autocannon';

const result = await autocannon(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${JSON.stringify(result)}\n`);
