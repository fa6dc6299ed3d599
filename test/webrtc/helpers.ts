/**
 * Test helpers: transports on @roamhq/wrtc in one process, connected by handing
 * the offer and answer over directly, and observers of their streams.
 */
import { Chunk, Effect, Option, Ref, Schedule, Stream, type Scope } from "effect"
import type { Envelope } from "../../src/domain/envelope.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { CHUNK_HEADER_BYTES, FrameKind } from "../../src/adapters/webrtc/framing.js"
import { nodeRtc } from "../../src/adapters/webrtc/node.js"
import { makeWebRtcTransport, type WebRtcInternalsService, type WebRtcOptions } from "../../src/adapters/webrtc/transport.js"
import type { ChannelEvent, Incoming, PeerTransportService, RemotePeer } from "../../src/ports/PeerTransport.js"

/** Alice sorts before Bob, so Alice is the domain's offerer. */
export const alice = makePeerId("alice", "a1")
/** The other test peer. */
export const bob = makePeerId("bob", "b1")

/** A transport under test, with what it has emitted so far. */
export interface Node {
  readonly self: PeerId
  readonly transport: PeerTransportService
  readonly internals: WebRtcInternalsService
  readonly events: Ref.Ref<Chunk.Chunk<ChannelEvent>>
  readonly incoming: Ref.Ref<Chunk.Chunk<Incoming>>
}

/** Builds a transport for `self` and starts recording its streams. */
export const makeNode = (
  self: PeerId,
  options: Omit<WebRtcOptions, "self" | "rtc"> = {}
): Effect.Effect<Node, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const { internals, transport } = yield* makeWebRtcTransport({ ...options, self, rtc: nodeRtc })
    const events = yield* Ref.make(Chunk.empty<ChannelEvent>())
    const incoming = yield* Ref.make(Chunk.empty<Incoming>())
    yield* Effect.forkScoped(Stream.runForEach(yield* transport.events, (e) => Ref.update(events, Chunk.append(e))))
    yield* Effect.forkScoped(Stream.runForEach(yield* transport.incoming, (i) => Ref.update(incoming, Chunk.append(i))))
    return { self, transport, internals, events, incoming }
  })

/** What `of` is expected to be, as `by` sees it. */
export const remoteOf = (of: Node): RemotePeer => ({ peer: of.self, fingerprint: Option.some(of.transport.fingerprint) })

/** Polls until `check` holds; the test's own timeout bounds it. */
export const eventually = <A>(check: Effect.Effect<Option.Option<A>>): Effect.Effect<A> =>
  check.pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail("not yet" as const), onSome: Effect.succeed })),
    Effect.retry(Schedule.spaced(10)),
    Effect.orDie
  )

/** Waits until `node` holds an open connection to `peer`. */
export const waitState = (node: Node, peer: PeerId, state: string): Effect.Effect<void> =>
  eventually(node.internals.state(peer).pipe(Effect.map(Option.filter((s) => s === state))))

/** Offer from `a`, answer from `b`, complete on `a`; waits until both channels are open. */
export const connect = (a: Node, b: Node, attempt = "t1"): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    const offer = yield* a.transport.offer(remoteOf(b), attempt)
    const answer = yield* b.transport.answer(remoteOf(a), attempt, offer)
    yield* a.transport.complete(remoteOf(b), attempt, answer)
    yield* waitState(a, b.self, "open")
    yield* waitState(b, a.self, "open")
  })

/** Waits until `node` has received `count` items matching `pick`, and returns them. */
export const received = <A>(node: Node, count: number, pick: (i: Incoming) => A | undefined): Effect.Effect<ReadonlyArray<A>> =>
  eventually(
    Ref.get(node.incoming).pipe(
      Effect.map((all) => {
        const found = Chunk.toReadonlyArray(all).flatMap((i) => {
          const a = pick(i)
          return a === undefined ? [] : [a]
        })
        return found.length >= count ? Option.some(found) : Option.none()
      })
    )
  )

/** The envelopes received by `node`. */
export const envelopes = (i: Incoming): Envelope | undefined => (i._tag === "Envelope" ? i.envelope : undefined)

/** A custom envelope from `from` carrying `data`. */
export const customEnvelope = (from: PeerId, id: string, data: unknown): Envelope => ({
  v: 1,
  id,
  type: "custom",
  from,
  to: null,
  timestamp: 0,
  payload: { name: "test", data }
})

/** A binary chunk frame as the framing puts it on the wire (tests forge broken ones with it). */
export const chunkFrame = (id: number, index: number, count: number, payload: string | Uint8Array): Uint8Array<ArrayBuffer> => {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload
  const frame = new Uint8Array(CHUNK_HEADER_BYTES + body.length)
  const header = new DataView(frame.buffer)
  header.setUint8(0, FrameKind.Chunk)
  header.setUint32(1, id)
  header.setUint16(5, index)
  header.setUint16(7, count)
  frame.set(body, CHUNK_HEADER_BYTES)
  return frame
}
