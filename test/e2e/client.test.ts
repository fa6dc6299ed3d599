/**
 * The client people keep open all day, end to end on the local hub (`startApp`, as
 * `npm start` runs it) with three Chromium users and a hostile Node peer: the presence form
 * recorded by the first user is joined by the second without a choice; four conversations;
 * a direct message reaches only its recipient; typing shows in the right conversation
 * only; paging back reaches a message committed two days earlier; hostile frames change
 * nothing anyone sees but an error count; axe finds no serious or critical violations;
 * at 375 x 667 nothing scrolls sideways and people fold into a drawer. Screenshots of
 * the main screens go to .tmp/screens (the README's come from there).
 */
import { mkdir } from "node:fs/promises"
import { join, resolve } from "node:path"
import { Effect, Exit, Scope } from "effect"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeEnvelope } from "../../src/domain/envelope.js"
import { makePeerId } from "../../src/domain/identity.js"
import { FAST_PEER_CONFIG } from "../../src/node/options.js"
import { runPeer, type RunningPeer } from "../../src/main/node.js"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { axeViolations, launchChromium, type TestBrowser } from "./chromium.js"

const SHOTS = resolve(import.meta.dirname, "../../.tmp/screens")
const WAIT_MS = 30_000
const DAY_MS = 86_400_000

let app: DemoApp
let browser: TestBrowser
let work: string
const pages: Record<string, Page> = {}
let mallory: RunningPeer | undefined
const malloryScope = Effect.runSync(Scope.make())

/** A message line as the leader commits it. */
const line = (id: string, sentAt: number, text: string) =>
  JSON.stringify({ id, conversation: "general", author: "carol", session: "old-device", sentAt, text })

/** Commits one history file straight into the hub (history written before anyone here came). */
const seed = async (at: number, lines: ReadonlyArray<string>) => {
  const day = new Date(at).toISOString().slice(0, 10)
  const path = `.messages/general/${day}/${String(at).padStart(13, "0")}-${(at % 0xffffffff).toString(16).padStart(8, "0").slice(-8)}.jsonl`
  await app.hub!.faults.corruptFile("demo/chat", "skygit", path, lines.join("\n") + "\n")
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  app = await startDemoApp("client", { users: ["alice", "bob", "carol", "mallory"], repository: "demo/chat" })
  work = app.work
  // History: one message two days ago, then more files than one page reads, so reaching it takes paging back.
  const now = Date.now()
  await seed(now - 2 * DAY_MS, [line("seed-two-days", now - 2 * DAY_MS - 1_000, "Committed two days ago: the release plan")])
  for (let i = 0; i < 8; i++) await seed(now - DAY_MS + i * 60_000, [line(`seed-${i}`, now - DAY_MS + i * 60_000 - 500, `yesterday ${i}`)])
  browser = await launchChromium()
}, 240_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(malloryScope, Exit.void))
  await browser?.close()
  await app?.close()
})

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) })

/**
 * Installed before any page script: a `Notification` that records what the page asks and shows
 * (permission is granted when asked), and a switch that makes the page see itself hidden
 * (`window.__hidden = true`) without a real tab switch.
 */
const NOTIFICATION_STUB = () => {
  const w = window as unknown as { __notes: { requests: number; shown: Array<{ title: string; body: string | undefined; tag: string | undefined }> }; __hidden?: boolean }
  w.__notes = { requests: 0, shown: [] }
  class RecordingNotification {
    static permission: NotificationPermission = "default"
    static requestPermission(): Promise<NotificationPermission> {
      w.__notes.requests += 1
      RecordingNotification.permission = "granted"
      return Promise.resolve("granted")
    }
    constructor(title: string, options?: NotificationOptions) {
      w.__notes.shown.push({ title, body: options?.body, tag: options?.tag })
    }
  }
  Object.defineProperty(window, "Notification", { configurable: true, writable: true, value: RecordingNotification })
  const real = Object.getOwnPropertyDescriptor(Document.prototype, "visibilityState")!
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true,
    get(this: Document) {
      return w.__hidden === true ? "hidden" : real.get!.call(this)
    }
  })
}

/** What the page's `Notification` stub recorded. */
const notes = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notes: { requests: number; shown: Array<{ title: string; body?: string; tag?: string }> } }).__notes)

/** The last console errors and warnings of each page, printed when a step fails. */
const consoleLines: Record<string, Array<string>> = {}

/** Prints what each page logged and shows of its call, then rethrows `e` (a step's failure). */
const explain = async (step: string, e: unknown): Promise<never> => {
  for (const [user, page] of Object.entries(pages)) {
    await shot(page, `${step}-fail-${user}`).catch(() => undefined)
    const call = await page.locator('[data-testid="call"]').evaluateAll((es) => es.map((x) => x.textContent)).catch(() => [])
    const people = await page.locator('[data-testid^="person-"]').evaluateAll((es) => es.map((x) => `${x.getAttribute("data-testid")}=${x.getAttribute("data-state")}`)).catch(() => [])
    const refused = await page.getByTestId("error-count").getAttribute("title", { timeout: 1_000 }).catch(() => null)
    console.error(`[${user}] ${step} failed; call: ${JSON.stringify(call)}; people: ${people.join(" ")}; refused: ${refused}\n  ${(consoleLines[user] ?? []).slice(-20).join("\n  ")}`)
  }
  throw e
}

/** Signs in as `user` and opens the repository picker on demo/chat. */
const toPicker = async (user: string): Promise<Page> => {
  const page = await browser.context.newPage()
  await page.setViewportSize({ width: 1100, height: 720 })
  await page.addInitScript(NOTIFICATION_STUB)
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  consoleLines[user] = []
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return
    const lines = consoleLines[user]!
    lines.push(`${new Date().toISOString()} ${m.type()} ${m.text().slice(0, 300)}`)
    if (lines.length > 50) lines.shift()
  })
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).waitFor({ timeout: WAIT_MS })
  pages[user] = page
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText("demo/chat").waitFor({ timeout: WAIT_MS })
  return page
}

const joinRepo = async (page: Page) => {
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
}

const waitOpen = (page: Page, other: string) => page.locator(`[data-testid="person-${other}"][data-state="open"]`).first().waitFor({ timeout: WAIT_MS })

const openConversation = async (page: Page, id: string) => {
  await page.getByTestId(`conversation-${id}`).click()
  await page.locator(`[data-testid="conversation"][data-conversation="${id}"]`).waitFor({ timeout: WAIT_MS })
}

const say = async (page: Page, text: string) => {
  await page.getByTestId("composer").fill(text)
  await page.getByTestId("composer").press("Enter")
}


// Each step waits on several pages of a shared, loaded machine: generous per-step limits, no sleeps.
describe("the client people keep open all day", { timeout: 180_000 }, () => {
  it("the first user chooses the presence form for the repository; the second joins it without being asked", async () => {
    const alice = await toPicker("alice")
    expect(await axeViolations(alice)).toEqual([])
    await alice.getByTestId("form-choice").waitFor({ timeout: WAIT_MS })
    await shot(alice, "picker")
    await joinRepo(alice)
    await alice.getByTestId("presence-form").getByText("presence: file").waitFor({ timeout: WAIT_MS })

    const bob = await toPicker("bob")
    await bob.getByTestId("recorded-form").waitFor({ timeout: WAIT_MS })
    expect(await bob.getByTestId("recorded-form").textContent()).toContain("chosen by alice")
    expect(await bob.getByTestId("form-choice").count()).toBe(0)
    await shot(bob, "picker-recorded")
    await joinRepo(bob)
    await bob.getByTestId("presence-form").getByText("presence: file").waitFor({ timeout: WAIT_MS })

    const carol = await toPicker("carol")
    await carol.getByTestId("recorded-form").waitFor({ timeout: WAIT_MS })
    await joinRepo(carol)
    for (const [p, others] of [
      [alice, ["bob", "carol"]],
      [bob, ["alice", "carol"]],
      [carol, ["alice", "bob"]]
    ] as const) {
      for (const o of others) await waitOpen(p, o)
    }
  })

  it("four conversations; a direct message reaches only its recipient; typing shows in the right conversation only", async () => {
    const { alice, bob, carol } = pages as Record<"alice" | "bob" | "carol", Page>
    // Two named conversations: the others learn of them as they are started.
    await alice.getByTestId("new-conversation").fill("Release 2.0")
    await alice.getByTestId("create-conversation").click()
    await alice.locator('[data-testid="conversation"][data-conversation="release-2-0"]').waitFor({ timeout: WAIT_MS })
    await bob.getByTestId("new-conversation").fill("design")
    await bob.getByTestId("create-conversation").click()
    for (const p of [alice, bob, carol]) {
      await p.getByTestId("conversation-release-2-0").waitFor({ timeout: WAIT_MS })
      await p.getByTestId("conversation-design").waitFor({ timeout: WAIT_MS })
    }
    await openConversation(bob, "general")
    await say(alice, "Kick-off: `npm test` must pass, see https://example.com/plan and ping @carol\n```\nconst x = 1\n```")
    await carol.getByTestId("conversation-release-2-0").getByTestId("unread").waitFor({ timeout: WAIT_MS })
    await openConversation(carol, "release-2-0")
    await carol.locator('[data-testid="mention"]', { hasText: "@carol" }).waitFor({ timeout: WAIT_MS })
    expect(await carol.locator(".message pre code").textContent()).toBe("const x = 1")
    expect(await carol.locator('.message a[href="https://example.com/plan"]').count()).toBe(1)

    // Direct message alice -> bob.
    await openConversation(alice, "dm--alice--bob")
    await say(alice, "just for you, bob")
    await bob.getByTestId("conversation-dm--alice--bob").getByTestId("unread").waitFor({ timeout: WAIT_MS })
    await openConversation(bob, "dm--alice--bob")
    await bob.getByTestId("messages").getByText("just for you, bob").waitFor({ timeout: WAIT_MS })
    expect(await carol.getByTestId("conversation-dm--alice--bob").count()).toBe(0)
    expect(await carol.getByText("just for you, bob").count()).toBe(0)
    await shot(bob, "room")

    // Typing: alice types in release-2-0, where carol is; bob looks at general.
    await openConversation(bob, "general")
    await openConversation(alice, "release-2-0")
    await alice.getByTestId("composer").pressSequentially("working on it", { delay: 20 })
    await carol.getByTestId("typing").getByText("alice is typing…").waitFor({ timeout: WAIT_MS })
    // File form: the typist's login is a claim.
    expect(await carol.getByTestId("typing").getByTestId("unverified").count()).toBe(1)
    await shot(carol, "room-typing")
    expect(await bob.getByTestId("typing").textContent()).toBe("")
    await say(alice, "done")
    await carol.getByTestId("messages").getByText("done").waitFor({ timeout: WAIT_MS })
    expect(await axeViolations(carol)).toEqual([])
  })

  it("file form: every other session's login is tagged unverified: people, authors, direct conversations, typing, calls", async () => {
    const { alice, bob } = pages as Record<"alice" | "bob" | "carol", Page>
    await bob.getByTestId("person-alice").getByTestId("unverified").waitFor({ timeout: WAIT_MS })
    await openConversation(bob, "dm--alice--bob")
    expect(await bob.getByTestId("message").filter({ hasText: "just for you, bob" }).getByTestId("unverified").count()).toBe(1)
    expect(await bob.getByTestId("conversation-dm--alice--bob").getByTestId("unverified").count()).toBe(1)
    expect(await bob.getByTestId("conversation-general").getByTestId("unverified").count()).toBe(0)
    // A ringing call names its caller with the tag (an audio call, declined: no media needed).
    await openConversation(alice, "dm--alice--bob")
    await alice.getByTestId("call-here-audio").click()
    await bob.getByTestId("accept").waitFor({ timeout: WAIT_MS })
    expect(await bob.getByTestId("call").getByTestId("unverified").count()).toBeGreaterThanOrEqual(1)
    expect(await alice.getByTestId("call").getByTestId("unverified").count()).toBeGreaterThanOrEqual(1)
    await bob.getByTestId("reject").click()
    await alice.locator('[data-testid="call"][data-phase="rejected"]').waitFor({ timeout: WAIT_MS })
    await alice.getByTestId("dismiss-call").click()
    await bob.getByTestId("dismiss-call").click()
  })

  it("a mention notifies only while the tab is hidden; permission is asked at the first send, never at load", async () => {
    const { alice, bob, carol } = pages as Record<"alice" | "bob" | "carol", Page>
    // Loaded, joined and read messages (carol was even mentioned, while looking): nobody was asked.
    for (const p of [bob, carol]) expect(await notes(p)).toEqual({ requests: 0, shown: [] })
    await openConversation(bob, "general")
    await openConversation(alice, "general")
    await say(bob, "morning all")
    await expect.poll(async () => (await notes(bob)).requests, { timeout: WAIT_MS }).toBe(1)
    await say(bob, "and a second message")
    await alice.getByTestId("messages").getByText("and a second message").waitFor({ timeout: WAIT_MS })
    expect((await notes(bob)).requests).toBe(1)

    // Looking at the page: a mention is highlighted, with no notification.
    await say(alice, "@bob while you look")
    await bob.locator('[data-testid="mention"]', { hasText: "@bob" }).waitFor({ timeout: WAIT_MS })
    expect((await notes(bob)).shown).toEqual([])

    // Hidden: a message naming bob without a mention and a mention of carol do not notify; a mention of bob does.
    await bob.evaluate(() => ((window as unknown as { __hidden?: boolean }).__hidden = true))
    await say(alice, "no mention here, bob")
    await say(alice, "@carol this one is for carol")
    await say(alice, "@bob ping while away")
    for (const text of ["no mention here, bob", "this one is for carol", "ping while away"]) {
      await bob.getByTestId("messages").getByText(text).waitFor({ timeout: WAIT_MS })
    }
    // File form: the author is a claim, and the title says so as the room does.
    expect((await notes(bob)).shown).toEqual([{ title: "alice (unverified) in # general", body: "@bob ping while away", tag: "general" }])
    await bob.evaluate(() => ((window as unknown as { __hidden?: boolean }).__hidden = false))
    // Carol was mentioned while looking, and never sent a message here: nothing asked, nothing shown.
    expect(await notes(carol)).toEqual({ requests: 0, shown: [] })
  })

  it("paging back reaches a message committed two days earlier", async () => {
    const bob = pages.bob!
    await openConversation(bob, "general")
    const target = bob.getByTestId("messages").getByText("Committed two days ago: the release plan")
    for (let i = 0; i < 6 && (await target.count()) === 0; i++) {
      const more = bob.getByTestId("load-older")
      if ((await more.count()) === 0) break
      // Scrolling to the top reads the next page; the button is the keyboard's way to the same.
      await bob.getByTestId("messages").evaluate((el) => (el.scrollTop = 0))
      await more.focus()
      await more.press("Enter")
      await bob.waitForFunction(() => document.querySelector('[data-testid="load-older"]')?.hasAttribute("disabled") !== true, undefined, { timeout: WAIT_MS }).catch(() => undefined)
    }
    await target.waitFor({ timeout: WAIT_MS })
    expect(await bob.getByText("yesterday 0").count()).toBe(1)
  })

  it("a hostile fourth peer changes nothing anyone sees but an error count", async () => {
    const { alice, bob, carol } = pages as Record<"alice" | "bob" | "carol", Page>
    // What each message says and who wrote it; its delivery state (sending, delivered, saved) moves on its own as the leader commits.
    const shown = (p: Page) =>
      p.getByTestId("message").evaluateAll((els) =>
        els.map((el) => {
          const copy = el.cloneNode(true) as Element
          copy.querySelectorAll('[data-testid="message-state"]').forEach((s) => s.remove())
          return copy.textContent
        })
      )
    const before = await Promise.all([alice, bob, carol].map(shown))
    mallory = await Effect.runPromise(
      Scope.extend(
        runPeer({
          api: app.hubUrl!,
          token: app.tokens["mallory"]!,
          repository: "demo/chat",
          presence: "file",
          session: "evil1",
          iceServers: [],
          relayOnly: false,
          dataDir: join(work, "mallory"),
          branch: undefined,
          config: FAST_PEER_CONFIG,
          json: false,
          bench: false,
          stay: false
        }),
        malloryScope
      )
    )
    for (const p of [alice, bob, carol]) await waitOpen(p, "mallory")
    const evil = mallory
    const targets = await Effect.runPromise(Effect.map(evil.handle.view, (v) => v.links.filter((l) => l.state === "open").map((l) => l.peer)))
    expect(targets.length).toBeGreaterThanOrEqual(3)
    const frames = () => {
      const base = { v: 1, from: evil.self, to: null, timestamp: Date.now() }
      const id = () => `evil1.${Math.random().toString(36).slice(2, 10)}`
      return [
        "{ not json",
        JSON.stringify({ v: 9, id: id(), type: "chat" }),
        // Spoofed sender: the envelope claims alice.
        encodeEnvelope({ ...base, id: id(), from: makePeerId("alice", "fake"), type: "custom", payload: { name: "x", data: 1 } } as never),
        // A message claiming alice wrote it, with HTML and script in its text.
        JSON.stringify({
          ...base,
          id: id(),
          type: "chat",
          payload: { _tag: "message", message: { id: "evil-1", conversation: "general", author: "alice", session: "fake", sentAt: Date.now(), text: '<img src=x onerror="window.__pwned=1">' } }
        }),
        // An oversized conversation name, and one that tries to leave .messages/.
        JSON.stringify({ ...base, id: id(), type: "chat", payload: { _tag: "topic", conversation: "x".repeat(10_000) } }),
        JSON.stringify({ ...base, id: id(), type: "chat", payload: { _tag: "typing", conversation: "../../etc" } }),
        JSON.stringify({
          ...base,
          id: id(),
          type: "chat",
          payload: { _tag: "message", message: { id: "evil-2", conversation: "a".repeat(500), author: "mallory", session: "evil1", sentAt: Date.now(), text: "hi" } }
        })
      ]
    }
    for (const t of targets) {
      for (const f of frames()) await Effect.runPromise(Effect.ignore(evil.internals.sendRaw(t, f)))
    }
    for (const p of [alice, bob, carol]) {
      await p.getByTestId("error-count").waitFor({ timeout: WAIT_MS })
      await expect.poll(async () => Number.parseInt((await p.getByTestId("error-count").textContent()) ?? "0", 10), { timeout: WAIT_MS }).toBeGreaterThanOrEqual(6)
    }
    const after = await Promise.all([alice, bob, carol].map(shown))
    expect(after).toEqual(before)
    for (const p of [alice, bob, carol]) {
      expect(await p.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
      expect(await p.locator('[data-testid="conversations"] button').allTextContents()).not.toContain(expect.stringContaining("xxxxxxxx"))
    }
    await shot(alice, "room-hostile")
    await Effect.runPromise(Scope.close(malloryScope, Exit.void))
  })

  it("at 375 x 667 nothing scrolls sideways, people fold into a drawer, and everything works by keyboard", async () => {
    const carol = pages.carol!
    await carol.setViewportSize({ width: 375, height: 667 })
    const sideways = () => carol.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(await sideways()).toBeLessThanOrEqual(0)
    expect(await carol.getByTestId("sidebar").isVisible()).toBe(false)
    await shot(carol, "mobile-room")
    // Keyboard only: open the drawer, pick a conversation, write and send.
    await carol.getByTestId("drawer-toggle").focus()
    await carol.keyboard.press("Enter")
    await carol.getByTestId("sidebar").waitFor({ state: "visible", timeout: WAIT_MS })
    expect(await sideways()).toBeLessThanOrEqual(0)
    expect(await axeViolations(carol)).toEqual([])
    await shot(carol, "mobile-drawer")
    await carol.getByTestId("conversation-design").focus()
    await carol.keyboard.press("Enter")
    await carol.locator('[data-testid="conversation"][data-conversation="design"]').waitFor({ timeout: WAIT_MS })
    expect(await carol.getByTestId("sidebar").isVisible()).toBe(false)
    await carol.getByTestId("composer").focus()
    await carol.keyboard.type("sent by keyboard")
    await carol.keyboard.press("Enter")
    await pages.bob!.getByTestId("conversation-design").getByTestId("unread").waitFor({ timeout: WAIT_MS })
    expect(await sideways()).toBeLessThanOrEqual(0)
  })

  it("the sign-in screen passes axe and the rate-limit banner says what is paused", async () => {
    const page = await browser.context.newPage()
    await page.setViewportSize({ width: 1100, height: 720 })
    await page.goto(app.webUrl)
    await page.getByTestId("demo-alice").waitFor({ timeout: WAIT_MS })
    expect(await axeViolations(page)).toEqual([])
    await shot(page, "sign-in")
    await page.close()
    const alice = pages.alice!
    app.hub!.faults.inject({
      method: "GET",
      path: /\/contents\/.*presence\.json/,
      times: 30,
      respond: { status: 403, headers: { "retry-after": "5" }, body: { message: "You have exceeded a secondary rate limit." } }
    })
    await alice.getByTestId("rate-notice").waitFor({ timeout: WAIT_MS })
    await alice.bringToFront()
    await shot(alice, "rate-limit")
    app.hub!.faults.clear()
  })

  it("changing the presence form is an explicit action that moves everyone", { timeout: 400_000 }, async () => {
    const { alice, bob, carol } = pages as Record<"alice" | "bob" | "carol", Page>
    // After the rate-limit step (which reads presence.json, the file form's): its 5 s hold blocks every request
    // of alice's client, the settings write included, so wait until her notice says the hold is over.
    await carol.setViewportSize({ width: 1100, height: 720 })
    await alice.getByTestId("rate-notice").waitFor({ state: "hidden", timeout: WAIT_MS })
    await alice.getByTestId("presence-form").click()
    await alice.getByTestId("change-form").click()
    // Every session watching the record rejoins in the new form, and they meet again there.
    for (const p of [alice, bob, carol]) {
      await p
        .getByTestId("presence-form")
        .getByText("presence: Discussion")
        .waitFor({ timeout: 120_000 })
        .catch(async (e: unknown) => {
          await shot(p, "change-form-fail")
          throw e
        })
    }
    for (const o of ["alice", "carol"]) await waitOpen(bob, o)
  })
  // Last but one: a call is the heaviest load on a shared machine, and what follows does not depend on it.
  it("a call starts from a conversation with everyone in it, and its bar stays while switching conversations", async () => {
    const { alice, bob, carol } = pages as Record<"alice" | "bob" | "carol", Page>
    try {
      await openConversation(alice, "dm--alice--bob")
      await alice.bringToFront()
      await alice.getByTestId("call-here-video").click()
      await bob.getByTestId("accept").waitFor({ timeout: WAIT_MS })
      await bob.bringToFront()
      await bob.getByTestId("accept").click()
      await alice.locator('[data-testid="call"][data-phase="accepted"]').waitFor({ timeout: WAIT_MS })
      await openConversation(alice, "general")
      await alice.locator('[data-testid="call"][data-phase="accepted"]').waitFor({ timeout: WAIT_MS })
      // The picture shows the call as people see it: bob's video decoding in alice's page.
      await alice.waitForFunction(() => Array.from(document.querySelectorAll<HTMLVideoElement>('[data-testid="call"] video')).some((v) => !v.muted && v.videoWidth > 0), undefined, { timeout: WAIT_MS })
      await alice.bringToFront()
      await shot(alice, "call")
      expect(await carol.getByTestId("accept").count()).toBe(0)
      // Discussion form: GitHub's comment author vouches for every login, so nothing is tagged.
      for (const p of [alice, bob]) expect(await p.getByTestId("unverified").count()).toBe(0)
      await alice.getByTestId("hang-up").click()
      await bob.locator('[data-testid="call"][data-phase="ended"]').waitFor({ timeout: WAIT_MS })
      await alice.getByTestId("dismiss-call").click()
      await bob.getByTestId("dismiss-call").click()
    } catch (e) {
      await explain("call", e)
    }
  })

})
