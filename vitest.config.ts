import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Long by nature: `npm run soak` (vitest.soak.config.ts).
    exclude: [...configDefaults.exclude, 'test/soak/**'],
    // A process per file, not a thread: tests count this process's open descriptors
    // (/proc/self/fd) and CPU time (/proc/self/stat), which threads would share.
    pool: 'forks',
    // Integration tests spawn servers, CLIs and a browser; two files at a time suit a
    // 2-core machine (more only adds contention: each file keeps its core busy).
    maxWorkers: 2,
    // Far above any test's own bounds (a few seconds at most, on a loaded machine):
    // reached only by a test that hangs, which it then names.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
