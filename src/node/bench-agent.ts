/**
 * The benchmark's agent inside a Node peer: answers ping envelopes with pongs, counts
 * bulk envelopes, and runs the RTT and throughput measurements the benchmark asks for.
 * It reads the transport's incoming stream directly, so the figures are the channel's,
 * not the peer actor's queue.
 */
import { performance } from "node:perf_hooks"
import { Deferred, Effect, Stream, type Scope } from "effect"
import { encodeEnvelope, type Envelope } from "../domain/envelope.js"
import type { PeerId } from "../domain/identity.js"
import type { PeerTransportService, TransportError } from "../ports/PeerTransport.js"

/** Custom envelope names of the benchmark protocol. */
export const BENCH = { ping: "bench.ping", pong: "bench.pong", bulk: "bench.bulk", bulkEnd: "bench.bulk-end", bulkDone: "bench.bulk-done" } as const

/** Characters an envelope id's counter may grow by during one transfer (base 36: far beyond 36^8 envelopes). */
const BULK_ID_SLACK = 8

/** What a throughput run measured. */
export interface BulkResult {
  readonly sent: number
  readonly received: number
  readonly bytes: number
  readonly ms: number
  readonly mbps: number
}

/** The measurements one peer can run towards another. */
export interface BenchAgent {
  /** Round-trip times (ms) of `count` small envelopes sent one after another. */
  readonly rtt: (to: PeerId, count: number) => Effect.Effect<ReadonlyArray<number>, TransportError>
  /**
   * Sends `count` envelopes and waits until the receiver has counted them. `bytes` is each
   * envelope's payload, or with `measure: "envelope"` the whole encoded envelope's size (the
   * payload fills the rest), so that each envelope fills exactly one frame of that size.
   * `bytes` in the result is the payload per envelope, what the throughput counts.
   */
  readonly bulk: (to: PeerId, count: number, bytes: number, measure?: "payload" | "envelope") => Effect.Effect<BulkResult, TransportError>
}

/** Starts the agent of `self` on `transport` for as long as the scope lives. */
export const startBenchAgent = (self: PeerId, transport: PeerTransportService): Effect.Effect<BenchAgent, never, Scope.Scope> =>
  Effect.gen(function* () {
    let seq = 0
    const custom = (name: string, data: unknown, to: PeerId | null = null): Envelope => ({
      v: 1,
      id: `bench.${self.sessionId}.${(seq++).toString(36)}`,
      type: "custom",
      from: self,
      to: to === null ? null : { username: to.username, sessionId: to.sessionId },
      timestamp: Date.now(),
      payload: { name, data }
    })
    const waiting = new Map<string, Deferred.Deferred<unknown>>()
    let bulkReceived = 0
    const settle = (key: string, value: unknown) => {
      const d = waiting.get(key)
      if (d === undefined) return Effect.void
      waiting.delete(key)
      return Deferred.succeed(d, value)
    }
    const onEnvelope = (from: PeerId, e: Envelope): Effect.Effect<void> => {
      if (e.type !== "custom") return Effect.void
      const data = e.payload.data as { n?: number; received?: number }
      switch (e.payload.name) {
        case BENCH.ping:
          return Effect.ignore(transport.send(from, custom(BENCH.pong, { n: data.n }, from)))
        case BENCH.pong:
          return settle(`pong:${String(data.n)}`, undefined)
        case BENCH.bulk:
          bulkReceived += 1
          return Effect.void
        case BENCH.bulkEnd: {
          const received = bulkReceived
          bulkReceived = 0
          return Effect.ignore(transport.send(from, custom(BENCH.bulkDone, { received }, from)))
        }
        case BENCH.bulkDone:
          return settle("bulk", data.received ?? 0)
        default:
          return Effect.void
      }
    }
    yield* Effect.forkScoped(Stream.runForEach(yield* transport.incoming, (i) => (i._tag === "Envelope" ? onEnvelope(i.peer, i.envelope) : Effect.void)))

    const expect = (key: string) => Effect.tap(Deferred.make<unknown>(), (d) => Effect.sync(() => waiting.set(key, d)))

    const rtt = (to: PeerId, count: number) =>
      Effect.gen(function* () {
        const samples: Array<number> = []
        for (let n = 0; n < count; n++) {
          const reply = yield* expect(`pong:${n}`)
          const start = performance.now()
          yield* transport.send(to, custom(BENCH.ping, { n }, to))
          yield* Deferred.await(reply)
          samples.push(performance.now() - start)
        }
        return samples
      })

    /**
     * Room the envelope around a bulk payload takes: measured on an empty one, plus slack for
     * the envelope id's counter growing by a few digits during the transfer.
     */
    const bulkOverhead = (to: PeerId) => encodeEnvelope(custom(BENCH.bulk, "", to)).length + BULK_ID_SLACK

    const bulk = (to: PeerId, count: number, size: number, measure: "payload" | "envelope" = "payload") =>
      Effect.gen(function* () {
        const bytes = measure === "payload" ? size : Math.max(0, size - bulkOverhead(to))
        const payload = "x".repeat(bytes)
        const done = yield* expect("bulk")
        const start = performance.now()
        for (let i = 0; i < count; i++) yield* transport.send(to, custom(BENCH.bulk, payload, to))
        yield* transport.send(to, custom(BENCH.bulkEnd, {}, to))
        const received = (yield* Deferred.await(done)) as number
        const ms = performance.now() - start
        return { sent: count, received, bytes, ms, mbps: (received * bytes) / 1e6 / (ms / 1000) }
      })

    return { rtt, bulk }
  })
