import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Ref } from "effect"
import { MAX_ENVELOPE_BYTES } from "../../src/domain/envelope.js"
import { MAX_FRAME_BYTES } from "../../src/adapters/webrtc/framing.js"
import { alice, bob, connect, customEnvelope, envelopes, makeNode, received, remoteOf, waitState } from "./helpers.js"

describe("WebRTC transport, two peers in one process", () => {
  it.scopedLive("connects with one offer and one answer and exchanges envelopes both ways", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      yield* a.transport.send(bob, customEnvelope(alice, "m1", "hello bob"))
      yield* b.transport.send(alice, customEnvelope(bob, "m2", "hello alice"))
      const atB = yield* received(b, 1, envelopes)
      const atA = yield* received(a, 1, envelopes)
      expect(atB.map((e) => e.id)).toEqual(["m1"])
      expect(atA.map((e) => e.id)).toEqual(["m2"])
      // "open" is reported once, after "connecting", on both sides.
      const statesOf = (events: typeof a.events) =>
        Ref.get(events).pipe(Effect.map((c) => Chunk.toReadonlyArray(c).map((e) => e.state)))
      expect(yield* statesOf(a.events)).toEqual(["connecting", "open"])
      expect(yield* statesOf(b.events)).toEqual(["connecting", "open"])
    })
  )

  it.scopedLive("fails send without a connection, and above MAX_ENVELOPE_BYTES", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      const none = yield* Effect.flip(a.transport.send(bob, customEnvelope(alice, "m1", "x")))
      expect(none.reason).toBe("no-connection")
      yield* connect(a, b)
      const big = yield* Effect.flip(a.transport.send(bob, customEnvelope(alice, "m2", "x".repeat(MAX_ENVELOPE_BYTES))))
      expect(big.reason).toBe("oversized")
    })
  )

  it.scopedLive("carries a 1 MiB envelope intact", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b)
      // Non-ASCII text so chunk boundaries fall inside multi-byte characters.
      const unit = "héllo wörld ✓ 🚀 "
      const overhead = 200
      const data = unit.repeat(Math.floor((MAX_ENVELOPE_BYTES - overhead) / new TextEncoder().encode(unit).length))
      yield* a.transport.send(bob, customEnvelope(alice, "big", data))
      const [got] = yield* received(b, 1, envelopes)
      expect(got?.type === "custom" ? got.payload.data : undefined).toBe(data)
      // @roamhq/wrtc negotiates 256 KiB messages: frames go out at the cap, not at 16 KiB.
      const stats = Option.getOrThrow(yield* a.internals.stats(bob))
      expect(stats.frameBytes).toBe(MAX_FRAME_BYTES)
    })
  )
})

describe("WebRTC transport, identity", () => {
  it.scopedLive("refuses an offer whose fingerprint is not the one published", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      const mallory = yield* makeNode(alice)
      const offer = yield* mallory.transport.offer(remoteOf(b), "t1")
      // Bob expects Alice's published fingerprint; Mallory's SDP cannot prove it.
      const error = yield* Effect.flip(b.transport.answer(remoteOf(a), "t1", offer))
      expect(error.reason).toBe("fingerprint-mismatch")
      // Swapping only the a=fingerprint line breaks the binding signature.
      const genuine = yield* a.transport.offer(remoteOf(b), "t2")
      const forged = { ...genuine, sdp: genuine.sdp.replace(/a=fingerprint:.*/g, offer.sdp.match(/a=fingerprint:.*/)?.[0] ?? "") }
      const error2 = yield* Effect.flip(b.transport.answer(remoteOf(a), "t2", forged))
      expect(error2.reason).toBe("fingerprint-mismatch")
      expect(yield* b.internals.connectionCount).toBe(0)
    })
  )

  it.scopedLive("refuses malformed and oversized descriptions", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      const bad = yield* Effect.flip(b.transport.answer(remoteOf(a), "t1", { type: "offer", sdp: "hello" }))
      expect(bad.reason).toBe("bad-description")
      const huge = yield* Effect.flip(b.transport.answer(remoteOf(a), "t1", { type: "offer", sdp: `v=0\r\n${"a=x\r\n".repeat(20_000)}` }))
      expect(huge.reason).toBe("bad-description")
      const offer = yield* a.transport.offer(remoteOf(b), "t1")
      const wrongType = yield* Effect.flip(a.transport.complete(remoteOf(b), "t1", offer))
      expect(wrongType.reason).toBe("bad-description")
      const answer = yield* b.transport.answer(remoteOf(a), "t1", offer)
      const staleAttempt = yield* Effect.flip(a.transport.complete(remoteOf(b), "t0", answer))
      expect(staleAttempt.reason).toBe("bad-description")
    })
  )

  it.scopedLive("accepts an offer when no fingerprint was published", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      const offer = yield* a.transport.offer(remoteOf(b), "t1")
      const answer = yield* b.transport.answer({ peer: alice, fingerprint: Option.none() }, "t1", offer)
      yield* a.transport.complete(remoteOf(b), "t1", answer)
      yield* waitState(b, alice, "open")
    })
  )
})
