import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const SHARED = /[\\/](src[\\/](components|lib|services|hooks)|node_modules[\\/]react)[\\/]/;

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          // Pages stay lazy chunks, but the small modules they share go into one chunk instead of a dozen
          // tiny requests. The chart component stays out: it would drag Recharts along.
          groups: [{ name: 'shared', test: (id) => SHARED.test(id) && !id.includes('UsageChart') }],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    testTimeout: 20_000,
  },
});
