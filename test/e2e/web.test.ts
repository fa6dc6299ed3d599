/**
 * The web client end to end: `startApp` (the local hub and the built client, as `npm start`
 * runs them) and two Chromium pages signed in as alice and bob on demo/chat. Both see each
 * other online over an open connection, a message from alice reaches bob, and a reload
 * brings bob back to the room with its history (IndexedDB). Screenshots go to .tmp/.
 */
import { mkdir } from "node:fs/promises"
import { join, resolve } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { launchChromium, type TestBrowser } from "./chromium.js"

const SHOTS = resolve(import.meta.dirname, "../../.tmp")
const WAIT_MS = 20_000

let app: DemoApp
let browser: TestBrowser

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  app = await startDemoApp("web", { users: ["alice", "bob", "carol"], repository: "demo/chat" })
  browser = await launchChromium()
  // Building the client takes most of this; on a machine shared by many test runs it can take minutes.
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

/** Opens the client and walks sign-in, repository and presence choice as `user`. */
const signIn = async (user: string): Promise<Page> => {
  const page = await browser.context.newPage()
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText("demo/chat").waitFor({ timeout: WAIT_MS })
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
  return page
}

const waitOpen = (page: Page, other: string) =>
  page.locator(`[data-testid="person-${other}"][data-state="open"]`).waitFor({ timeout: WAIT_MS })

/** Frames shown so far by every <video> of the call panel. */
const framesShown = (page: Page): Promise<ReadonlyArray<number>> =>
  page.$$eval('[data-testid="call"] video', (videos) =>
    videos.map((v) => (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames)
  )

/** What `recordChanges` keeps: each distinct state of the rows it watches and of the flag. */
interface Seen {
  readonly rows: ReadonlyArray<string>
  readonly flag: boolean
}

/**
 * Runs in the page: at every change of the document, notes the `rows` (`data-testid:data-state`)
 * and whether `flag` matches anything, skipping repeats. Driven by the DOM's own mutations, so
 * even a state shown for one frame is seen, and no test waits on a sampling interval.
 */
const recordChanges = (spec: { readonly rows: string; readonly flag: string }): void => {
  const seen: Array<{ rows: Array<string>; flag: boolean }> = []
  ;(window as unknown as { skygitSeen: typeof seen }).skygitSeen = seen
  let last = ""
  const probe = () => {
    const rows = Array.from(document.querySelectorAll(spec.rows), (r) => `${r.getAttribute("data-testid")}:${r.getAttribute("data-state")}`)
    const flag = document.querySelector(spec.flag) !== null
    const key = `${rows.join(",")}|${flag}`
    if (key !== last) seen.push({ rows, flag })
    last = key
  }
  new MutationObserver(probe).observe(document, { subtree: true, childList: true, attributes: true, characterData: true })
  probe()
}

/** What `recordChanges` has noted in `page` so far. */
const recorded = (page: Page): Promise<ReadonlyArray<Seen>> => page.evaluate(() => (window as unknown as { skygitSeen: ReadonlyArray<Seen> }).skygitSeen)

let alice: Page
let bob: Page

describe("web client", () => {
  it("alice and bob meet on demo/chat, chat, and a reload brings bob back to the room with its history", async () => {
    alice = await signIn("alice")
    bob = await signIn("bob")
    await Promise.all([waitOpen(alice, "bob"), waitOpen(bob, "alice")])

    await alice.getByTestId("composer").fill("Hello Bob! 👋 日本語")
    await alice.getByTestId("send").click()
    await bob.getByTestId("messages").getByText("Hello Bob! 👋 日本語").waitFor({ timeout: WAIT_MS })
    await bob.getByTestId("composer").fill("Hi Alice")
    await bob.getByTestId("composer").press("Enter")
    await alice.getByTestId("messages").getByText("Hi Alice").waitFor({ timeout: WAIT_MS })

    await alice.screenshot({ path: join(SHOTS, "web-alice.png") })
    await bob.screenshot({ path: join(SHOTS, "web-bob.png") })
    expect(await bob.getByTestId("message").count()).toBe(2)

    // The tab keeps its room: a reload comes straight back to it (no sign-in, no picker), with
    // the history from bob's IndexedDB; then bob meets alice again as one new session, and
    // neither page goes on showing the session the reload ended.
    const sessionsOf = (page: Page, user: string) =>
      page.locator(`[data-testid="sessions-${user}"] [data-testid^="session-"]`).evaluateAll((rows) => rows.map((r) => `${r.getAttribute("data-testid")}:${r.getAttribute("data-state")}`))
    const [before] = await sessionsOf(alice, "bob")
    // Every state both pages show from just before the reload until bob is back (a DOM observer,
    // installed in bob's page before its reload's first script):
    // - to alice the ended session is gone at once, not "away" until presence drops its entry
    //   (the reload said goodbye);
    // - to bob it is this tab's own predecessor, never "your other tab" (the presence file lists
    //   it until its goodbye is processed);
    // - bob never shows himself as leader: alone in his view before presence answers, he is not
    //   the one keeping the history (alice is).
    await alice.evaluate(recordChanges, { rows: `[data-testid="sessions-bob"] [data-testid^="session-"]`, flag: "#none" })
    await bob.addInitScript(recordChanges, { rows: `[data-testid="sessions-bob"] [data-testid^="session-"]`, flag: `[data-testid="person-self"] .tag.leader` })
    await bob.reload()
    await bob.getByTestId("room").waitFor({ timeout: WAIT_MS })
    await bob.getByTestId("messages").getByText("Hello Bob! 👋 日本語").waitFor({ timeout: WAIT_MS })
    expect(await bob.getByTestId("demo-bob").count()).toBe(0)
    await expect
      .poll(() => sessionsOf(alice, "bob"), { timeout: 60_000 })
      .toSatisfy((rows: ReadonlyArray<string>) => rows.length === 1 && rows[0] !== before && rows[0]!.endsWith(":open"))
    await waitOpen(bob, "alice")
    await bob.waitForTimeout(5_000)
    const bobSaw = await recorded(bob)
    expect(bobSaw.flatMap((s) => s.rows)).toEqual([])
    expect(bobSaw.filter((s) => s.flag)).toEqual([])
    const aliceSaw = (await recorded(alice)).flatMap((s) => s.rows)
    expect(aliceSaw.filter((row) => row.startsWith(before!.split(":")[0]!) && !row.endsWith(":open"))).toEqual([])
    // What the earlier session said is bob's own (no "unverified" claim).
    const earlier = bob.getByTestId("message").filter({ hasText: "Hi Alice" })
    expect(await earlier.getAttribute("class")).toContain("mine")
    expect(await earlier.getByTestId("unverified").count()).toBe(0)
    expect(await bob.getByTestId("message").filter({ hasText: "Hello Bob!" }).getByTestId("unverified").count()).toBe(1)
  }), 180_000
  it("alice video-calls bob: it rings, bob accepts, both see the other's video, mute shows, hang-up ends it", async () => {
    await Promise.all([waitOpen(alice, "bob"), waitOpen(bob, "alice")])
    await alice.getByTestId("call-video-bob").click()
    await bob.getByTestId("accept").waitFor({ timeout: WAIT_MS }).catch(async (e: unknown) => {
      await alice.screenshot({ path: join(SHOTS, "web-call-fail-alice.png") })
      await bob.screenshot({ path: join(SHOTS, "web-call-fail-bob.png") })
      throw e
    })
    await bob.getByTestId("accept").click()
    for (const page of [alice, bob]) {
      await page.locator('[data-testid="call"][data-phase="accepted"]').waitFor({ timeout: WAIT_MS })
      // Two videos each (the other's and the own preview), and frames keep arriving on the remote one.
      await expect.poll(() => framesShown(page), { timeout: WAIT_MS }).toSatisfy((f: ReadonlyArray<number>) => f.length === 2 && f.every((n) => n > 0))
    }
    await alice.getByTestId("mute").click()
    await bob.getByText("alice: in the call (muted)").waitFor({ timeout: WAIT_MS })
    // A page paints its videos only while in front.
    await alice.bringToFront()
    await alice.screenshot({ path: join(SHOTS, "web-call-alice.png") })
    await bob.bringToFront()
    await bob.screenshot({ path: join(SHOTS, "web-call-bob.png") })
    await bob.getByTestId("hang-up").click()
    for (const page of [alice, bob]) await page.locator('[data-testid="call"][data-phase="ended"]').waitFor({ timeout: WAIT_MS })
    await bob.getByTestId("dismiss-call").click()
    await bob.getByTestId("call").waitFor({ state: "detached", timeout: WAIT_MS })
  })
  it("tells people in plain words when the presence channel fails and when GitHub rate limits", async () => {
    const hub = app.hub!
    const presence = /\/contents\/.*presence\.json/
    hub.faults.inject({ method: "GET", path: presence, times: 30, respond: { status: 500, body: { message: "Server Error" } } })
    await alice.getByTestId("presence-problem").waitFor({ timeout: WAIT_MS })
    hub.faults.clear()
    hub.faults.inject({
      method: "GET",
      path: presence,
      times: 30,
      respond: { status: 403, headers: { "retry-after": "60" }, body: { message: "You have exceeded a secondary rate limit." } }
    })
    await alice.getByTestId("rate-notice").waitFor({ timeout: WAIT_MS })
    await alice.bringToFront()
    await alice.screenshot({ path: join(SHOTS, "web-banners.png") })
    hub.faults.clear()
    // Chat between connected people goes on meanwhile.
    await alice.getByTestId("composer").fill("still here")
    await alice.getByTestId("send").click()
    await bob.getByTestId("messages").getByText("still here").waitFor({ timeout: WAIT_MS })
    // The leader commits the history to the skygit branch (demo timing: 5 s after a message).
    await expect
      .poll(async () => (await hub.git.log("demo/chat", "skygit")).some((c) => c.paths.some((p) => p.startsWith(".messages/general/"))), { timeout: WAIT_MS })
      .toBe(true)
  })
})
