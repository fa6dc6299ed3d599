/**
 * The IndexedDB LocalStore against the LocalStore contract's cases, in Chromium (Node has no
 * IndexedDB, and no fake is added just for this): each case runs in the page on a fresh
 * database and the test checks what the contract expects.
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
import type { StorePage } from "./web-store-page.js"

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
const run = <K extends keyof StorePage>(name: K): Promise<Awaited<ReturnType<StorePage[K]>>> => {
  db += 1
  const evaluate = page.evaluate.bind(page) as (f: (a: ReadonlyArray<string>) => unknown, a: ReadonlyArray<string>) => Promise<unknown>
  return evaluate(([n, d]) => window.storeContract[n as keyof StorePage](d!), [name, `contract-${name}-${db}`]) as Promise<Awaited<ReturnType<StorePage[K]>>>
}

describe("LocalStore contract: IndexedDB (Chromium)", () => {
  it("pending is ordered and idempotent by id", async () => {
    expect(await run("ordered")).toEqual(["a", "b"])
  })

  it("committed messages leave pending, stay in history, and are not queued again", async () => {
    expect(await run("committed")).toEqual({ pending: ["b"], history: ["a", "b"], last: ["b"] })
  })

  it("what was stored survives reopening", async () => {
    const r = await run("reopen")
    expect(r.pending).toEqual(r.expected)
    expect(r.after).toEqual(["a"])
    expect(r.history).toEqual(["a", "c"])
  })

  it("a record that is not a message is skipped and the rest still read", async () => {
    expect(await run("corrupt")).toEqual(["a"])
  })
})
