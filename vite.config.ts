/**
 * The web client's build: SolidJS pages under src/web. Tests keep their own
 * vitest.config.ts (environment node), which vitest prefers over this file.
 */
import { resolve } from "node:path"
import { defineConfig } from "vite"
import solid from "vite-plugin-solid"

export default defineConfig({
  root: resolve(import.meta.dirname, "src/web"),
  plugins: [solid()],
  server: { host: "127.0.0.1" },
  build: {
    outDir: resolve(import.meta.dirname, "dist/web"),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2_000
  }
})
