// Bundles src/index.ts and its one runtime dependency (@assemblyscript/loader)
// into a single ESM file with no bare imports, loadable from a static server.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'build',
    emptyOutDir: false,
    minify: false,
    target: 'es2022',
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'segloss.js' },
  },
});
