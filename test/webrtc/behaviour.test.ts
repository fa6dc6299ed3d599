import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Ref } from "effect"
import { makePeerId } from "../../src/domain/identity.js"
import { HIGH_WATER_MARK, LOW_WATER_MARK } from "../../src/adapters/webrtc/tuning.js"
import { MAX_FRAME_BYTES } from "../../src/adapters/webrtc/framing.js"
import { alice, bob, chunkFrame, connect, customEnvelope, envelopes, eventually, makeNode, received, waitState } from "./helpers.js"

const rejections = (i: { _tag: string; error?: { reason: string } }) => (i._tag === "Rejected" ? i.error?.reason : undefined)

describe("WebRTC transport, flow control", () => {
  it.scopedLive("a flood of sends keeps the sender's buffer under the high-water mark", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      const count = 320
      const payload = "x".repeat(64 * 1024)
      yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
        a.transport.send(bob, customEnvelope(alice, `f${i}`, payload))
      )
      const got = yield* received(b, count, envelopes)
      expect(got.map((e) => e.id)).toEqual(Array.from({ length: count }, (_, i) => `f${i}`))
      const stats = Option.getOrThrow(yield* a.internals.stats(bob))
      // 20 MiB went out faster than it drained, so the buffer did fill, yet never past the mark.
      expect(stats.maxBufferedAmount).toBeGreaterThan(LOW_WATER_MARK)
      expect(stats.maxBufferedAmount).toBeLessThanOrEqual(HIGH_WATER_MARK)
      expect(Option.getOrThrow(yield* b.internals.stats(alice)).pendingMessages).toBe(0)
    })
  )
})

describe("WebRTC transport, what arrives is checked", () => {
  it.scopedLive("rejects an envelope whose from is not the connection's peer, and stays open", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      yield* a.transport.send(bob, customEnvelope(makePeerId("mallory", "m1"), "spoof", "I am mallory"))
      yield* a.transport.send(bob, customEnvelope(alice, "real", "I am alice"))
      const [reason] = yield* received(b, 1, rejections)
      expect(reason).toBe("spoofed-sender")
      const got = yield* received(b, 1, envelopes)
      expect(got.map((e) => e.id)).toEqual(["real"])
      expect(Option.getOrThrow(yield* b.internals.state(alice))).toBe("open")
    })
  )

  it.scopedLive("rejects malformed frames with a reason, and stays open", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      yield* a.internals.sendRaw(bob, "this is not json")
      yield* a.internals.sendRaw(bob, Uint8Array.of(99))
      // A chunk that claims to continue a message never started.
      yield* a.internals.sendRaw(bob, chunkFrame(7, 3, 4, '{"v":1}'))
      // Frames may be as large as MAX_FRAME_BYTES (sized to the connection): one byte more is oversized.
      yield* a.internals.sendRaw(bob, "y".repeat(MAX_FRAME_BYTES + 1))
      const reasons = yield* received(b, 4, rejections)
      expect(reasons).toEqual(["malformed", "malformed", "malformed", "oversized"])
      yield* a.transport.send(bob, customEnvelope(alice, "after", "still here"))
      const got = yield* received(b, 1, envelopes)
      expect(got.map((e) => e.id)).toEqual(["after"])
      expect(Option.getOrThrow(yield* b.internals.state(alice))).toBe("open")
    })
  )

  it.scopedLive("fails the connection of a peer that keeps misbehaving", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob, { tuning: { maxRejectionsPerWindow: 5 } })
      yield* connect(a, b)
      yield* Effect.forEach(Array.from({ length: 10 }), () => a.internals.sendRaw(bob, "garbage").pipe(Effect.ignore))
      yield* eventually(
        Ref.get(b.events).pipe(Effect.map((c) => Chunk.findFirst(c, (e) => e.state === "failed")))
      )
      expect(yield* b.internals.connectionCount).toBe(0)
    })
  )
})

describe("WebRTC transport, lifecycle", () => {
  it.scopedLive("closing one side makes the other see it closed", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob, { tuning: { livenessTimeoutMs: 3_000, keepaliveIntervalMs: 500 } })
      yield* connect(a, b)
      yield* a.transport.close(bob)
      const seen = yield* eventually(
        Ref.get(b.events).pipe(Effect.map((c) => Chunk.findFirst(c, (e) => e.state === "closed" || e.state === "failed")))
      )
      expect(["closed", "failed"]).toContain(seen.state)
      expect(yield* b.internals.connectionCount).toBe(0)
      const error = yield* Effect.flip(b.transport.send(alice, customEnvelope(bob, "late", "anyone?")))
      expect(error.reason).toBe("no-connection")
    })
  )

  it.scopedLive("a second attempt replaces the first and leaves exactly one open connection", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b, "t1")
      const firstPc = Option.getOrThrow(yield* a.internals.peerConnection(bob))
      yield* connect(a, b, "t2")
      expect(yield* a.internals.connectionCount).toBe(1)
      expect(yield* b.internals.connectionCount).toBe(1)
      expect(firstPc.connectionState).toBe("closed")
      // The old connection's teardown must not have removed or closed the new one. A round
      // trip on the new channel is the barrier: the old one's closing events come before it.
      yield* a.transport.send(bob, customEnvelope(alice, "m", "on the new one"))
      expect((yield* received(b, 1, envelopes)).map((e) => e.id)).toEqual(["m"])
      yield* b.transport.send(alice, customEnvelope(bob, "r", "and back"))
      expect((yield* received(a, 1, envelopes)).map((e) => e.id)).toEqual(["r"])
      yield* waitState(a, bob, "open")
      yield* waitState(b, alice, "open")
      const states = Chunk.toReadonlyArray(yield* Ref.get(a.events)).map((e) => e.state)
      expect(states).toEqual(["connecting", "open", "connecting", "open"])
    })
  )

  it.scopedLive("repeating offer or answer for the same attempt returns the same description", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      const remoteB = { peer: bob, fingerprint: Option.some(b.transport.fingerprint) }
      const remoteA = { peer: alice, fingerprint: Option.some(a.transport.fingerprint) }
      const offer1 = yield* a.transport.offer(remoteB, "t1")
      const offer2 = yield* a.transport.offer(remoteB, "t1")
      expect(offer2).toEqual(offer1)
      const answer1 = yield* b.transport.answer(remoteA, "t1", offer1)
      const answer2 = yield* b.transport.answer(remoteA, "t1", offer1)
      expect(answer2).toEqual(answer1)
      yield* a.transport.complete(remoteB, "t1", answer1)
      yield* a.transport.complete(remoteB, "t1", answer1)
      yield* waitState(a, bob, "open")
      expect(yield* a.internals.connectionCount).toBe(1)
    })
  )

  it.scopedLive("renegotiates on an open connection with perfect negotiation, even on glare", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      const pcA = Option.getOrThrow(yield* a.internals.peerConnection(bob))
      const pcB = Option.getOrThrow(yield* b.internals.peerConnection(alice))
      // Both add a transceiver at once: both fire negotiationneeded and offer in-band.
      pcA.addTransceiver("audio")
      pcB.addTransceiver("audio")
      yield* eventually(
        Effect.sync(() =>
          pcA.signalingState === "stable" && pcB.signalingState === "stable" &&
          pcA.getTransceivers().length === 2 && pcB.getTransceivers().length === 2
            ? Option.some(true)
            : Option.none()
        )
      )
      yield* a.transport.send(bob, customEnvelope(alice, "m", "still talking"))
      expect((yield* received(b, 1, envelopes)).map((e) => e.id)).toEqual(["m"])
    })
  )
})
