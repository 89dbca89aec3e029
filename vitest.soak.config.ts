import { defineConfig } from 'vitest/config';

// `npm run soak`: what is long by nature, kept out of `npm test`. The race and abort files
// of the main suite run again with races of 10 s and 20,000 aborted downloads (the main
// suite runs each briefly, as a representative), and test/soak/ holds what has no short
// version, such as the timeouts as shipped. One file at a time: a soak measures the server
// under its own load, not beside another file's.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts', 'test/hardening/races.test.ts', 'test/hardening/resources.test.ts'],
    env: {
      SERVE_DIR_RACE_MS: '10000',
      SERVE_DIR_ABORTS: '20000',
    },
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
