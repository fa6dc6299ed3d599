/**
 * The web client's build: SolidJS pages under src/web. `npm run build` (mode "static") makes
 * a static site in dist/ that talks to api.github.com and asks for a token; its paths are
 * relative, so it runs from any folder of any static host (GitHub Pages). Tests keep their
 * own vitest.config.ts (environment node), which vitest prefers over this file.
 */
import { resolve } from "node:path"
import { defineConfig } from "vite"
import solid from "vite-plugin-solid"

export default defineConfig({
  root: resolve(import.meta.dirname, "src/web"),
  // Relative asset paths: https://owner.github.io/repo/ serves the site from a sub-folder.
  base: "./",
  plugins: [solid()],
  server: { host: "127.0.0.1" },
  build: {
    outDir: resolve(import.meta.dirname, "dist"),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2_000
  }
})
