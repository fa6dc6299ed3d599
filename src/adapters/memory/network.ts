/**
 * A simulated network for PeerTransport: configurable latency, jitter, frame loss
 * and partitions, deterministic for a seed. Connections follow the offer/answer
 * shape of WebRTC (the "SDP" names the attempt and the session's fingerprint), open
 * only when both sides completed, and fail after a consent timeout when the other
 * side crashes or a partition cuts them. Frames are real text, decoded by the
 * domain like on a data channel, so hostile input takes the real path.
 */
import { Effect, Either, Fiber, FiberSet, Option, PubSub, Queue, Schema, type Scope } from "effect"
import {
  checkSender,
  decodeEnvelope,
  encodeEnvelope,
  exceedsUtf8,
  MAX_ENVELOPE_BYTES,
  type Description,
  type Envelope,
  type EnvelopeRejected
} from "../../domain/envelope.js"
import { subscribeTo } from "../../ports/subscription.js"
import { PeerId, peerKey, type PeerId as Peer } from "../../domain/identity.js"
import {
  TransportError,
  type ChannelEvent,
  type Incoming,
  type PeerTransportService,
  type RemotePeer
} from "../../ports/PeerTransport.js"

/** How a simulated network behaves. */
export interface NetworkOptions {
  /** One-way latency of a frame. */
  readonly latencyMs: number
  /** Extra latency drawn uniformly in [0, jitterMs). */
  readonly jitterMs: number
  /** Probability that one frame is lost. */
  readonly loss: number
  /** Seed of the network's random choices. */
  readonly seed: number
  /** How long a connection survives a silent peer (ICE consent freshness) before it fails. */
  readonly consentTimeoutMs: number
}

/** A LAN-like default: 20 ms one way, no loss. */
export const defaultNetworkOptions: NetworkOptions = { latencyMs: 20, jitterMs: 10, loss: 0, seed: 1, consentTimeoutMs: 5_000 }

/** Counters of what crossed the network. */
export interface NetworkStats {
  framesSent: number
  framesDelivered: number
  framesDropped: number
  /** Envelopes delivered by kind: a chat payload's tag (`message`, `held`...), else the envelope's type. */
  readonly deliveredByKind: Map<string, number>
}

const SdpBody = Schema.parseJson(Schema.Struct({ attempt: Schema.String, from: PeerId, fingerprint: Schema.String }))
const decodeSdp = Schema.decodeUnknownEither(SdpBody)
const SDP_PREFIX = "memory-sdp:"

interface Link {
  readonly remote: Peer
  readonly attempt: string
  state: "offered" | "answered" | "open"
  /** When the last frame on this link (this direction) is due, so frames stay in order. */
  lastDue: number
}

/** A frame on its way to an endpoint. */
interface Frame {
  readonly due: number
  readonly from: Peer
  readonly attempt: string
  readonly text: string
}

interface Endpoint {
  readonly self: Peer
  readonly fingerprint: string
  readonly links: Map<string, Link>
  /** Frames in flight to this endpoint, delivered in order by one fiber (no fiber per frame). */
  readonly inbox: Queue.Queue<Frame>
  readonly incoming: PubSub.PubSub<Incoming>
  readonly events: PubSub.PubSub<ChannelEvent>
  alive: boolean
}

/**
 * Characters of frame text whose decoding the network remembers. A broadcast reaches
 * every neighbor as the same text at about the same time, so a small memory saves
 * most decodes; past this much it starts afresh.
 */
export const DECODE_MEMORY_CHARS = 8 * 1024 * 1024

/** A deterministic pseudo-random generator (mulberry32). */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One simulated network that many peers attach to. */
export class MemoryNetwork {
  readonly stats: NetworkStats = { framesSent: 0, framesDelivered: 0, framesDropped: 0, deliveredByKind: new Map() }
  private readonly endpoints = new Map<string, Endpoint>()
  private readonly encoded = new WeakMap<Envelope, string>()
  private decoded = new Map<string, Either.Either<Envelope, EnvelopeRejected>>()
  private decodedChars = 0
  private readonly random: () => number
  private side: ((peer: Peer) => number) | undefined = undefined
  /** Frames sent across the partition, in order, waiting for the heal (see `heal`). */
  private held: Array<{ readonly ep: Endpoint; readonly link: Link; readonly text: string }> = []

  private constructor(
    readonly options: NetworkOptions,
    private readonly fibers: FiberSet.FiberSet
  ) {
    this.random = seededRandom(options.seed)
  }

  /** A network whose background work lives as long as the current scope. */
  static make(options: Partial<NetworkOptions> = {}): Effect.Effect<MemoryNetwork, never, Scope.Scope> {
    return Effect.map(FiberSet.make(), (fibers) => new MemoryNetwork({ ...defaultNetworkOptions, ...options }, fibers))
  }

  /** Whether frames can pass between two peers now. */
  reachable(a: Peer, b: Peer): boolean {
    return this.side === undefined || this.side(a) === this.side(b)
  }

  /** Splits the network: `side` numbers each peer's side; links across sides fail after the consent timeout. */
  partition(side: (peer: Peer) => number): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.side = side
      const cut: Array<[Endpoint, Link]> = []
      for (const ep of this.endpoints.values()) {
        for (const link of ep.links.values()) if (!this.reachable(ep.self, link.remote)) cut.push([ep, link])
      }
      return this.later(this.options.consentTimeoutMs, () =>
        Effect.forEach(cut, ([ep, link]) => (this.reachable(ep.self, link.remote) ? Effect.void : this.drop(ep, link, "failed")), {
          discard: true
        })
      )
    })
  }

  /**
   * Ends a partition. A frame sent across it on a link that still stands arrives now: a data
   * channel is reliable and its SCTP retransmits, so a cut shorter than the consent timeout
   * delays frames rather than losing them. Frames of links the cut failed are gone.
   */
  readonly heal: Effect.Effect<void> = Effect.clockWith((clock) =>
    Effect.sync(() => {
      this.side = undefined
      const held = this.held
      this.held = []
      for (const { ep, link, text } of held) {
        const to = this.endpoints.get(peerKey(link.remote))
        if (!ep.alive || to === undefined || ep.links.get(peerKey(link.remote)) !== link || this.random() < this.options.loss) {
          this.stats.framesDropped += 1
          continue
        }
        this.enqueue(to, ep, link, text, clock.unsafeCurrentTimeMillis())
      }
    })
  )

  /** Kills a peer without any goodbye: its links fail on the other side after the consent timeout. */
  crash(peer: Peer): Effect.Effect<void> {
    return Effect.suspend(() => {
      const ep = this.endpoints.get(peerKey(peer))
      if (ep === undefined) return Effect.void
      ep.alive = false
      this.endpoints.delete(peerKey(peer))
      const remotes = Array.from(ep.links.values())
      ep.links.clear()
      return this.later(this.options.consentTimeoutMs, () =>
        Effect.forEach(remotes, (link) => this.dropRemote(ep.self, link), { discard: true })
      )
    })
  }

  /** Test hook: delivers raw text on the connection from `from` to `to`, as a misbehaving peer would send it. */
  injectRaw(from: Peer, to: Peer, text: string): Effect.Effect<void> {
    return Effect.suspend(() => {
      const ep = this.endpoints.get(peerKey(to))
      const link = ep?.links.get(peerKey(from))
      if (ep === undefined || link === undefined || link.state !== "open") return Effect.void
      return this.deliver(ep, from, text)
    })
  }

  /** Attaches a session; its connections close when the scope closes. */
  attach(self: Peer, fingerprint?: string): Effect.Effect<PeerTransportService, never, Scope.Scope> {
    return Effect.gen(this, function* () {
      const incoming = yield* PubSub.unbounded<Incoming>()
      const events = yield* PubSub.unbounded<ChannelEvent>()
      const inbox = yield* Queue.unbounded<Frame>()
      const ep: Endpoint = {
        self,
        fingerprint: fingerprint ?? `sim-${peerKey(self)}`,
        links: new Map(),
        inbox,
        incoming,
        events,
        alive: true
      }
      this.endpoints.set(peerKey(self), ep)
      // Interruptible whoever attaches (a session may be started from an uninterruptible region).
      const courier = yield* FiberSet.run(this.fibers, Effect.interruptible(this.courier(ep)))
      yield* Effect.addFinalizer(() => Effect.zipRight(this.detach(ep), Fiber.interrupt(courier)))
      return this.service(ep)
    })
  }

  private service(ep: Endpoint): PeerTransportService {
    const fail = (peer: Peer, reason: TransportError["reason"], detail: string) =>
      Effect.fail(new TransportError({ peer, reason, detail }))
    const parse = (remote: RemotePeer, description: Description, type: Description["type"]) => {
      const body = decodeSdp(description.sdp.startsWith(SDP_PREFIX) ? description.sdp.slice(SDP_PREFIX.length) : "")
      if (Either.isLeft(body) || description.type !== type) return fail(remote.peer, "bad-description", `expected a simulated ${type}`)
      if (peerKey(body.right.from) !== peerKey(remote.peer)) {
        return fail(remote.peer, "bad-description", `${type} was made by ${peerKey(body.right.from)}`)
      }
      if (Option.isSome(remote.fingerprint) && remote.fingerprint.value !== body.right.fingerprint) {
        return fail(remote.peer, "fingerprint-mismatch", `${type} fingerprint differs from the one ${remote.peer.username} published`)
      }
      return Effect.succeed(body.right)
    }
    const describe = (type: Description["type"], attempt: string): Description => ({
      type,
      sdp: SDP_PREFIX + JSON.stringify({ attempt, from: ep.self, fingerprint: ep.fingerprint })
    })
    const start = (remote: Peer, attempt: string, state: Link["state"]) =>
      Effect.suspend(() => {
        const old = ep.links.get(peerKey(remote))
        ep.links.set(peerKey(remote), { remote, attempt, state, lastDue: 0 })
        return Effect.zipRight(
          old !== undefined && old.state === "open" ? this.dropRemote(ep.self, old) : Effect.void,
          PubSub.publish(ep.events, { peer: remote, attempt, state: "connecting" } satisfies ChannelEvent)
        )
      })

    return {
      fingerprint: ep.fingerprint,
      offer: (remote, attempt) => Effect.as(start(remote.peer, attempt, "offered"), describe("offer", attempt)),
      answer: (remote, attempt, offer) =>
        Effect.flatMap(parse(remote, offer, "offer"), (body) =>
          body.attempt !== attempt
            ? fail(remote.peer, "bad-description", "offer of another attempt")
            : Effect.as(start(remote.peer, attempt, "answered"), describe("answer", attempt))
        ),
      complete: (remote, attempt, answer) =>
        Effect.flatMap(parse(remote, answer, "answer"), (body) => {
          const link = ep.links.get(peerKey(remote.peer))
          if (link === undefined || link.attempt !== attempt || body.attempt !== attempt || link.state !== "offered") {
            return fail(remote.peer, "bad-description", "answer to an attempt this session is not making")
          }
          return this.later(2 * this.options.latencyMs, () => this.connect(ep, remote.peer, attempt))
        }),
      send: (peer, envelope) =>
        Effect.suspend(() => {
          const link = ep.links.get(peerKey(peer))
          if (!ep.alive || link === undefined || link.state !== "open") return fail(peer, "no-connection", "no open channel")
          const text = this.encode(envelope)
          if (exceedsUtf8(text, MAX_ENVELOPE_BYTES)) return fail(peer, "oversized", `envelope over ${MAX_ENVELOPE_BYTES} bytes`)
          return this.transmit(ep, link, text)
        }),
      close: (peer) =>
        Effect.suspend(() => {
          const link = ep.links.get(peerKey(peer))
          if (link === undefined) return Effect.void
          return Effect.zipRight(this.drop(ep, link, "closed"), this.dropRemote(ep.self, link))
        }),
      incoming: subscribeTo(ep.incoming),
      events: subscribeTo(ep.events)
    }
  }

  private connect(ep: Endpoint, remote: Peer, attempt: string): Effect.Effect<void> {
    return Effect.suspend(() => {
      const mine = ep.links.get(peerKey(remote))
      const other = this.endpoints.get(peerKey(remote))
      const theirs = other?.links.get(peerKey(ep.self))
      if (mine?.attempt !== attempt) return Effect.void
      if (!ep.alive || other === undefined || theirs?.attempt !== attempt || !this.reachable(ep.self, remote) || this.random() < this.options.loss) {
        // ICE never completes: both sides give up after the consent timeout.
        return this.later(this.options.consentTimeoutMs, () =>
          Effect.zipRight(
            ep.links.get(peerKey(remote))?.attempt === attempt ? this.drop(ep, mine, "failed") : Effect.void,
            other !== undefined && theirs?.attempt === attempt && other.links.get(peerKey(ep.self)) === theirs
              ? this.drop(other, theirs, "failed")
              : Effect.void
          )
        )
      }
      mine.state = "open"
      theirs.state = "open"
      return Effect.zipRight(
        PubSub.publish<ChannelEvent>(ep.events, { peer: remote, attempt: mine.attempt, state: "open" }),
        PubSub.publish<ChannelEvent>(other.events, { peer: ep.self, attempt: theirs.attempt, state: "open" })
      )
    })
  }

  /** One encoding per envelope, however many neighbors it is sent to (a broadcast sends one object). */
  private encode(envelope: Envelope): string {
    let text = this.encoded.get(envelope)
    if (text === undefined) {
      text = encodeEnvelope(envelope)
      this.encoded.set(envelope, text)
    }
    return text
  }

  private transmit(ep: Endpoint, link: Link, text: string): Effect.Effect<void> {
    return Effect.clockWith((clock) =>
      Effect.sync(() => {
        this.stats.framesSent += 1
        const to = this.endpoints.get(peerKey(link.remote))
        if (to !== undefined && !this.reachable(ep.self, link.remote)) {
          this.held.push({ ep, link, text })
          return
        }
        if (to === undefined || this.random() < this.options.loss) {
          this.stats.framesDropped += 1
          return
        }
        this.enqueue(to, ep, link, text, clock.unsafeCurrentTimeMillis())
      })
    )
  }

  /** Puts a frame on its way to `to`, after the latency and behind the link's earlier frames. */
  private enqueue(to: Endpoint, ep: Endpoint, link: Link, text: string, now: number): void {
    const delay = this.options.latencyMs + Math.floor(this.random() * this.options.jitterMs)
    const due = Math.max(now + delay, link.lastDue)
    link.lastDue = due
    Queue.unsafeOffer(to.inbox, { due, from: ep.self, attempt: link.attempt, text })
  }

  /** Delivers an endpoint's frames when they are due, if the connection they came on still stands. */
  private courier(ep: Endpoint): Effect.Effect<never> {
    // Written with combinators rather than a generator: this runs once per simulated frame.
    const handOver = (frame: Frame): Effect.Effect<void> => {
      const back = ep.links.get(peerKey(frame.from))
      if (!ep.alive || back === undefined || back.attempt !== frame.attempt || back.state !== "open") {
        this.stats.framesDropped += 1
        return Effect.void
      }
      return this.deliver(ep, frame.from, frame.text)
    }
    return Effect.forever(
      Effect.flatMap(Queue.take(ep.inbox), (frame) =>
        Effect.clockWith((clock) => {
          const wait = frame.due - clock.unsafeCurrentTimeMillis()
          return wait > 0 ? Effect.zipRight(Effect.sleep(wait), Effect.suspend(() => handOver(frame))) : handOver(frame)
        })
      )
    )
  }

  private deliver(to: Endpoint, from: Peer, text: string): Effect.Effect<void> {
    this.stats.framesDelivered += 1
    const accepted = Either.flatMap(this.decode(text), (envelope) => checkSender(from, envelope))
    if (Either.isRight(accepted)) {
      const kind = accepted.right.type === "chat" ? accepted.right.payload._tag : accepted.right.type
      this.stats.deliveredByKind.set(kind, (this.stats.deliveredByKind.get(kind) ?? 0) + 1)
    }
    return PubSub.publish<Incoming>(
      to.incoming,
      Either.isRight(accepted)
        ? { _tag: "Envelope", peer: from, envelope: accepted.right }
        : { _tag: "Rejected", peer: from, error: accepted.left }
    )
  }

  /**
   * Decodes a frame's text with the domain's decoder, once per distinct text: decoding is
   * pure, and the N-1 copies of a broadcast would otherwise be decoded N-1 times in this
   * one process where N real peers would each decode one. Every receiver still checks
   * the sender against its own connection.
   */
  private decode(text: string): Either.Either<Envelope, EnvelopeRejected> {
    let result = this.decoded.get(text)
    if (result === undefined) {
      result = decodeEnvelope(text)
      if (this.decodedChars + text.length > DECODE_MEMORY_CHARS) {
        this.decoded = new Map()
        this.decodedChars = 0
      }
      this.decoded.set(text, result)
      this.decodedChars += text.length
    }
    return result
  }

  /** Removes this side's link and tells this side. */
  private drop(ep: Endpoint, link: Link, state: "closed" | "failed"): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (ep.links.get(peerKey(link.remote)) !== link) return Effect.void
      ep.links.delete(peerKey(link.remote))
      return PubSub.publish<ChannelEvent>(ep.events, { peer: link.remote, attempt: link.attempt, state })
    })
  }

  /**
   * Tells the other side of a link, after the latency, that it closed: never before the
   * frames already sent on it, as a data channel's closing delivers what it has buffered
   * (a frame due after the close was dropped, so a leaving peer's hand-off could be lost).
   */
  private dropRemote(self: Peer, link: Link): Effect.Effect<void> {
    return Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => this.later(Math.max(this.options.latencyMs, link.lastDue - now), () => {
      const other = this.endpoints.get(peerKey(link.remote))
      const theirs = other?.links.get(peerKey(self))
      return other !== undefined && theirs !== undefined && theirs.attempt === link.attempt ? this.drop(other, theirs, "closed") : Effect.void
    }))
  }

  private detach(ep: Endpoint): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!ep.alive) return Effect.void
      ep.alive = false
      this.endpoints.delete(peerKey(ep.self))
      const links = Array.from(ep.links.values())
      ep.links.clear()
      return Effect.forEach(links, (link) => this.dropRemote(ep.self, link), { discard: true })
    })
  }

  private later(ms: number, effect: () => Effect.Effect<void>): Effect.Effect<void> {
    return Effect.asVoid(FiberSet.run(this.fibers, Effect.interruptible(Effect.zipRight(Effect.sleep(ms), Effect.suspend(effect)))))
  }
}
