/**
 * Browser tests on Debian's chromium: a page and a Node peer (@roamhq/wrtc)
 * open a data channel and exchange envelopes, small and chunked; two pages hold a video call with
 * fake media that decodes frames on both sides, and hang-up releases the tracks.
 * Nothing is timed: each wait polls until its condition holds, bounded by the test timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Exit, Option, Scope, Stream } from "effect"
import type { Page } from "playwright-core"
import { nodeRtc } from "../../src/adapters/webrtc/node.js"
import { makeWebRtcTransport } from "../../src/adapters/webrtc/transport.js"
import type { Envelope } from "../../src/domain/envelope.js"
import { makePeerId } from "../../src/domain/identity.js"
import { launchChromium, serveTestPage, type TestBrowser, type TestSite } from "./chromium.js"
import type { PeerRef, SkygitPage } from "./fixtures/page.js"

const POLL_MS = 50
const WAIT_LIMIT_MS = 40_000

/** Polls `get` until `ok` holds on its value, and returns it. */
const waitFor = async <A>(what: string, get: () => Promise<A>, ok: (a: A) => boolean): Promise<A> => {
  const started = Date.now()
  for (;;) {
    const value = await get()
    if (ok(value)) return value
    if (Date.now() - started > WAIT_LIMIT_MS) throw new Error(`gave up waiting for ${what}; last value ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

/** Opens a data channel between two pages and waits until both ends see it open. */
const connectPages = async (a: { page: Page; ref: PeerRef }, b: { page: Page; ref: PeerRef }, attempt: string): Promise<void> => {
  const offer = await call(a.page, "offer", b.ref, attempt)
  const answer = await call(b.page, "answer", a.ref, attempt, offer)
  await call(a.page, "complete", b.ref, attempt, answer)
  await waitFor(`${a.ref.username}'s channel to ${b.ref.username}`, () => call(a.page, "state", b.ref), (s) => s === "open")
  await waitFor(`${b.ref.username}'s channel to ${a.ref.username}`, () => call(b.page, "state", a.ref), (s) => s === "open")
}

/** Calls one function of the page's test API. */
const call = <K extends keyof SkygitPage>(page: Page, name: K, ...args: Parameters<SkygitPage[K]>): Promise<Awaited<ReturnType<SkygitPage[K]>>> =>
  page.evaluate(
    ([n, a]) => (window.skygit[n as keyof SkygitPage] as (...xs: Array<unknown>) => unknown)(...(a as Array<unknown>)),
    [name, args] as const
  ) as Promise<Awaited<ReturnType<SkygitPage[K]>>>

let site: TestSite
let browser: TestBrowser

const openPage = async (username: string, sessionId: string): Promise<{ page: Page; ref: PeerRef }> => {
  const page = await browser.context.newPage()
  page.on("pageerror", (e) => console.error(`[${username}] page error`, e))
  await page.goto(site.url)
  await page.waitForFunction(() => window.skygit !== undefined)
  const fingerprint = await call(page, "start", username, sessionId)
  return { page, ref: { username, sessionId, fingerprint } }
}

beforeAll(async () => {
  site = await serveTestPage()
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await site?.close()
})

describe("Chromium and Node", () => {
  it("a page and a Node peer open a channel and exchange envelopes both ways", async () => {
    const { page, ref: pageRef } = await openPage("alice", "page1")
    const scope = Effect.runSync(Scope.make())
    try {
      const nodeId = makePeerId("bob", "node1")
      const received: Array<unknown> = []
      const { internals, transport } = await Effect.runPromise(Scope.extend(makeWebRtcTransport({ self: nodeId, rtc: nodeRtc }), scope))
      await Effect.runPromise(
        Scope.extend(
          Effect.flatMap(transport.incoming, (incoming) =>
            Effect.forkScoped(
              Stream.runForEach(incoming, (i) =>
                Effect.sync(() => {
                  if (i._tag === "Envelope" && i.envelope.type === "custom") received.push(i.envelope.payload.data)
                })
              )
            )
          ),
          scope
        )
      )
      const nodeRef: PeerRef = { username: "bob", sessionId: "node1", fingerprint: transport.fingerprint }
      const pagePeer = { peer: makePeerId(pageRef.username, pageRef.sessionId), fingerprint: Option.some(pageRef.fingerprint) }

      // Node offers; the SDP goes to the page and back through page.evaluate.
      const offer = await Effect.runPromise(transport.offer(pagePeer, "e2e1"))
      const answer = await call(page, "answer", nodeRef, "e2e1", offer)
      await Effect.runPromise(transport.complete(pagePeer, "e2e1", answer))
      await waitFor("the page's channel", () => call(page, "state", nodeRef), (s) => s === "open")
      await waitFor("the node's channel", () => Effect.runPromise(internals.state(pagePeer.peer)), (s) => Option.getOrUndefined(s) === "open")

      // A small envelope (one text frame) and a large one (binary chunk frames, cut inside multi-byte characters).
      const large = (from: string) => ({ from, text: "héllo ✓ 🚀 ".repeat(12_000) })
      await call(page, "send", nodeRef, { hello: "from chromium" })
      await call(page, "send", nodeRef, large("chromium"))
      const envelope = (n: number, data: unknown): Envelope => ({
        v: 1,
        id: `node1.test.${n}`,
        type: "custom",
        from: nodeId,
        to: null,
        timestamp: Date.now(),
        payload: { name: "test", data }
      })
      await Effect.runPromise(transport.send(pagePeer.peer, envelope(1, { hello: "from node" })))
      await Effect.runPromise(transport.send(pagePeer.peer, envelope(2, large("node"))))
      await waitFor("the node to receive", async () => received.length, (n) => n >= 2)
      const onPage = await waitFor("the page to receive", () => call(page, "received"), (r) => r.length >= 2)
      expect(received).toEqual([{ hello: "from chromium" }, large("chromium")])
      expect(onPage).toEqual([{ hello: "from node" }, large("node")])
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await page.close()
    }
  }, 60_000)
})

describe("a video call between two Chromium pages", () => {
  it("decodes frames on both sides, and hang-up ends every track and removes the senders", async () => {
    const a = await openPage("alice", "pa")
    const b = await openPage("bob", "pb")
    try {
      const offer = await call(a.page, "offer", b.ref, "call1")
      const answer = await call(b.page, "answer", a.ref, "call1", offer)
      await call(a.page, "complete", b.ref, "call1", answer)
      await waitFor("alice's channel", () => call(a.page, "state", b.ref), (s) => s === "open")
      await waitFor("bob's channel", () => call(b.page, "state", a.ref), (s) => s === "open")

      await call(a.page, "dial", [b.ref], "video")
      await waitFor("bob's phone to ring", () => call(b.page, "view"), (v) => v.phase === "ringing")
      await call(b.page, "accept")
      await waitFor("alice to see bob's tracks", () => call(a.page, "view"), (v) => v.phase === "accepted" && v.remote === 2)
      await waitFor("bob to see alice's tracks", () => call(b.page, "view"), (v) => v.phase === "accepted" && v.remote === 2)

      const framesAtAlice = await waitFor("frames decoded at alice", () => call(a.page, "framesDecoded", b.ref), (n) => n > 0)
      const framesAtBob = await waitFor("frames decoded at bob", () => call(b.page, "framesDecoded", a.ref), (n) => n > 0)
      expect(framesAtAlice).toBeGreaterThan(0)
      expect(framesAtBob).toBeGreaterThan(0)
      expect(await call(a.page, "liveSenders", b.ref)).toBe(2)

      await call(a.page, "hangUp")
      const bobView = await waitFor("bob to hear the hang-up", () => call(b.page, "view"), (v) => v.phase === "ended" && v.local === 0)
      const aliceView = await call(a.page, "view")
      expect(aliceView).toMatchObject({ phase: "ended", local: 0, remote: 0 })
      expect(bobView.remote).toBe(0)
      expect(await call(a.page, "capturedStates")).toEqual(["ended", "ended"])
      expect(await call(b.page, "capturedStates")).toEqual(["ended", "ended"])
      expect(await call(a.page, "liveSenders", b.ref)).toBe(0)
      expect(await call(b.page, "liveSenders", a.ref)).toBe(0)
      // The data channel outlives the call.
      expect(await call(a.page, "state", b.ref)).toBe("open")
    } finally {
      await a.page.close()
      await b.page.close()
    }
  }, 60_000)
})

describe("a group video call between three Chromium pages", () => {
  it("every pair decodes frames; a participant leaving ends only its legs", async () => {
    const a = await openPage("alice", "ga")
    const b = await openPage("bob", "gb")
    const c = await openPage("carol", "gc")
    try {
      await connectPages(a, b, "g1")
      await connectPages(a, c, "g2")
      await connectPages(b, c, "g3")

      await call(a.page, "dial", [b.ref, c.ref], "video")
      await waitFor("bob's phone to ring", () => call(b.page, "view"), (v) => v.phase === "ringing")
      await waitFor("carol's phone to ring", () => call(c.page, "view"), (v) => v.phase === "ringing")
      // Both accept at once: every pair renegotiates concurrently, glare included.
      await Promise.all([call(b.page, "accept"), call(c.page, "accept")])

      const pages = [a, b, c]
      const states = async () => {
        const out: Record<string, unknown> = {}
        for (const p of pages) for (const q of pages) if (p !== q) out[`${p.ref.username}>${q.ref.username}`] = await call(p.page, "debug", q.ref)
        return out
      }
      for (const p of pages) {
        await waitFor(`${p.ref.username} to see four remote tracks`, () => call(p.page, "view"), (v) => v.remote === 4).catch(async (e) => {
          throw new Error(`${String(e)}\n${JSON.stringify(await states(), null, 1)}`)
        })
        for (const q of pages) {
          if (q === p) continue
          await waitFor(`frames from ${q.ref.username} at ${p.ref.username}`, () => call(p.page, "framesDecoded", q.ref), (n) => n > 0)
        }
      }

      await call(c.page, "hangUp")
      for (const p of [a, b]) {
        const v = await waitFor(`${p.ref.username} to see carol leave`, () => call(p.page, "view"), (v) => v.legs["carol"] === "ended" && v.remote === 2)
        expect(v.phase).toBe("accepted")
        expect(await call(p.page, "liveSenders", c.ref)).toBe(0)
      }
      expect(await call(c.page, "capturedStates")).toEqual(["ended", "ended"])
      const before = await call(b.page, "framesDecoded", a.ref)
      await waitFor("alice's video still reaching bob", () => call(b.page, "framesDecoded", a.ref), (n) => n > before)

      await call(b.page, "hangUp")
      await waitFor("alice's call to end", () => call(a.page, "view"), (v) => v.phase === "ended" && v.local === 0 && v.remote === 0)
      expect(await call(a.page, "capturedStates")).toEqual(["ended", "ended"])
    } finally {
      for (const p of [a, b, c]) await p.page.close()
    }
  }, 60_000)
})
