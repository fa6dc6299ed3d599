/**
 * The edges of a session in real Chromium, three browser contexts on the local hub
 * (`startApp`, as `npm start` runs it): a message sent before the links open is shown by
 * the others within 5 s of their link opening; its state goes from sending to delivered
 * to saved (linked to the commit); and a context killed without a goodbye folds away as
 * "away" in the others' people list.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startApp, type RunningApp } from "../../src/web/serve.js"
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js"

const WAIT_MS = 30_000
/** The promise: shown within this long of the link opening. */
const SHOWN_WITHIN_MS = 5_000
const REPO = "demo/chat"

let app: RunningApp
let browser: Browser
let work: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "skygit-edges-"))
  app = await startApp({ hubDataDir: join(work, "hub"), users: ["alice", "bob", "carol"], repository: REPO, host: "127.0.0.1", hubPort: 0, webPort: 0, outDir: join(work, "web") })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

/** A fresh browser context (its own storage, like another person's browser), signed in as `user`. */
const signIn = async (user: string): Promise<Page> => {
  const page = await (await browser.newContext()).newPage()
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText(REPO).waitFor({ timeout: WAIT_MS })
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
  return page
}

/** Resolves with the time `page` first shows an open link to `other` (polled in the page every 50 ms). */
const openSince = (page: Page, other: string): Promise<number> =>
  page
    .waitForFunction((o) => document.querySelector(`[data-testid="person-${o}"][data-state="open"]`) !== null, other, { timeout: WAIT_MS, polling: 50 })
    .then(() => Date.now())

describe("edges of a session (Chromium, three contexts)", () => {
  let alice: Page
  let bob: Page
  let carol: Page
  const early = `sent before anyone was here ${Date.now()}`

  it("a message sent before the links open is shown by the others within 5 s of their link opening; its state goes sending, delivered, saved", async () => {
    alice = await signIn("alice")
    await alice.getByText("Nobody else is here yet").waitFor({ timeout: WAIT_MS })
    // Every state the message shows on alice's page, in order.
    await alice.evaluate(() => {
      const seen: Array<string> = []
      ;(window as unknown as { seenStates: Array<string> }).seenStates = seen
      const note = () => {
        const el = document.querySelector('[data-testid="message"] [data-testid="message-state"]')
        const s = el?.getAttribute("data-state")
        if (s !== undefined && s !== null && seen.at(-1) !== s) seen.push(s)
      }
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] })
    })
    await alice.getByTestId("composer").fill(early)
    await alice.getByTestId("send").click()
    await alice.getByTestId("messages").getByText(early).waitFor({ timeout: WAIT_MS })
    await alice.locator('[data-testid="message-state"][data-state="sending"]').waitFor({ timeout: WAIT_MS })

    const [bobPage, carolPage] = await Promise.all([signIn("bob"), signIn("carol")])
    bob = bobPage
    carol = carolPage
    for (const page of [bob, carol]) {
      const opened = await openSince(page, "alice")
      await page.getByTestId("messages").getByText(early).waitFor({ timeout: WAIT_MS })
      expect(Date.now() - opened).toBeLessThanOrEqual(SHOWN_WITHIN_MS)
    }

    // Saved by the leader (5 s after a message in the demo), with a link to the commit.
    await alice.locator('[data-testid="message-state"][data-state="saved"]').waitFor({ timeout: WAIT_MS })
    const href = await alice.getByTestId("saved-link").first().getAttribute("href")
    expect(href).toMatch(/\/commit\/[0-9a-f]{40}$/)
    const seen = await alice.evaluate(() => (window as unknown as { seenStates: Array<string> }).seenStates)
    expect(seen).toEqual(["sending", "delivered", "saved"])
    await expect.poll(() => alice.getByTestId("save-status").textContent(), { timeout: WAIT_MS }).toContain("All messages saved")
  })

  it("a context killed without a goodbye folds away as \"away\" in the others' people list", async () => {
    await Promise.all([openSince(alice, "carol"), openSince(bob, "carol")])
    // The renderer dies at once: no pagehide, no goodbye, no presence withdrawal.
    const cdp = await carol.context().newCDPSession(carol)
    await cdp.send("Page.crash").catch(() => undefined)
    for (const page of [alice, bob]) {
      await page.locator('[data-testid="person-carol"][data-state="away"]').waitFor({ timeout: WAIT_MS })
      await page.locator('[data-testid="sessions-carol"] [data-state="away"]').waitFor({ timeout: WAIT_MS })
    }
    // The others stay connected meanwhile.
    expect(await alice.locator('[data-testid="person-bob"]').getAttribute("data-state")).toBe("open")
  })
})
