import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Ref, Scope } from "effect"
import { alice, bob, connect, eventually, makeNode, remoteOf, waitState } from "./helpers.js"
import { awaitMessage, remoteJson, spawnPeer } from "./child.js"

describe("WebRTC transport, liveness and release", () => {
  it.scopedLive("a killed peer process is marked failed by keepalive silence, once its ICE restart went unanswered", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice, { tuning: { keepaliveIntervalMs: 250, livenessTimeoutMs: 1_500, iceRestartGraceMs: 250, iceRestartTimeoutMs: 2_500 } })
      const childScope = yield* Scope.make()
      const child = yield* Scope.extend(spawnPeer(bob), childScope)
      const remoteB = { peer: bob, fingerprint: Option.some(child.fingerprint) }
      const offer = yield* a.transport.offer(remoteB, "k1")
      const { reply } = yield* child.request({ cmd: "answer", remote: remoteJson(remoteOf(a)), attempt: "k1", description: offer })
      yield* a.transport.complete(remoteB, "k1", reply!)
      yield* waitState(a, bob, "open")
      yield* awaitMessage(child, (m) => (m.event === "open" ? true : undefined))
      // SIGKILL: no SCTP abort, no DTLS close; only silence tells.
      yield* Scope.close(childScope, Exit.void)
      const last = yield* eventually(
        Ref.get(a.events).pipe(Effect.map((c) => Chunk.findLast(c, (e) => e.state === "failed" || e.state === "closed")))
      )
      expect(last.state).toBe("failed")
      // The silence was first taken for a lost path: the offering side tried an ICE restart.
      const events = Chunk.toReadonlyArray(yield* Ref.get(a.events))
      expect(events.some((e) => e.state === "restarting" && e.restartOffer?.attempt === "k1:r1")).toBe(true)
      expect(yield* a.internals.connectionCount).toBe(0)
    })
  )

  it.live("closing the layer's scope closes every RTCPeerConnection", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const a = yield* Scope.extend(makeNode(alice), scope)
      const b = yield* Scope.extend(makeNode(bob), scope)
      yield* connect(a, b)
      const pcA = Option.getOrThrow(yield* a.internals.peerConnection(bob))
      const pcB = Option.getOrThrow(yield* b.internals.peerConnection(alice))
      yield* Scope.close(scope, Exit.void)
      expect(pcA.connectionState).toBe("closed")
      expect(pcB.connectionState).toBe("closed")
      expect(yield* a.internals.connectionCount).toBe(0)
    })
  )
})
