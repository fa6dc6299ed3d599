/**
 * The calls service over the simulated network and the in-memory Media: what
 * each side's view shows, which tracks are captured, sent and released.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schedule, Scope, Stream } from "effect"
import { makeFakeMediaWorld, type FakeMediaOptions, type FakeMediaWorld } from "../../src/adapters/media/fake.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { makeCalls, type CallsService, type CallsView } from "../../src/app/calls.js"
import type { CallPhase } from "../../src/domain/call.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { Media } from "../../src/ports/Media.js"
import { PeerTransport, type PeerTransportService } from "../../src/ports/PeerTransport.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")

interface Session {
  readonly self: PeerId
  readonly transport: PeerTransportService
  readonly calls: CallsService
}

const session = (network: MemoryNetwork, world: FakeMediaWorld, self: PeerId, options: FakeMediaOptions = {}, ringTimeoutMs = 30_000) =>
  Effect.gen(function* () {
    const transport = yield* network.attach(self)
    const media = yield* world.attach(self, options)
    const calls = yield* makeCalls({ self, ringTimeoutMs, tickMs: 20 }).pipe(
      Effect.provideService(PeerTransport, transport),
      Effect.provideService(Media, media)
    )
    return { self, transport, calls } satisfies Session
  })

/** Opens a channel between two sessions and waits until `a` sees it open. */
const connect = (a: Session, b: Session, attempt = "t1") =>
  Effect.gen(function* () {
    // The subscription is live when it returns: the channel cannot open unseen.
    const events = yield* a.transport.events
    const opened = yield* Effect.fork(Stream.runHead(Stream.filter(events, (e) => e.state === "open" && e.peer.sessionId === b.self.sessionId)))
    const offer = yield* a.transport.offer({ peer: b.self, fingerprint: Option.some(b.transport.fingerprint) }, attempt)
    const answer = yield* b.transport.answer({ peer: a.self, fingerprint: Option.some(a.transport.fingerprint) }, attempt, offer)
    yield* a.transport.complete({ peer: b.self, fingerprint: Option.some(b.transport.fingerprint) }, attempt, answer)
    yield* Fiber.join(opened)
  })

/** Waits until the session's view satisfies `check`; the test's timeout bounds it. */
const until = (s: Session, check: (v: CallsView) => boolean) =>
  s.calls.view.pipe(
    Effect.filterOrFail(check, () => "not yet" as const),
    Effect.retry(Schedule.spaced(5)),
    Effect.orDie
  )
const phase = (s: Session, p: CallPhase) => until(s, (v) => v.call?.phase === p)

const setup = (options: { readonly alice?: FakeMediaOptions; readonly ringTimeoutMs?: number } = {}) =>
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.make({ latencyMs: 1, jitterMs: 0, consentTimeoutMs: 100 })
    const world = makeFakeMediaWorld()
    const a = yield* session(network, world, alice, options.alice, options.ringTimeoutMs)
    const b = yield* session(network, world, bob, {}, options.ringTimeoutMs)
    return { network, world, a, b }
  })

describe("calls service", () => {
  it.scopedLive("a video call sends both sides' camera and microphone, and hang-up releases them", () =>
    Effect.gen(function* () {
      const { world, a, b } = yield* setup()
      yield* connect(a, b)
      yield* a.calls.dial([bob], "video")
      yield* phase(b, "ringing")
      expect(world.live(alice).map((t) => t.source).sort()).toEqual(["camera", "microphone"])
      expect(world.live(bob)).toEqual([])
      expect(world.sending(alice, bob)).toEqual([])

      yield* b.calls.accept
      yield* until(a, (v) => v.remote.length === 2)
      yield* until(b, (v) => v.remote.length === 2)
      expect(world.sending(alice, bob).slice().sort()).toEqual(["camera", "microphone"])
      expect(world.sending(bob, alice).slice().sort()).toEqual(["camera", "microphone"])
      expect((yield* a.calls.view).call?.phase).toBe("accepted")

      yield* a.calls.hangUp
      yield* phase(b, "ended")
      yield* until(b, (v) => v.remote.length === 0 && v.local.length === 0)
      expect((yield* a.calls.view).call?.phase).toBe("ended")
      expect((yield* a.calls.view).remote).toEqual([])
      expect(world.captured(alice).every((t) => t.stopped)).toBe(true)
      expect(world.captured(bob).every((t) => t.stopped)).toBe(true)
      expect(world.sending(alice, bob)).toEqual([])
      expect(world.sending(bob, alice)).toEqual([])
    })
  )

  it.scopedLive("a rejected call stops the caller's capture", () =>
    Effect.gen(function* () {
      const { world, a, b } = yield* setup()
      yield* connect(a, b)
      yield* a.calls.dial([bob], "audio")
      yield* phase(b, "ringing")
      yield* b.calls.reject
      yield* phase(a, "rejected")
      expect(world.captured(alice).map((t) => [t.track.source, t.stopped])).toEqual([["microphone", true]])
      expect(world.captured(bob)).toEqual([])
    })
  )

  it.scopedLive("a second caller hears busy while a call is ringing", () =>
    Effect.gen(function* () {
      const { network, world, a, b } = yield* setup()
      const c = yield* session(network, world, carol)
      yield* connect(a, b)
      yield* connect(b, c, "t2")
      yield* a.calls.dial([bob], "audio")
      yield* phase(b, "ringing")
      yield* c.calls.dial([bob], "audio")
      yield* phase(c, "busy")
      expect((yield* b.calls.view).call?.initiator).toEqual(alice)
      const again = yield* Effect.exit(a.calls.dial([carol], "audio"))
      expect(Exit.isFailure(again)).toBe(true)
    })
  )

  it.scopedLive("an unanswered call is missed on both sides", () =>
    Effect.gen(function* () {
      const { world, a, b } = yield* setup({ ringTimeoutMs: 200 })
      yield* connect(a, b)
      yield* a.calls.dial([bob], "video")
      yield* phase(a, "missed")
      yield* phase(b, "missed")
      expect(world.live(alice)).toEqual([])
    })
  )

  it.scopedLive("a refused microphone ends the call and says why", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup({ alice: { deny: ["microphone"] } })
      yield* connect(a, b)
      yield* a.calls.dial([bob], "audio")
      const view = yield* until(a, (v) => v.call !== undefined && v.call.phase !== "ringing")
      expect(view.call?.phase).toBe("ended")
      expect(view.problems.join("\n")).toContain("MediaDenied")
      yield* phase(b, "missed")
    })
  )

  it.scopedLive("an invite waits for the channel when none is open yet", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      yield* a.calls.dial([bob], "audio")
      // No channel: the invite is held (nothing can reach bob); it goes when the channel opens.
      expect((yield* a.calls.view).call?.phase).toBe("ringing")
      expect((yield* b.calls.view).call).toBeUndefined()
      yield* connect(a, b)
      yield* phase(b, "ringing")
    })
  )

  it.scopedLive("a call that ended before the channel opened never rings", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      yield* a.calls.dial([bob], "audio")
      yield* a.calls.hangUp
      yield* connect(a, b)
      yield* b.calls.dial([alice], "audio")
      // Bob's own call reaching Alice proves the channel delivers; nothing from the old call came first.
      yield* phase(a, "ringing")
      expect((yield* b.calls.view).call?.direction).toBe("outgoing")
      expect((yield* a.calls.view).call?.initiator).toEqual(bob)
    })
  )

  it.scopedLive("mute and screen share reach the other side; sharing off stops the screen track", () =>
    Effect.gen(function* () {
      const { world, a, b } = yield* setup()
      yield* connect(a, b)
      yield* a.calls.dial([bob], "video")
      yield* phase(b, "ringing")
      yield* b.calls.accept
      yield* phase(a, "accepted")
      yield* a.calls.setMicMuted(true)
      yield* until(b, (v) => v.call?.legs[0]?.media.micMuted === true)
      expect(world.live(alice).find((t) => t.source === "microphone")?.enabled).toBe(false)

      yield* a.calls.setScreenSharing(true)
      yield* until(b, (v) => v.remote.length === 3 && v.call?.legs[0]?.media.screenSharing === true)
      expect(world.sending(alice, bob)).toContain("screen")
      yield* a.calls.setScreenSharing(false)
      yield* until(b, (v) => v.remote.length === 2)
      expect(world.live(alice).map((t) => t.source)).not.toContain("screen")
      expect(world.captured(alice).filter((t) => t.track.source === "screen").every((t) => t.stopped)).toBe(true)
    })
  )

  it.scopedLive("a group call goes on when one participant's process dies", () =>
    Effect.gen(function* () {
      const { network, world, a, b } = yield* setup()
      const carolScope = yield* Scope.make()
      const c = yield* Scope.extend(session(network, world, carol), carolScope)
      yield* connect(a, b)
      yield* connect(a, c, "t2")
      yield* connect(b, c, "t3")
      yield* a.calls.dial([bob, carol], "audio")
      yield* phase(b, "ringing")
      yield* phase(c, "ringing")
      yield* b.calls.accept
      yield* c.calls.accept
      for (const s of [a, b, c]) yield* until(s, (v) => v.call?.legs.every((l) => l.state === "accepted") === true && v.remote.length === 2)

      yield* network.crash(carol)
      yield* until(a, (v) => v.call?.legs.find((l) => l.peer.username === "carol")?.state === "ended" && v.remote.length === 1)
      yield* until(b, (v) => v.call?.legs.find((l) => l.peer.username === "carol")?.state === "ended" && v.remote.length === 1)
      expect((yield* a.calls.view).call?.phase).toBe("accepted")
      expect(world.sending(alice, carol)).toEqual([])
      expect(world.sending(alice, bob)).toEqual(["microphone"])
      yield* Scope.close(carolScope, Exit.void)

      yield* b.calls.hangUp
      yield* phase(a, "ended")
      expect(world.live(alice)).toEqual([])
    })
  )
})
