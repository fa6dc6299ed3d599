import { createSocket } from "node:dgram"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { alice, bob, customEnvelope, envelopes, makeNode, received, remoteOf, waitState } from "./helpers.js"
import { awaitMessage, remoteJson, spawnPeer } from "./child.js"
import { startTurn } from "./turn.js"

describe("WebRTC transport across processes and through TURN", () => {
  it.scopedLive("two Node processes connect with SDP carried over stdio and exchange chat", () =>
    Effect.gen(function* () {
      const a = yield* makeNode(alice)
      const child = yield* spawnPeer(bob)
      const remoteB = { peer: bob, fingerprint: Option.some(child.fingerprint) }
      const offer = yield* a.transport.offer(remoteB, "p1")
      const { reply: answer } = yield* child.request({ cmd: "answer", remote: remoteJson(remoteOf(a)), attempt: "p1", description: offer })
      expect(answer?.type).toBe("answer")
      yield* a.transport.complete(remoteB, "p1", answer!)
      yield* waitState(a, bob, "open")
      yield* awaitMessage(child, (m) => (m.event === "open" ? true : undefined))
      yield* a.transport.send(bob, customEnvelope(alice, "c1", "hello from the parent"))
      const atChild = yield* awaitMessage(child, (m) => m.envelope as { id: string } | undefined)
      expect(atChild.id).toBe("c1")
      yield* child.tell({ cmd: "send", to: alice, envelope: customEnvelope(bob, "c2", "hello from the child") })
      const atParent = yield* received(a, 1, envelopes)
      expect(atParent.map((e) => e.id)).toEqual(["c2"])
    })
  )

  it.scopedLive("two peers connect through a real coturn with iceTransportPolicy relay", () =>
    Effect.gen(function* () {
      const turn = yield* startTurn
      const options = { iceServers: [turn.iceServer], iceTransportPolicy: "relay" as const }
      const a = yield* makeNode(alice, options)
      const b = yield* makeNode(bob, options)
      const offer = yield* a.transport.offer(remoteOf(b), "r1")
      // Relay-only gathering yields relay candidates and nothing else.
      expect(offer.sdp).toMatch(/typ relay/)
      expect(offer.sdp).not.toMatch(/typ host/)
      const answer = yield* b.transport.answer(remoteOf(a), "r1", offer)
      yield* a.transport.complete(remoteOf(b), "r1", answer)
      yield* waitState(a, bob, "open")
      yield* waitState(b, alice, "open")
      yield* a.transport.send(bob, customEnvelope(alice, "t1", "via turn"))
      expect((yield* received(b, 1, envelopes)).map((e) => e.id)).toEqual(["t1"])
    })
  )

  it.scopedLive("a description goes out once it holds a relayed candidate, though another TURN server never answers", () =>
    Effect.gen(function* () {
      const turn = yield* startTurn
      // A UDP port that takes TURN requests and never answers: its allocation keeps gathering
      // from completing for as long as the client retries.
      const silent = yield* Effect.acquireRelease(
        Effect.async<{ readonly port: number; readonly heard: () => number; readonly close: () => void }>((resume) => {
          const socket = createSocket("udp4")
          let heard = 0
          socket.on("message", () => void heard++)
          socket.bind(0, "127.0.0.1", () => resume(Effect.succeed({ port: socket.address().port, heard: () => heard, close: () => socket.close() })))
        }),
        (s) => Effect.sync(s.close)
      )
      const silentServer = { urls: `turn:127.0.0.1:${silent.port}?transport=udp`, username: "nobody", credential: "nothing" }
      // Without the cut the offer would wait for the gather timeout: ten minutes, past this test's.
      const options = { iceServers: [turn.iceServer, silentServer], iceTransportPolicy: "relay" as const, tuning: { iceGatherTimeoutMs: 600_000 } }
      const a = yield* makeNode(alice, options)
      const b = yield* makeNode(bob, options)
      const offer = yield* a.transport.offer(remoteOf(b), "g1")
      expect(offer.sdp).toMatch(/typ relay/)
      // The silent server was asked, and gathering had not completed when the offer went out.
      expect(silent.heard()).toBeGreaterThan(0)
      const pc = Option.getOrThrow(yield* a.internals.peerConnection(bob))
      expect(pc.iceGatheringState).toBe("gathering")
      const answer = yield* b.transport.answer(remoteOf(a), "g1", offer)
      expect(answer.sdp).toMatch(/typ relay/)
      yield* a.transport.complete(remoteOf(b), "g1", answer)
      yield* waitState(a, bob, "open")
      yield* waitState(b, alice, "open")
    })
  )
})
