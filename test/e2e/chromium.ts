/**
 * Browser test support: Debian's chromium through playwright-core (never a
 * downloaded browser), a fresh profile per run, fake camera and microphone, and
 * the test page bundled with vite and served on loopback.
 */
import { readFileSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createRequire } from "node:module"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { build } from "vite"

/** Debian's chromium; `.ci/run` installs it. */
export const CHROMIUM_PATH = "/usr/bin/chromium"

/** Flags from the machine notes, plus fake media devices that need no prompt and play unmuted. */
export const CHROMIUM_ARGS: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required"
]

const FIXTURE = resolve(import.meta.dirname, "fixtures/page.ts")
const INDEX_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>SkyGit test</title></head>
<body><script type="module" src="/page.js"></script></body></html>`

/** The test page, built and served; `url` is a secure context (loopback), so capture works. */
export interface TestSite {
  readonly url: string
  readonly close: () => Promise<void>
}

/** Bundles the test page with vite into a temp dir and serves it on 127.0.0.1 on a free port. */
export const serveTestPage = async (): Promise<TestSite> => {
  const outDir = await mkdtemp(join(tmpdir(), "skygit-e2e-page-"))
  await build({
    configFile: false,
    logLevel: "warn",
    root: resolve(import.meta.dirname, "fixtures"),
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: "es2022",
      lib: { entry: FIXTURE, formats: ["es"], fileName: () => "page.js" }
    }
  })
  const script = await readFile(join(outDir, "page.js"), "utf8")
  const server: Server = createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script)
    } else if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html" }).end(INDEX_HTML)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await new Promise<void>((ok) => server.close(() => ok()))
      await rm(outDir, { recursive: true, force: true })
    }
  }
}

/** A running chromium with its own fresh profile. */
export interface TestBrowser {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/** Launches Debian's chromium with a fresh user-data dir that is removed on close. */
export const launchChromium = async (): Promise<TestBrowser> => {
  const profile = await mkdtemp(join(tmpdir(), "skygit-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS]
  })
  return {
    context,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

/** axe-core's serious and critical violations on the page as it is now. */
export const axeViolations = async (page: Page): Promise<ReadonlyArray<string>> => {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE })
  const results = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<unknown> } }).axe.run(document, { resultTypes: ["violations"] })
  )) as { violations: ReadonlyArray<{ id: string; impact: string | null; nodes: ReadonlyArray<{ target: ReadonlyArray<string> }> }> }
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
}
