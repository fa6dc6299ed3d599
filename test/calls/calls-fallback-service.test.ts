/**
 * The calls service's use of its presence fallback, with a recording fallback in
 * place of a whole peer: what goes through presence (and what waits for the data
 * channel), when it is posted, cancelled or skipped, and that a signal seen twice
 * (both ways, or re-read) applies once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, PubSub, Schedule, Stream } from "effect"
import { makeFakeMediaWorld, type FakeMediaWorld } from "../../src/adapters/media/fake.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { makeCalls, type CallsOptions, type CallsService, type CallsView } from "../../src/app/calls.js"
import type { CallFallback } from "../../src/app/calls-wire.js"
import { makePeerId, samePeer, type PeerId } from "../../src/domain/identity.js"
import type { PresenceCallSlot } from "../../src/domain/presence-doc.js"
import { Media } from "../../src/ports/Media.js"
import { PeerTransport, type PeerTransportService } from "../../src/ports/PeerTransport.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")
const dave = makePeerId("dave", "d1")

/**
 * A fresh invite from dave, who has no channel to `to`: bob answers it through presence.
 * Slots are applied in the order delivered, so once its answer (or its ringing) is seen,
 * every slot delivered before it was applied or skipped: no waiting for "nothing happened".
 */
const daveInvites = (to: PeerId, at: number): PresenceCallSlot => ({
  from: dave,
  to,
  at,
  signals: [{ id: "d1.call.1", at, signal: { _tag: "invite", call: "dave-call", media: "audio", participants: [dave, to] } }]
})

/** A fallback that records what the service asks of it; tests deliver slots by hand. */
interface Recorder {
  readonly fallback: CallFallback
  readonly posted: Array<PresenceCallSlot>
  readonly cancelled: Array<PeerId>
  readonly deliver: (slot: PresenceCallSlot) => Effect.Effect<void>
  readonly waiting: () => boolean
}

const recorder = (meshRoute: boolean) =>
  Effect.gen(function* () {
    const hub = yield* PubSub.unbounded<PresenceCallSlot>()
    const posted: Array<PresenceCallSlot> = []
    const cancelled: Array<PeerId> = []
    let waiting = false
    const fallback: CallFallback = {
      meshRoute: () => Effect.succeed(meshRoute),
      post: (slot) => Effect.sync(() => void posted.push(slot)),
      cancel: (peer) => Effect.sync(() => void cancelled.push(peer)),
      subscribe: PubSub.subscribe(hub),
      setWaiting: (w) => Effect.sync(() => void (waiting = w))
    }
    return { fallback, posted, cancelled, deliver: (slot) => Effect.asVoid(PubSub.publish(hub, slot)), waiting: () => waiting } satisfies Recorder
  })

interface Session {
  readonly self: PeerId
  readonly transport: PeerTransportService
  readonly calls: CallsService
  readonly rec: Recorder
}

const session = (network: MemoryNetwork, world: FakeMediaWorld, self: PeerId, options: Partial<CallsOptions> & { readonly meshRoute?: boolean } = {}) =>
  Effect.gen(function* () {
    const transport = yield* network.attach(self)
    const rec = yield* recorder(options.meshRoute ?? false)
    const calls = yield* makeCalls({ self, tickMs: 20, fallback: rec.fallback, ...options }).pipe(
      Effect.provideService(PeerTransport, transport),
      Effect.provideService(Media, yield* world.attach(self))
    )
    return { self, transport, calls, rec } satisfies Session
  })

const until = (check: () => boolean | Effect.Effect<boolean>) =>
  Effect.suspend(() => {
    const r = check()
    return typeof r === "boolean" ? Effect.succeed(r) : r
  }).pipe(
    Effect.filterOrFail((ok) => ok, () => "not yet" as const),
    Effect.retry(Schedule.spaced(5)),
    Effect.orDie
  )
const viewHas = (s: Session, check: (v: CallsView) => boolean) => until(() => Effect.map(s.calls.view, check))
const lastSlotTo = (s: Session, to: PeerId) => s.rec.posted.filter((p) => samePeer(p.to, to)).at(-1)
const tags = (slot: PresenceCallSlot | undefined) => slot?.signals.map((x) => x.signal._tag) ?? []

const setup = (options: Partial<CallsOptions> & { readonly meshRoute?: boolean } = {}) =>
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.make({ latencyMs: 1, jitterMs: 0, consentTimeoutMs: 100 })
    const world = makeFakeMediaWorld()
    // Media needs a connection, and there is none between these sessions.
    world.connected = () => false
    const a = yield* session(network, world, alice, options)
    const b = yield* session(network, world, bob, options)
    return { network, world, a, b }
  })

/** Opens a channel between two sessions and waits until `a` sees it open. */
const connect = (a: Session, b: Session) =>
  Effect.gen(function* () {
    const events = yield* a.transport.events
    const opened = yield* Effect.fork(Stream.runHead(Stream.filter(events, (e) => e.state === "open" && samePeer(e.peer, b.self))))
    const offer = yield* a.transport.offer({ peer: b.self, fingerprint: Option.some(b.transport.fingerprint) }, "t1")
    const answer = yield* b.transport.answer({ peer: a.self, fingerprint: Option.some(a.transport.fingerprint) }, "t1", offer)
    yield* a.transport.complete({ peer: b.self, fingerprint: Option.some(b.transport.fingerprint) }, "t1", answer)
    yield* Fiber.join(opened)
  })

describe("calls service with a presence fallback", () => {
  it.scopedLive("with no channel and no mesh path, control goes through presence slots; a media state waits for the channel", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      yield* a.calls.dial([bob], "audio")
      expect(tags(lastSlotTo(a, bob))).toEqual(["invite"])
      expect(a.rec.waiting()).toBe(true)

      yield* b.rec.deliver(lastSlotTo(a, bob)!)
      yield* viewHas(b, (v) => v.call?.phase === "ringing")
      expect(b.rec.waiting()).toBe(true)
      yield* b.calls.accept
      expect(tags(lastSlotTo(b, alice))).toEqual(["accept"])

      yield* a.rec.deliver(lastSlotTo(b, alice)!)
      yield* viewHas(a, (v) => v.call?.phase === "accepted")
      // Alice acknowledges the accept in the same slot, after the invite: a rewrite loses nothing.
      expect(tags(lastSlotTo(a, bob))).toEqual(["invite", "accept"])
      yield* a.calls.setMicMuted(true)
      expect(tags(lastSlotTo(a, bob))).toEqual(["invite", "accept"])

      yield* a.calls.hangUp
      expect(tags(lastSlotTo(a, bob))).toEqual(["invite", "accept", "hangup"])
      expect(a.rec.waiting()).toBe(false)
      yield* b.rec.deliver(lastSlotTo(a, bob)!)
      yield* viewHas(b, (v) => v.call?.phase === "ended")
      expect(b.rec.waiting()).toBe(false)
    })
  )

  it.scopedLive("a signal read again after its call is over applies once: no busy for a finished call", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      const first = yield* a.calls.dial([bob], "audio")
      const invite = lastSlotTo(a, bob)!
      yield* b.rec.deliver(invite)
      yield* viewHas(b, (v) => v.call?.id === first && v.call.phase === "ringing")
      yield* b.calls.reject
      yield* b.rec.deliver({
        from: carol,
        to: bob,
        at: invite.at,
        signals: [{ id: "c1.call.1", at: invite.at, signal: { _tag: "invite", call: "second", media: "audio", participants: [carol, bob] } }]
      })
      yield* viewHas(b, (v) => v.call?.id === "second" && v.call.phase === "ringing")
      // The first invite again (a later read of the same slot): bob is in a call, but this is no new caller.
      yield* b.rec.deliver(invite)
      yield* b.rec.deliver(invite)
      // Dave's invite, delivered after, gets its busy: both copies before it were handled.
      yield* b.rec.deliver(daveInvites(bob, invite.at))
      yield* until(() => tags(lastSlotTo(b, dave)).includes("busy"))
      expect(tags(lastSlotTo(b, alice))).toEqual(["reject"])
      expect((yield* b.calls.view).call?.id).toBe("second")
    })
  )

  it.scopedLive("a signal that came on the data channel first is not applied again from its slot", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      const toAlice: Array<string> = []
      let marked = false
      yield* Effect.forkScoped(
        Stream.runForEach(yield* a.transport.incoming, (i) =>
          Effect.sync(() => {
            if (i._tag === "Envelope" && i.envelope.type === "custom" && i.envelope.payload.name === "call") {
              toAlice.push(String((i.envelope.payload.data as { _tag: string })._tag))
            }
            if (i._tag === "Envelope" && i.envelope.type === "custom" && i.envelope.payload.name === "marker") marked = true
          })
        )
      )
      yield* a.calls.dial([bob], "audio")
      const slot = lastSlotTo(a, bob)!
      // The channel opens before bob reads the slot: the held invite goes on it, with the same id.
      yield* connect(a, b)
      yield* viewHas(b, (v) => v.call?.phase === "ringing")
      yield* b.calls.reject
      yield* viewHas(a, (v) => v.call?.phase === "rejected")
      yield* b.rec.deliver({
        from: carol,
        to: bob,
        at: slot.at,
        signals: [{ id: "c1.call.1", at: slot.at, signal: { _tag: "invite", call: "second", media: "audio", participants: [carol, bob] } }]
      })
      yield* viewHas(b, (v) => v.call?.id === "second")
      // Bob reads alice's slot at last: its invite was applied already, so alice hears no busy.
      yield* b.rec.deliver(slot)
      // Dave's invite after it is answered busy (so alice's slot was handled), and a marker
      // bob sends alice after that arrives after anything bob sent her before (one ordered channel).
      yield* b.rec.deliver(daveInvites(bob, slot.at))
      yield* until(() => tags(lastSlotTo(b, dave)).includes("busy"))
      yield* b.transport.send(alice, { v: 1, id: "marker-1", type: "custom", from: bob, to: null, timestamp: slot.at, payload: { name: "marker", data: null } })
      yield* until(() => marked)
      expect(toAlice).toEqual(["reject"])
    })
  )

  it.scopedLive("with a mesh path nothing is posted at once, and the channel opening cancels the slot", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup({ meshRoute: true, meshGraceMs: 60_000 })
      yield* a.calls.dial([bob], "audio")
      expect(a.rec.posted).toEqual([])
      yield* connect(a, b)
      yield* viewHas(b, (v) => v.call?.phase === "ringing")
      expect(a.rec.posted).toEqual([])
      expect(a.rec.cancelled.map((p) => p.username)).toEqual(["bob"])
    })
  )

  it.scopedLive("with a mesh path, a signal goes through presence only once the grace has passed without a channel", () =>
    Effect.gen(function* () {
      const { a } = yield* setup({ meshRoute: true, meshGraceMs: 100 })
      yield* a.calls.dial([bob], "audio")
      expect(a.rec.posted).toEqual([])
      yield* until(() => a.rec.posted.length === 1)
      expect(tags(a.rec.posted[0])).toEqual(["invite"])
    })
  )

  it.scopedLive("a slot addressed to another session is not applied", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup()
      yield* a.calls.dial([carol], "audio")
      const toCarol = lastSlotTo(a, carol)!
      yield* b.rec.deliver(toCarol)
      // Delivered after it, dave's invite rings: had alice's applied, bob would be in her call and dave would hear busy.
      yield* b.rec.deliver(daveInvites(bob, toCarol.at))
      yield* viewHas(b, (v) => v.call !== undefined)
      expect((yield* b.calls.view).call?.id).toBe("dave-call")
    })
  )
})
