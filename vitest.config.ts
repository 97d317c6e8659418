import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources directly; tests that start worker threads load the
// compiled files from dist/ (Node 20 cannot load .ts workers), which `npm test` builds first.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // test/support/spawn.ts collects dead simulations' guest RAM before it forks a child.
    execArgv: ['--expose-gc'],
  },
});
