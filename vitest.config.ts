import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Long by nature: `npm run soak` (vitest.soak.config.ts).
    exclude: [...configDefaults.exclude, 'test/soak/**'],
    // A process per file, not a thread: tests count this process's open descriptors
    // (/proc/self/fd) and CPU time (/proc/self/stat), which threads would share.
    pool: 'forks',
    // Integration tests spawn servers, CLIs and a browser, and many wait on the network
    // or on a timeout they prove: three files at a time keep a 2-core machine busy
    // (measured: 66 s for the suite against 75 s with two, all passing).
    maxWorkers: 3,
    // Far above any test's own bounds (a few seconds at most, on a loaded machine):
    // reached only by a test that hangs, which it then names.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
