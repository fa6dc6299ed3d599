/**
 * Network benchmark.
 *
 *   npm run bench:net -- --peers N [--json] [--fast] [--rtt 200] [--bulk 2000] [--transfers 5] [--bulk-bytes N] [--joins 5] [--presence file|discussion] [--raw] [--trace FILE]
 *
 * Mesh run (default): a local hub on loopback and N headless Node peers in child processes
 * (src/node/bench-mesh.ts); prints {peers, fullMeshMs, rttMs, throughputMBps,
 * rawThroughputMBps (a bare @roamhq/wrtc loop, src/node/bench-raw.ts, alternated with the
 * mesh's transfers), githubWritesPerConnection, joinMs {discovered, firstOpen, fullMesh}
 * (newcomers joining the formed mesh one after another), rssMBPerPeer, details}.
 *
 * Raw run (`--raw` adds it under "raw"; `--raw-only` runs only it): this process and one
 * child (test/webrtc/fixtures/peer.ts), each with the bare WebRTC PeerTransport, no app
 * services. Measures connect time (offer until both channels open), RTT of small
 * envelopes, and throughput of 64 KiB envelopes. Its own counts: [--connects 5] [--raw-rtt 500].
 */
import { performance } from "node:perf_hooks"
import { Effect, Option, Queue, Stream } from "effect"
import { makePeerId } from "../src/domain/identity.js"
import type { Envelope } from "../src/domain/envelope.js"
import { nodeRtc } from "../src/adapters/webrtc/node.js"
import { makeWebRtcTransport } from "../src/adapters/webrtc/transport.js"
import { awaitMessage, remoteJson, spawnPeer } from "../test/webrtc/child.js"
import { DEFAULT_TRANSFERS, runMeshBench } from "../src/node/bench-mesh.js"

/** Size of one bulk envelope's payload. */
const BULK_PAYLOAD_BYTES = 64 * 1024

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at < 0 ? Number.NaN : Number(process.argv[at + 1])
  return Number.isFinite(value) && value > 0 ? value : fallback
}
const json = process.argv.includes("--json")
const connects = arg("connects", 5)
const rttSamples = arg("raw-rtt", 500)
/**
 * Envelopes of 64 KiB per throughput transfer: 131 MB, two to three seconds. Shorter transfers
 * (640 envelopes, about one second) measured mostly SCTP's ramp-up after an idle channel and
 * the odd retransmission stall, not what the channel carries.
 */
const bulkCount = arg("bulk", 2000)
const transfers = arg("transfers", DEFAULT_TRANSFERS)
/** A fixed payload per bulk envelope; by default each envelope fills one frame (src/node/bench-mesh.ts). */
const bulkBytes = process.argv.includes("--bulk-bytes") ? arg("bulk-bytes", 65_536) : undefined
const joins = process.argv.includes("--joins") ? Math.max(0, Number(process.argv[process.argv.indexOf("--joins") + 1]) || 0) : 5
const peers = arg("peers", 6)
const meshRtt = arg("rtt", 200)
const withRaw = process.argv.includes("--raw")
const rawOnly = process.argv.includes("--raw-only")
const fast = process.argv.includes("--fast")
const presenceAt = process.argv.indexOf("--presence")
const presence = presenceAt < 0 ? "file" : process.argv[presenceAt + 1]
if (presence !== "file" && presence !== "discussion") {
  console.error(`--presence must be file or discussion, got ${presence}`)
  process.exit(2)
}
const traceAt = process.argv.indexOf("--trace")
const trace = traceAt < 0 ? undefined : process.argv[traceAt + 1]

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(3))
}

const self = makePeerId("bench-a", "a")
const other = makePeerId("bench-b", "b")
const envelope = (id: string, name: string, data: unknown): Envelope => ({
  v: 1,
  id,
  type: "custom",
  from: self,
  to: null,
  timestamp: 0,
  payload: { name, data }
})

const bench = Effect.gen(function* () {
  const { internals, transport } = yield* makeWebRtcTransport({ self, rtc: nodeRtc })
  const replies = yield* Queue.unbounded<Envelope>()
  yield* Effect.forkScoped(
    Stream.runForEach(yield* transport.incoming, (i) => (i._tag === "Envelope" ? Queue.offer(replies, i.envelope) : Effect.void))
  )
  const child = yield* spawnPeer(other)
  const remote = { peer: other, fingerprint: Option.some(child.fingerprint) }
  const mine = remoteJson({ peer: self, fingerprint: Option.some(transport.fingerprint) })

  const connectMs: Array<number> = []
  for (let i = 0; i < connects; i++) {
    const start = performance.now()
    const offer = yield* transport.offer(remote, `c${i}`)
    const { reply } = yield* child.request({ cmd: "answer", remote: mine, attempt: `c${i}`, description: offer })
    if (reply === null) return yield* Effect.die(new Error("child refused the offer"))
    yield* transport.complete(remote, `c${i}`, reply)
    yield* awaitMessage(child, (m) => (m.event === "open" ? true : undefined))
    while (Option.getOrUndefined(yield* internals.state(other)) !== "open") yield* Effect.sleep(1)
    connectMs.push(performance.now() - start)
  }

  const rttMs: Array<number> = []
  for (let i = 0; i < rttSamples; i++) {
    const start = performance.now()
    yield* transport.send(other, envelope(`p${i}`, "ping", i))
    yield* Queue.take(replies)
    rttMs.push(performance.now() - start)
  }

  const payload = "x".repeat(BULK_PAYLOAD_BYTES)
  const start = performance.now()
  for (let i = 0; i < bulkCount; i++) yield* transport.send(other, envelope(`b${i}`, "bulk", payload))
  const sentAt = performance.now()
  yield* transport.send(other, envelope("end", "bulk", { end: true }))
  const done = yield* Queue.take(replies)
  const seconds = (performance.now() - start) / 1000
  const delivered = done.type === "custom" ? (done.payload.data as { count: number }).count - 1 : 0
  const stats = Option.getOrUndefined(yield* internals.stats(other))

  return {
    processes: 2,
    connectMs: { p50: percentile(connectMs, 50), p99: percentile(connectMs, 99), samples: connectMs.length },
    rttMs: { p50: percentile(rttMs, 50), p99: percentile(rttMs, 99), samples: rttMs.length },
    throughputMBps: Number(((delivered * BULK_PAYLOAD_BYTES) / 1e6 / seconds).toFixed(1)),
    bulk: {
      envelopes: delivered,
      envelopeBytes: BULK_PAYLOAD_BYTES,
      seconds: Number(seconds.toFixed(3)),
      // Time until the last send returned; the rest is the receiver catching up.
      sendSeconds: Number(((sentAt - start) / 1000).toFixed(3))
    },
    maxBufferedAmount: stats?.maxBufferedAmount ?? null
  }
})

const rawRun = () => Effect.runPromise(Effect.scoped(bench))

const main = async () => {
  if (rawOnly) return rawRun()
  const mesh = await runMeshBench({ peers, rttSamples: meshRtt, bulkCount, transfers, joins, fast, presence, ...(bulkBytes === undefined ? {} : { bulkBytes }), ...(trace === undefined ? {} : { trace }) })
  return withRaw ? { ...mesh, raw: await rawRun() } : mesh
}

main().then(
  (result) => {
    console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2))
    process.exit(0)
  },
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
