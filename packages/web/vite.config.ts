// Builds the app into dist/ (served by the node at /): hashed files under assets/, no inline
// scripts or styles (the node's Content-Security-Policy allows only 'self'), nothing fetched.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything is a file of its own: an inlined data: script or style would break the CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
});
