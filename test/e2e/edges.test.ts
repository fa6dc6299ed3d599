/**
 * The edges of a session in real Chromium, three browser contexts on the local hub
 * (`startApp`, as `npm start` runs it): a message sent before the links open is shown by
 * the others within 5 s of their link opening; its state goes from sending to delivered
 * to saved (linked to the commit); and a context killed without a goodbye folds away as
 * "away" in the others' people list.
 */
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js"

const WAIT_MS = 30_000
/** The promise: shown within this long of the link opening. */
const SHOWN_WITHIN_MS = 5_000
const REPO = "demo/chat"
/** Three browsers on a machine shared with other work: generous, the assertions carry the promises. */
const TEST_TIMEOUT_MS = 150_000

let app: DemoApp
let browser: Browser

beforeAll(async () => {
  app = await startDemoApp("edges", { users: ["alice", "bob", "carol"], repository: REPO })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
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

  it("a message sent before the links open is shown by the others within 5 s of their link opening", async () => {
    // alice is alone; bob and carol start joining, and alice sends while her page still says
    // nobody is here (their pages are still loading, so no link can be open yet). Starting all
    // three at once raced: on a loaded machine bob's heartbeat could be read before alice's room
    // first rendered, and "nobody is here" was never shown.
    alice = await signIn("alice")
    await alice.getByText("Nobody else is here yet").waitFor({ timeout: WAIT_MS })
    const pages = Promise.all([signIn("bob"), signIn("carol")])
    await alice.getByTestId("composer").fill(early)
    expect(await alice.evaluate(() => document.querySelector('[data-testid^="person-"][data-state="open"]') !== null)).toBe(false)
    await alice.getByTestId("send").click()
    await alice.getByTestId("messages").getByText(early).waitFor({ timeout: WAIT_MS })
    ;[bob, carol] = await pages
    await Promise.all(
      [bob, carol].map(async (page) => {
        const opened = await openSince(page, "alice")
        await page.getByTestId("messages").getByText(early).waitFor({ timeout: WAIT_MS })
        expect(Date.now() - opened).toBeLessThanOrEqual(SHOWN_WITHIN_MS)
      })
    )
  }, TEST_TIMEOUT_MS)

  it("a message's state goes from sending to delivered to saved, linked to its commit", async () => {
    await Promise.all([openSince(alice, "bob"), openSince(bob, "alice")])
    const text = `states ${Date.now()}`
    // Every state the message's element shows on alice's page, in order (old values included,
    // so two changes within one task are both seen).
    await alice.evaluate((t) => {
      const seen: Array<string> = []
      ;(window as unknown as { seenStates: Array<string> }).seenStates = seen
      const push = (s: string | null) => {
        if (s !== null && s !== "unknown" && seen.at(-1) !== s) seen.push(s)
      }
      const mine = (el: Element | null) => el?.closest('[data-testid="message"]')?.textContent?.includes(t) === true
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === "attributes" && mine(r.target as Element)) {
            push(r.oldValue)
            push((r.target as Element).getAttribute("data-state"))
          }
          if (r.type === "childList") {
            for (const n of r.addedNodes) {
              if (!(n instanceof Element)) continue
              const el = n.matches('[data-testid="message-state"]') ? n : n.querySelector('[data-testid="message-state"]')
              if (el !== null && mine(el)) push(el.getAttribute("data-state"))
            }
          }
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ["data-state"] })
    }, text)
    await alice.getByTestId("composer").fill(text)
    await alice.getByTestId("send").click()
    const mine = alice.getByTestId("message").filter({ hasText: text })
    // Saved by the leader (5 s after a message in the demo), with a link to the commit.
    await mine.locator('[data-testid="message-state"][data-state="saved"]').waitFor({ timeout: WAIT_MS })
    const href = await mine.getByTestId("saved-link").getAttribute("href")
    // GitHub's commit page, or on the local hub the commit itself.
    expect(href).toMatch(/\/commits?\/[0-9a-f]{40}$/)
    const seen = await alice.evaluate(() => (window as unknown as { seenStates: Array<string> }).seenStates)
    expect(seen).toEqual(["sending", "delivered", "saved"])
    await expect.poll(() => alice.getByTestId("save-status").textContent(), { timeout: WAIT_MS }).toContain("All messages saved")
  }, TEST_TIMEOUT_MS)

  it("a context killed without a goodbye folds away as \"away\" in the others' people list", async () => {
    await Promise.all([openSince(alice, "carol"), openSince(bob, "carol")])
    // The renderer dies at once: no pagehide, no goodbye, no presence withdrawal.
    const cdp = await carol.context().newCDPSession(carol)
    const crashed = carol.waitForEvent("crash", { timeout: WAIT_MS })
    // A crashed renderer never answers: do not wait for the reply.
    void cdp.send("Page.crash").catch(() => undefined)
    await crashed
    for (const page of [alice, bob]) {
      await page.locator('[data-testid="person-carol"][data-state="away"]').waitFor({ timeout: WAIT_MS })
      await page.locator('[data-testid="sessions-carol"] [data-state="away"]').waitFor({ timeout: WAIT_MS })
    }
    // The others stay connected meanwhile.
    expect(await alice.locator('[data-testid="person-bob"]').getAttribute("data-state")).toBe("open")
  }, TEST_TIMEOUT_MS)
})
