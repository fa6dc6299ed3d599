/**
 * ICE restarts on the WebRTC transport (issue 10 §2), two @roamhq/wrtc peers in one process.
 * A path is taken for lost after silence: bob sends no keepalives, so alice's liveness check
 * fires. The offering side then reports "restarting" with a restart offer that the test carries
 * to the other side, as the app would through a relay or presence; the same connection comes
 * back "open" and what was sent meanwhile arrives. A restart offer that does not prove the
 * published fingerprint is refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Ref } from "effect"
import { restartAttempt, restartBase } from "../../src/domain/ice-restart.js"
import type { ChannelEvent } from "../../src/ports/PeerTransport.js"
import { alice, bob, connect, customEnvelope, envelopes, eventually, makeNode, received, remoteOf } from "./helpers.js"

const stateLog = (events: Ref.Ref<Chunk.Chunk<ChannelEvent>>) =>
  Ref.get(events).pipe(Effect.map((c) => Chunk.toReadonlyArray(c).map((e) => e.state)))

describe("ICE restart attempt ids", () => {
  it("name the connection they restart, and nothing else does", () => {
    expect(restartAttempt("a1.3", 2)).toBe("a1.3:r2")
    expect(restartBase(restartAttempt("a1.3", 2))).toBe("a1.3")
    expect(restartBase("a1.3")).toBeUndefined()
    expect(restartBase(":r1")).toBeUndefined()
    expect(restartBase("a1.3:rx")).toBeUndefined()
  })
})

describe("WebRTC transport, ICE restart", () => {
  it.scopedLive("a silent path is restarted by the offering side on the same connection, and a send made meanwhile arrives", () =>
    Effect.gen(function* () {
      const quick = { livenessTimeoutMs: 1_000, iceRestartGraceMs: 250, iceRestartTimeoutMs: 20_000 }
      const a = yield* makeNode(alice, { tuning: { ...quick, keepaliveIntervalMs: 250 } })
      // Bob never pings: alice hears nothing and takes the path for lost.
      const b = yield* makeNode(bob, { tuning: { ...quick, livenessTimeoutMs: 60_000, keepaliveIntervalMs: 60_000 } })
      yield* connect(a, b, "t1")
      const restart = yield* eventually(
        Ref.get(a.events).pipe(Effect.map((c) => Chunk.findFirst(c, (e) => e.state === "restarting" && e.restartOffer !== undefined)))
      )
      const offer = restart.restartOffer!
      expect(offer.attempt).toBe("t1:r1")
      // Sends are taken while the path is repaired.
      yield* a.transport.send(bob, customEnvelope(alice, "during", "sent while restarting"))
      const answer = yield* b.transport.answer(remoteOf(a), offer.attempt, offer.description)
      // The same offer read again (presence is re-read) gets the same answer.
      expect(yield* b.transport.answer(remoteOf(a), offer.attempt, offer.description)).toEqual(answer)
      yield* a.transport.complete(remoteOf(b), offer.attempt, answer)
      const atB = yield* received(b, 1, envelopes)
      expect(atB.map((e) => e.id)).toEqual(["during"])
      yield* eventually(a.internals.path(bob).pipe(Effect.map(Option.filter((p) => p.iceRestarts >= 1))))
      const path = Option.getOrThrow(yield* a.internals.path(bob))
      expect(path.attempt).toBe("t1")
      expect(yield* stateLog(a.events)).toEqual(expect.arrayContaining(["connecting", "open", "restarting", "open"]))
      // Never closed or replaced: one connection on each side all along.
      expect((yield* stateLog(a.events)).filter((s) => s === "closed" || s === "failed")).toEqual([])
      expect(yield* a.internals.connectionCount).toBe(1)
      yield* b.transport.send(alice, customEnvelope(bob, "after", "after the restart"))
      expect((yield* received(a, 1, envelopes)).map((e) => e.id)).toEqual(["after"])
    })
  )

  it.scopedLive("a restart offer that does not prove the published fingerprint is refused and the channel stays", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const b = yield* makeNode(bob)
      yield* connect(a, b, "t1")
      const pcA = Option.getOrThrow(yield* a.internals.peerConnection(bob))
      // A restart offer made outside the session's identity carries no signed binding.
      const forged = yield* Effect.promise(() => pcA.createOffer({ iceRestart: true }))
      const refused = yield* Effect.flip(b.transport.answer(remoteOf(a), "t1:r1", { type: "offer", sdp: forged.sdp ?? "" }))
      expect(refused.reason).toBe("fingerprint-mismatch")
      expect(Option.getOrThrow(yield* b.internals.state(alice))).toBe("open")
      yield* a.transport.send(bob, customEnvelope(alice, "still", "still open"))
      expect((yield* received(b, 1, envelopes)).map((e) => e.id)).toEqual(["still"])
    })
  )
})
