// Builds the service worker (src/sw.ts) into dist/sw.js after the app's build: one classic
// script with everything it imports inside (a worker of the root scope must keep its URL, so
// no hash, and a classic worker runs in every browser that has Web Push).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    // The app's build is already in dist/.
    emptyOutDir: false,
    copyPublicDir: false,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    lib: { entry: 'src/sw.ts', formats: ['iife'], name: 'parleyServiceWorker', fileName: () => 'sw.js' },
  },
});
