/**
 * The static build (`npm run build`, issue 9) in Chromium: built with the project's vite
 * config in mode "static", served from a sub-folder by a plain static server (as GitHub
 * Pages serves https://owner.github.io/repo/), it asks for a GitHub token and talks to
 * api.github.com, which the test answers itself: every request leaving loopback is routed,
 * so no real GitHub host is ever called. Then the token's keeping: for the tab only unless
 * the user asks, on the device when asked, and gone from both after "Forget token" (on the
 * sign-in page, the picker, and in the room's top bar, where api.github.com is answered by an
 * in-process local hub so that a session really starts).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { extname, join, resolve, sep } from "node:path"
import { chromium, type Browser, type BrowserContext, type Page, type Route } from "playwright-core"
import { build } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createHub } from "../../src/hub/index.js"
import { STATIC_MODE } from "../../src/web/config.js"
import { tokenKey } from "../../src/web/token-store.js"
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js"

const ROOT = resolve(import.meta.dirname, "../..")
const FOLDER = "/skygit/"
const GOOD_TOKEN = "github_pat_test_only_0123456789"
const LOGIN = "octo"
const KEY = tokenKey("https://api.github.com")
const WAIT_MS = 20_000

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" }

let out: string
let server: Server
let siteUrl: string
let browser: Browser
let context: BrowserContext
/** Every request the pages made that left loopback: `METHOD url`. */
const outside: Array<string> = []
/** Every path asked of the static server. */
const served: Array<string> = []

const cors = { "access-control-allow-origin": "*", "access-control-expose-headers": "ETag, Link, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset" }

/** A stand-in for api.github.com: GET /user and GET /user/repos for one token; anything else refused. */
const fakeGitHub = async (route: Route): Promise<void> => {
  const request = route.request()
  const url = new URL(request.url())
  outside.push(`${request.method()} ${url.origin}${url.pathname}`)
  if (url.host !== "api.github.com") return route.abort("blockedbyclient")
  if (request.method() === "OPTIONS") return route.fulfill({ status: 204, headers: { ...cors, "access-control-allow-headers": "authorization, content-type, if-none-match", "access-control-allow-methods": "GET, POST, PATCH, PUT, DELETE" } })
  const auth = request.headers()["authorization"] ?? ""
  if (!auth.endsWith(` ${GOOD_TOKEN}`)) return route.fulfill({ status: 401, headers: cors, contentType: "application/json", body: JSON.stringify({ message: "Bad credentials" }) })
  if (url.pathname === "/user") return route.fulfill({ status: 200, headers: cors, contentType: "application/json", body: JSON.stringify({ login: LOGIN }) })
  if (url.pathname === "/user/repos") {
    const repos = [{ full_name: `${LOGIN}/project`, private: false, permissions: { push: true }, has_discussions: true }]
    return route.fulfill({ status: 200, headers: cors, contentType: "application/json", body: JSON.stringify(repos) })
  }
  return route.fulfill({ status: 404, headers: cors, contentType: "application/json", body: JSON.stringify({ message: "Not Found" }) })
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "skygit-static-"))
  await build({ configFile: join(ROOT, "vite.config.ts"), mode: STATIC_MODE, logLevel: "warn", build: { outDir: out, emptyOutDir: true } })
  // A plain static host: files under FOLDER, 404 for anything else (no /config.json, no fallback page).
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)
    served.push(path)
    const file = path.startsWith(FOLDER) ? resolve(out, `.${path.slice(FOLDER.length - 1)}${path.endsWith("/") ? "index.html" : ""}`) : ""
    if (file === "" || !file.startsWith(out + sep)) {
      res.writeHead(404).end()
      return
    }
    readFile(file).then(
      (body) => res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(404).end()
    )
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${FOLDER}`
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] })
  context = await browser.newContext()
  // Nothing leaves loopback: api.github.com is answered here, everything else refused.
  await context.route((url) => url.hostname !== "127.0.0.1", fakeGitHub)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((ok) => (server === undefined ? ok() : server.close(() => ok())))
  if (out !== undefined) await rm(out, { recursive: true, force: true })
})

/** A new tab of the same browser profile (its own sessionStorage, the profile's localStorage). */
const newTab = async (): Promise<Page> => {
  const page = await context.newPage()
  page.on("pageerror", (e) => console.error("page error", e))
  await page.goto(siteUrl)
  return page
}

/** What the tab's and the device's stores hold under the token's key. */
const stored = (page: Page): Promise<{ tab: string | null; device: string | null }> =>
  page.evaluate((key) => ({ tab: sessionStorage.getItem(key), device: localStorage.getItem(key) }), KEY)

const signIn = async (page: Page, remember: boolean): Promise<void> => {
  await page.getByTestId("token").fill(GOOD_TOKEN)
  if (remember) await page.getByTestId("remember").check()
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.getByTestId("login").getByText(LOGIN).waitFor({ timeout: WAIT_MS })
}

describe("the static build (Chromium, api.github.com routed to a fake)", () => {
  it("loads from a sub-folder of a static host and asks for a GitHub token, with no server to ask for its configuration", async () => {
    const page = await newTab()
    await page.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(page.getByText("GitHub token", { exact: false }).count()).resolves.toBeGreaterThan(0)
    // GitHub, not the demo hub: no demo users, and the page says where it talks to.
    await expect(page.locator('[data-testid^="demo-"]').count()).resolves.toBe(0)
    await page.getByText("https://api.github.com").first().waitFor({ timeout: WAIT_MS })
    expect(served.some((p) => p.includes("config.json"))).toBe(false)
    expect(served.every((p) => p.startsWith(FOLDER))).toBe(true)
    await expect(stored(page)).resolves.toEqual({ tab: null, device: null })
    await page.close()
  }, 60_000)

  it("a refused token is not kept, and the page says it was refused", async () => {
    const page = await newTab()
    await page.getByTestId("token").fill("not-a-token")
    await page.getByRole("button", { name: "Sign in" }).click()
    await page.getByText("refused (401)").waitFor({ timeout: WAIT_MS })
    await expect(stored(page)).resolves.toEqual({ tab: null, device: null })
    await page.close()
  }, 60_000)

  it("keeps the token for the tab only unless asked: a reload stays signed in, a new tab asks again", async () => {
    const page = await newTab()
    await signIn(page, false)
    await page.getByTestId("repos").getByText(`${LOGIN}/project`).waitFor({ timeout: WAIT_MS })
    await expect(stored(page)).resolves.toEqual({ tab: GOOD_TOKEN, device: null })
    await page.reload()
    await page.getByTestId("login").getByText(LOGIN).waitFor({ timeout: WAIT_MS })
    const other = await newTab()
    await other.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(other.getByTestId("token").inputValue()).resolves.toBe("")
    await expect(stored(other)).resolves.toEqual({ tab: null, device: null })
    // Only api.github.com was asked, and only for who the token is and its repositories.
    expect(new Set(outside.map((r) => r.replace(/^OPTIONS /, "GET ")))).toEqual(new Set(["GET https://api.github.com/user", "GET https://api.github.com/user/repos"]))
    await Promise.all([page.close(), other.close()])
  }, 60_000)

  it("remembers the token on the device when asked, and \"Forget token\" clears it from both stores", async () => {
    const page = await newTab()
    await signIn(page, true)
    await expect(stored(page)).resolves.toEqual({ tab: GOOD_TOKEN, device: GOOD_TOKEN })
    // Another tab of the device signs in by itself.
    const other = await newTab()
    await other.getByTestId("login").getByText(LOGIN).waitFor({ timeout: WAIT_MS })
    await other.getByTestId("forget-token").click()
    await other.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(stored(other)).resolves.toEqual({ tab: null, device: null })
    await expect(other.getByTestId("token").inputValue()).resolves.toBe("")
    // The first tab still holds its own tab copy until it forgets too; a fresh tab asks again.
    await page.getByTestId("forget-token").click()
    await expect(stored(page)).resolves.toEqual({ tab: null, device: null })
    const third = await newTab()
    await third.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(third.getByTestId("login").count()).resolves.toBe(0)
    await Promise.all([page.close(), other.close(), third.close()])
  }, 60_000)

  it("a reload comes back to the room until the user leaves; \"Forget token\" in the room leaves and clears both stores", async () => {
    // A real session needs a GitHub that answers presence and history: the local hub stands in for api.github.com.
    const hub = await createHub({ users: [LOGIN], repos: [`${LOGIN}/project`], tokens: { [LOGIN]: GOOD_TOKEN } })
    const ctx = await browser.newContext()
    await ctx.route(
      (url) => url.hostname !== "127.0.0.1",
      async (route) => {
        const request = route.request()
        const url = new URL(request.url())
        outside.push(`${request.method()} ${url.origin}${url.pathname}`)
        if (url.host !== "api.github.com") return route.abort("blockedbyclient")
        const body = request.postDataBuffer()
        const answer = await hub.handle(
          new Request(request.url(), { method: request.method(), headers: request.headers(), ...(body === null || request.method() === "GET" ? {} : { body: new Uint8Array(body) }) })
        )
        return route.fulfill({ status: answer.status, headers: Object.fromEntries(answer.headers), body: Buffer.from(await answer.arrayBuffer()) })
      }
    )
    const page = await ctx.newPage()
    page.on("pageerror", (e) => console.error("page error", e))
    await page.goto(siteUrl)
    await signIn(page, true)
    await page.getByTestId("repos").getByText(`${LOGIN}/project`).click()
    await page.getByTestId("join").click()
    await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
    await expect(stored(page)).resolves.toEqual({ tab: GOOD_TOKEN, device: GOOD_TOKEN })
    // The tab keeps its room: a reload comes back to it; after "Leave" a reload stays at the picker.
    await page.reload()
    await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
    await page.getByRole("button", { name: "Leave" }).click()
    await page.getByTestId("join").waitFor({ timeout: WAIT_MS })
    await page.reload()
    await page.getByTestId("join").waitFor({ timeout: WAIT_MS })
    await expect(page.getByTestId("room").count()).resolves.toBe(0)
    await page.getByTestId("repos").getByText(`${LOGIN}/project`).click()
    await page.getByTestId("join").click()
    await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
    // The room's top bar has its own "Forget token".
    await page.getByTestId("room").getByTestId("forget-token").click()
    await page.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(page.getByTestId("room").count()).resolves.toBe(0)
    await expect(stored(page)).resolves.toEqual({ tab: null, device: null })
    // A reload asks again: nothing is kept.
    await page.reload()
    await page.getByTestId("token").waitFor({ timeout: WAIT_MS })
    await expect(page.getByTestId("login").count()).resolves.toBe(0)
    await ctx.close()
  }, 90_000)
})
