/**
 * Commit on the way out, in real Chromium on the local hub (`startApp`, as `npm start`
 * runs it): the last tab closes normally right after a message, before the leader's
 * timed commit, and the message is in the hub's git history within 10 s, written by the
 * exit write (a keepalive contents PUT that passed the hub's GitHub-like CORS preflight).
 */
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { EXIT_COMMIT_MESSAGE } from "../../src/domain/exit-plan.js"
import type { Exchange } from "../../src/hub/handler.js"
import { ALLOWED_REQUEST_HEADERS } from "../../src/hub/cors.js"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { launchChromium, type TestBrowser } from "./chromium.js"

const WAIT_MS = 20_000
/** The promise: the message is in the git history within this long of the tab closing. */
const LANDS_WITHIN_MS = 10_000
const REPO = "demo/chat"

let app: DemoApp
let browser: TestBrowser

beforeAll(async () => {
  app = await startDemoApp("exit", { users: ["alice", "bob", "carol"], repository: REPO })
  browser = await launchChromium()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const signIn = async (user: string): Promise<Page> => {
  const page = await browser.context.newPage()
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText(REPO).waitFor({ timeout: WAIT_MS })
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
  return page
}

/** Commits on the skygit branch holding a file of `.messages/general/` whose text contains `text`. */
const commitsWith = async (text: string) => {
  const hub = app.hub!
  const out: Array<{ message: string; path: string }> = []
  for (const c of await hub.git.log(REPO, "skygit")) {
    for (const path of c.paths.filter((p) => p.startsWith(".messages/general/"))) {
      if ((await hub.git.readFile(REPO, "skygit", path))?.includes(text)) out.push({ message: c.message, path })
    }
  }
  return out
}

describe("commit on the way out (Chromium)", () => {
  it("the last tab closes normally and its message is in the hub's git history within 10 s", async () => {
    const puts: Array<Exchange> = []
    const stop = app.hub!.onExchange((e) => {
      if (e.method === "PUT" && e.url.includes("/contents/.messages/general/")) puts.push(e)
    })
    const alice = await signIn("alice")
    const text = `last words ${Date.now()} 👋 ünïcode`
    await alice.getByTestId("composer").fill(text)
    await alice.getByTestId("send").click()
    await alice.getByTestId("messages").getByText(text).waitFor({ timeout: WAIT_MS })
    // Closed before the leader's timed commit (5 s after a message in the demo) is due.
    expect(await commitsWith(text)).toEqual([])
    const closedAt = Date.now()
    await alice.close()
    await expect.poll(() => commitsWith(text), { timeout: LANDS_WITHIN_MS, interval: 200 }).toHaveLength(1)
    expect(Date.now() - closedAt).toBeLessThanOrEqual(LANDS_WITHIN_MS)
    expect((await commitsWith(text))[0]!.message.trim()).toBe(EXIT_COMMIT_MESSAGE)
    stop()
    // The write went out as a contents PUT with nothing but headers GitHub's preflight allows.
    expect(puts).toHaveLength(1)
    expect(puts[0]!.status).toBe(201)
    const allowed = new Set([...ALLOWED_REQUEST_HEADERS.map((h) => h.toLowerCase()), "accept"])
    const custom = Object.keys(puts[0]!.requestHeaders).filter((h) => !allowed.has(h) && (h.startsWith("x-") || h === "if-match"))
    expect(custom).toEqual([])
  })

  it("offline with a message nobody else holds, the page says how many would wait and asks before closing", async () => {
    const bob = await signIn("bob")
    await bob.context().setOffline(true)
    const text = `offline words ${Date.now()}`
    await bob.getByTestId("composer").fill(text)
    await bob.getByTestId("send").click()
    await bob.getByTestId("messages").getByText(text).waitFor({ timeout: WAIT_MS })
    await bob.locator('[data-testid="would-wait"][data-count="1"]').waitFor({ timeout: WAIT_MS })
    const asked = bob.waitForEvent("dialog", { timeout: WAIT_MS })
    await bob.close({ runBeforeUnload: true })
    const dialog = await asked
    expect(dialog.type()).toBe("beforeunload")
    // Staying keeps the page and its message.
    await dialog.dismiss()
    expect(bob.isClosed()).toBe(false)
    await bob.getByTestId("messages").getByText(text).waitFor({ timeout: WAIT_MS })
    await bob.context().setOffline(false)
  }, 120_000)
})
