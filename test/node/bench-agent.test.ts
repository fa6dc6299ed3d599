/**
 * The benchmark agent's bulk sizing (issue 10 §5): in "envelope" mode each bulk envelope's
 * encoded text fits the frame size asked for, so the transfer moves one frame per envelope,
 * as the bare loop does; in "payload" mode the payload is the size asked for.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream } from "effect"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { encodeEnvelope } from "../../src/domain/envelope.js"
import { makePeerId, samePeer } from "../../src/domain/identity.js"
import { BENCH, startBenchAgent } from "../../src/node/bench-agent.js"

const alice = makePeerId("alice", "s-alice-1")
const bob = makePeerId("bob", "s-bob-1")

/** Two agents on a memory network with one open channel, and every bulk envelope bob receives, encoded. */
const setup = Effect.gen(function* () {
  const network = yield* MemoryNetwork.make({ latencyMs: 1, jitterMs: 0 })
  const a = yield* network.attach(alice)
  const b = yield* network.attach(bob)
  const received: Array<string> = []
  yield* Effect.forkScoped(
    Stream.runForEach(yield* b.incoming, (i) =>
      Effect.sync(() => {
        if (i._tag === "Envelope" && i.envelope.type === "custom" && i.envelope.payload.name === BENCH.bulk) received.push(encodeEnvelope(i.envelope))
      })
    )
  )
  const opened = yield* Effect.fork(Stream.runHead(Stream.filter(yield* a.events, (e) => e.state === "open" && samePeer(e.peer, bob))))
  const offer = yield* a.offer({ peer: bob, fingerprint: Option.some(b.fingerprint) }, "t1")
  const answer = yield* b.answer({ peer: alice, fingerprint: Option.some(a.fingerprint) }, "t1", offer)
  yield* a.complete({ peer: bob, fingerprint: Option.some(b.fingerprint) }, "t1", answer)
  yield* Fiber.join(opened)
  const agent = yield* startBenchAgent(alice, a)
  yield* startBenchAgent(bob, b)
  return { agent, received }
})

describe("bench agent bulk sizing", () => {
  it.scopedLive("envelope mode: every envelope's text is within the frame size and close to it; the result counts payload bytes", () =>
    Effect.gen(function* () {
      const { agent, received } = yield* setup
      const result = yield* agent.bulk(bob, 40, 65_536, "envelope")
      expect(result.received).toBe(40)
      expect(received).toHaveLength(40)
      for (const text of received) {
        expect(text.length).toBeLessThanOrEqual(65_536)
        expect(text.length).toBeGreaterThan(65_536 - 32)
      }
      expect(result.bytes).toBeLessThan(65_536 - 64)
      expect(result.bytes).toBeGreaterThan(65_536 - 512)
    })
  )

  it.scopedLive("payload mode: the payload is the size asked for, so the envelope is larger", () =>
    Effect.gen(function* () {
      const { agent, received } = yield* setup
      const result = yield* agent.bulk(bob, 5, 4_096)
      expect(result).toMatchObject({ received: 5, bytes: 4_096 })
      for (const text of received) expect(text.length).toBeGreaterThan(4_096)
    })
  )
})
