import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests spawn servers and browsers; two workers suit a 2-core machine.
    maxWorkers: 2,
  },
});
