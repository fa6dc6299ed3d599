import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Option, Ref, Scope } from "effect"
import { alice, bob, connect, customEnvelope, envelopes, eventually, makeNode, remoteOf, waitState } from "./helpers.js"
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

  // Regression (the e2e call step, flaky under load): a browser starved of CPU for longer than the
  // liveness timeout came back to find every channel silent, and its watchdog failed them all (a
  // call ended, everyone showed away) although the peers were alive and their frames were queued.
  it.scopedLive("a stall of this process longer than the liveness timeout does not fail a live channel", () =>
    Effect.gen(function* () {
      const tuning = { keepaliveIntervalMs: 200, livenessTimeoutMs: 1_000 }
      const a = yield* makeNode(alice, { tuning })
      const b = yield* makeNode(bob, { tuning })
      yield* connect(a, b)
      // Both ends stop running (one process): no pings go out and nothing is read, for 2.5 timeouts.
      const until = Date.now() + 2_500
      while (Date.now() < until) {
        // busy: the event loop is blocked, as a starved renderer's is
      }
      // Running again: a frame each way gets through on the same channels, or a channel is failed first.
      // Nor is its path taken for lost: no ICE restart ("restarting"), no failure.
      const lost = (node: typeof a) => Effect.map(Ref.get(node.events), Chunk.some((e) => e.state === "failed" || e.state === "closed" || e.state === "restarting"))
      const outcome = (node: typeof a, id: string) =>
        eventually(
          Effect.gen(function* () {
            if (yield* lost(node)) return Option.some("channel failed")
            return Chunk.some(yield* Ref.get(node.incoming), (i) => envelopes(i)?.id === id) ? Option.some("received") : Option.none()
          })
        )
      yield* Effect.ignore(a.transport.send(bob, customEnvelope(alice, "after-a", 1)))
      yield* Effect.ignore(b.transport.send(alice, customEnvelope(bob, "after-b", 2)))
      expect(yield* outcome(b, "after-a")).toBe("received")
      expect(yield* outcome(a, "after-b")).toBe("received")
      // Past the next watchdog ticks of both ends.
      yield* Effect.sleep(tuning.keepaliveIntervalMs * 3)
      for (const node of [a, b]) expect(yield* lost(node)).toBe(false)
      expect(Option.getOrUndefined(yield* a.internals.state(bob))).toBe("open")
      expect(Option.getOrUndefined(yield* b.internals.state(alice))).toBe("open")
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
