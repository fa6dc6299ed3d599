/**
 * The PeerTransport port's contract: a function of a fixture, so the simulated
 * network and the WebRTC adapter run the same suite.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Stream, type Scope } from "effect"
import type { Envelope } from "../../src/domain/envelope.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import type { ChannelEvent, Incoming, PeerTransportService } from "../../src/ports/PeerTransport.js"
import type { Subscribe } from "../../src/ports/subscription.js"
import { peer } from "../support/fixtures.js"

/** What a transport adapter under test provides. */
export interface PeerTransportFixture {
  /** A transport of session `self`; every transport of one fixture can reach the others. */
  readonly transport: (self: PeerId) => Effect.Effect<PeerTransportService, unknown, Scope.Scope>
  /** Delivers raw text on the open connection from `from` to `to`, as a misbehaving peer would. */
  readonly injectRaw: (from: PeerId, to: PeerId, text: string) => Effect.Effect<void, unknown, Scope.Scope>
}

const chat = (from: PeerId, text: string): Envelope => ({
  v: 1,
  id: `e-${text.length}-${Math.random().toString(36).slice(2, 8)}`,
  type: "custom",
  from,
  to: null,
  timestamp: 1,
  payload: { name: "test", data: { text } }
})

/** The next `n` items of a subscription, subscribed now (live when this returns). */
const next = <A>(subscribe: Subscribe<A>, n: number) =>
  Effect.flatMap(subscribe, (stream) =>
    Effect.map(Effect.fork(Stream.runCollect(Stream.take(stream, n))), (fiber) => Effect.map(Fiber.join(fiber), Chunk.toArray))
  )

/** The first item of a subscription that satisfies `p`, subscribed now; join the fiber for it. */
const first = <A>(subscribe: Subscribe<A>, p: (a: A) => boolean) => Effect.flatMap(subscribe, (stream) => Effect.fork(Stream.runHead(Stream.filter(stream, p))))

const opened = (events: Subscribe<ChannelEvent>, who: PeerId) => first(events, (e) => peerKey(e.peer) === peerKey(who) && e.state === "open")

const ended = (events: Subscribe<ChannelEvent>, who: PeerId) =>
  first(events, (e) => peerKey(e.peer) === peerKey(who) && (e.state === "closed" || e.state === "failed"))

/** Connects `a` to `b` with a complete offer/answer exchange and waits until both are open. */
export const connect = (a: PeerTransportService, aId: PeerId, b: PeerTransportService, bId: PeerId, attempt = "t1") =>
  Effect.gen(function* () {
    const aOpen = yield* opened(a.events, bId)
    const bOpen = yield* opened(b.events, aId)
    const offer = yield* a.offer({ peer: bId, fingerprint: Option.some(b.fingerprint) }, attempt)
    const answer = yield* b.answer({ peer: aId, fingerprint: Option.some(a.fingerprint) }, attempt, offer)
    yield* a.complete({ peer: bId, fingerprint: Option.some(b.fingerprint) }, attempt, answer)
    yield* Fiber.join(aOpen)
    yield* Fiber.join(bOpen)
  })

const firstEnvelope = (incoming: Subscribe<Incoming>) => first(incoming, (i) => i._tag === "Envelope")

/** Runs the PeerTransport contract against one adapter. */
export const peerTransportContract = (name: string, makeFixture: Effect.Effect<PeerTransportFixture, unknown, Scope.Scope>) =>
  describe(`PeerTransport contract: ${name}`, () => {
    const alice = peer("alice", "a1")
    const bob = peer("bob", "b1")

    it.scopedLive("an offer and an answer open a channel that carries envelopes both ways", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        yield* connect(a, alice, b, bob)
        const atB = yield* firstEnvelope(b.incoming)
        const atA = yield* firstEnvelope(a.incoming)
        yield* a.send(bob, chat(alice, "hi bob ✓"))
        yield* b.send(alice, chat(bob, "hi alice ✓"))
        const gotB = Option.getOrThrow(yield* Fiber.join(atB))
        const gotA = Option.getOrThrow(yield* Fiber.join(atA))
        expect(gotB._tag === "Envelope" && gotB.envelope.payload).toEqual({ name: "test", data: { text: "hi bob ✓" } })
        expect(peerKey(gotB.peer)).toBe(peerKey(alice))
        expect(gotA._tag === "Envelope" && gotA.envelope.payload).toEqual({ name: "test", data: { text: "hi alice ✓" } })
      })
    )

    it.scopedLive("an offer whose fingerprint differs from the published one is refused", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        const offer = yield* a.offer({ peer: bob, fingerprint: Option.some(b.fingerprint) }, "t1")
        const refused = yield* Effect.exit(b.answer({ peer: alice, fingerprint: Option.some("sha-256 00:11:22") }, "t1", offer))
        expect(Exit.isFailure(refused)).toBe(true)
        expect(JSON.stringify(refused)).toContain("fingerprint-mismatch")
      })
    )

    it.scopedLive("sending without a channel fails with no-connection", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const sent = yield* Effect.exit(a.send(bob, chat(alice, "nobody there")))
        expect(JSON.stringify(sent)).toContain("no-connection")
      })
    )

    it.scopedLive("spoofed and malformed frames are rejected with a reason and the channel stays up", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        yield* connect(a, alice, b, bob)
        const seen = yield* next(b.incoming, 3)
        yield* f.injectRaw(alice, bob, JSON.stringify(chat(peer("mallory", "m1"), "I am alice")))
        yield* f.injectRaw(alice, bob, "{ not json")
        yield* a.send(bob, chat(alice, "still here"))
        const items = yield* seen
        expect(items.map((i) => (i._tag === "Rejected" ? i.error.reason : "ok"))).toEqual(["spoofed-sender", "malformed", "ok"])
      })
    )

    it.scopedLive("a frame is checked against the connection it came on, even when the same text came on another", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const carol = peer("carol", "c1")
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        const c = yield* f.transport(carol)
        yield* connect(a, alice, b, bob)
        yield* connect(c, carol, b, bob, "t2")
        const seen = yield* next(b.incoming, 2)
        const fromAlice = yield* firstEnvelope(b.incoming)
        const envelope = chat(alice, "said once by alice")
        yield* a.send(bob, envelope)
        // Alice's copy arrives first, so carol's replay is a text already seen.
        yield* Fiber.join(fromAlice)
        yield* f.injectRaw(carol, bob, JSON.stringify(envelope))
        const items = yield* seen
        expect(items.map((i) => `${peerKey(i.peer)}:${i._tag === "Rejected" ? i.error.reason : "ok"}`)).toEqual([
          `${peerKey(alice)}:ok`,
          `${peerKey(carol)}:spoofed-sender`
        ])
      })
    )

    it.scopedLive("closing one side is seen by the other", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        yield* connect(a, alice, b, bob)
        const gone = yield* ended(b.events, alice)
        yield* a.close(bob)
        expect(Option.isSome(yield* Fiber.join(gone))).toBe(true)
        expect(JSON.stringify(yield* Effect.exit(a.send(bob, chat(alice, "after close"))))).toContain("no-connection")
      })
    )

    it.scopedLive("a second attempt replaces the first and leaves one working channel", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const a = yield* f.transport(alice)
        const b = yield* f.transport(bob)
        yield* connect(a, alice, b, bob, "t1")
        yield* connect(a, alice, b, bob, "t2")
        const atB = yield* firstEnvelope(b.incoming)
        yield* a.send(bob, chat(alice, "on the new channel"))
        const got = Option.getOrThrow(yield* Fiber.join(atB))
        expect(got._tag === "Envelope" && got.envelope.payload).toEqual({ name: "test", data: { text: "on the new channel" } })
      })
    )
  })
