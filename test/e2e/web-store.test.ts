/**
 * The IndexedDB LocalStore against the LocalStore contract, in Chromium (Node has no
 * IndexedDB, and no fake is added just for this): the contract's cases module is bundled
 * into the page, each case runs there on a fresh database, and the test reports its outcome.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Page } from "playwright-core"
import { build } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchChromium, type TestBrowser } from "./chromium.js"
import { localStoreCases } from "../contract/local-store.cases.js"
import type { CaseOutcome } from "./web-store-page.js"

let browser: TestBrowser
let server: Server
let page: Page
let outDir: string

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "skygit-store-page-"))
  await build({
    configFile: false,
    logLevel: "warn",
    build: { outDir, minify: false, target: "es2022", lib: { entry: resolve(import.meta.dirname, "web-store-page.ts"), formats: ["es"], fileName: () => "page.js" } }
  })
  const script = await readFile(join(outDir, "page.js"), "utf8")
  server = createServer((req, res) => {
    if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script)
    else res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>`)
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  browser = await launchChromium()
  page = await browser.context.newPage()
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  await page.waitForFunction(() => window.storeContract !== undefined)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((ok) => (server === undefined ? ok() : server.close(() => ok())))
  if (outDir !== undefined) await rm(outDir, { recursive: true, force: true })
})

let db = 0
const runCase = (name: string): Promise<CaseOutcome> => {
  db += 1
  return page.evaluate(([n, d]) => window.storeContract.runCase(n!, d!), [name, `contract-${db}`])
}

describe("LocalStore contract: IndexedDB (Chromium)", () => {
  // The contract's own cases, bundled into the page: not a copy of them.
  for (const c of localStoreCases) {
    it(c.name, async () => {
      expect(await runCase(c.name)).toEqual({ ok: true })
    })
  }

  it("a record that is not a message is skipped and the rest still read", async () => {
    db += 1
    expect(await page.evaluate((d) => window.storeContract.corrupt(d), `corrupt-${db}`)).toEqual(["a"])
  })
})
