/**
 * The PeerTransport port on the W3C RTCPeerConnection API. The platform's
 * globals are injected (`node.ts` for @roamhq/wrtc, `browser.ts` for a page), so
 * the same code runs in both. One connection per peer: a newer attempt replaces
 * an older one, and only the current connection of a peer may report or remove it.
 */
import { Context, Data, Effect, Layer, Option, PubSub, type Scope } from "effect"
import { encodeEnvelope, exceedsUtf8, MAX_ENVELOPE_BYTES, type Description, type Envelope } from "../../domain/envelope.js"
import { subscribeTo } from "../../ports/subscription.js"
import { peerKey, type PeerId } from "../../domain/identity.js"
import { isOfferer } from "../../domain/signaling-roles.js"
import { restartBase } from "../../domain/ice-restart.js"
import {
  PeerTransport,
  TransportError,
  type ChannelEvent,
  type ChannelState,
  type Incoming,
  type PeerTransportService,
  type RemotePeer
} from "../../ports/PeerTransport.js"
import { certificateIdentity, checkFingerprint, sdpProblem, signingIdentity, type SessionIdentity } from "./fingerprint.js"
import type { OutFrame } from "./framing.js"
import { PeerConnection, type ChannelStats } from "./peer-connection.js"
import type { CandidatePath } from "./candidate-path.js"
import { defaultTuning, type Tuning } from "./tuning.js"

/** The platform's WebRTC globals: a browser's `globalThis`, or @roamhq/wrtc's exports. */
export interface RtcGlobals {
  readonly RTCPeerConnection: {
    new (config?: RTCConfiguration): RTCPeerConnection
    /** Present where a session may pin one certificate for all its connections (browsers). */
    readonly generateCertificate?: (keygen: AlgorithmIdentifier | EcKeyGenParams) => Promise<RTCCertificate>
  }
}

/** Configuration of the WebRTC transport. */
export interface WebRtcOptions {
  /** This session; decides the polite side of renegotiation. */
  readonly self: PeerId
  readonly rtc: RtcGlobals
  /** STUN and TURN servers (TURN with `username`/`credential`). */
  readonly iceServers?: ReadonlyArray<RTCIceServer>
  /** "relay" forces every connection through TURN. */
  readonly iceTransportPolicy?: RTCIceTransportPolicy
  /** Overrides of the default timers and limits (tests shorten them). */
  readonly tuning?: Partial<Tuning>
}

/** The transport could not be built (no certificate or identity key). */
export class WebRtcSetupError extends Data.TaggedError("WebRtcSetupError")<{ readonly detail: string }> {}

/** Introspection and fault injection beyond the port, for tests, benchmarks and calls. */
export interface WebRtcInternalsService {
  /** Number of connections held (any state). */
  readonly connectionCount: Effect.Effect<number>
  /** The RTCPeerConnection of the current connection to `peer` (calls add tracks to it). */
  readonly peerConnection: (peer: PeerId) => Effect.Effect<Option.Option<RTCPeerConnection>>
  /** State of the current connection to `peer`, if any. */
  readonly state: (peer: PeerId) => Effect.Effect<Option.Option<ChannelState>>
  /** Flow-control figures of the channel to `peer`. */
  readonly stats: (peer: PeerId) => Effect.Effect<Option.Option<ChannelStats>>
  /** The network path of the connection to `peer` (its selected candidate pair), its attempt and ICE restarts so far. */
  readonly path: (peer: PeerId) => Effect.Effect<Option.Option<ConnectionPath>>
  /** Puts a raw frame on the channel to `peer`, bypassing encoding. */
  readonly sendRaw: (peer: PeerId, frame: OutFrame) => Effect.Effect<void, TransportError>
}

/** Where a connection's packets go, and how it got there. */
export interface ConnectionPath extends CandidatePath {
  readonly attempt: string
  /** ICE restarts that brought the path back (the connection and its channel were kept). */
  readonly iceRestarts: number
}

/** Internals of the WebRTC transport. */
export class WebRtcInternals extends Context.Tag("skygit/WebRtcInternals")<WebRtcInternals, WebRtcInternalsService>() {}

/** Creates the session identity: a pinned certificate where possible, else a signing key. */
const makeIdentity = (rtc: RtcGlobals): Effect.Effect<SessionIdentity, WebRtcSetupError> => {
  const generate = rtc.RTCPeerConnection.generateCertificate
  const identity =
    generate === undefined
      ? signingIdentity
      : Effect.tryPromise(() => generate.call(rtc.RTCPeerConnection, { name: "ECDSA", namedCurve: "P-256" })).pipe(
          Effect.flatMap(certificateIdentity)
        )
  return Effect.mapError(identity, (e) => new WebRtcSetupError({ detail: String(e) }))
}

/** Builds the transport and its internals; every connection closes with the scope. */
export const makeWebRtcTransport = (
  options: WebRtcOptions
): Effect.Effect<{ readonly transport: PeerTransportService; readonly internals: WebRtcInternalsService }, WebRtcSetupError, Scope.Scope> =>
  Effect.gen(function* () {
    const tuning: Tuning = { ...defaultTuning, ...options.tuning }
    const identity = yield* makeIdentity(options.rtc)
    const runtime = yield* Effect.runtime<never>()
    // Platform callbacks offer to these directly (`unsafeOffer`, synchronous like the callback):
    // running `PubSub.publish` through the runtime built a fiber for every received frame.
    const events = yield* PubSub.unbounded<ChannelEvent>()
    const incoming = yield* PubSub.unbounded<Incoming>()
    const connections = new Map<string, PeerConnection>()
    const config: RTCConfiguration = {
      iceServers: [...(options.iceServers ?? [])],
      iceTransportPolicy: options.iceTransportPolicy ?? "all"
    }

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const conn of connections.values()) conn.close("closed")
        connections.clear()
      }).pipe(Effect.zipRight(PubSub.shutdown(events)), Effect.zipRight(PubSub.shutdown(incoming)))
    )

    const current = (peer: PeerId): PeerConnection | undefined => connections.get(peerKey(peer))

    /** Starts a connection for `attempt`, replacing (silently) whatever the peer had. */
    const start = (remote: RemotePeer, attempt: string): PeerConnection => {
      const key = peerKey(remote.peer)
      const previous = connections.get(key)
      // Remove before closing, so the old connection's "closed" is not reported as the peer's state.
      connections.delete(key)
      previous?.close("closed")
      const conn: PeerConnection = new PeerConnection(
        {
          rtc: options.rtc.RTCPeerConnection,
          config,
          identity,
          remote,
          attempt,
          polite: !isOfferer(options.self, remote.peer),
          tuning,
          hooks: {
            onState: (state) => {
              if (connections.get(key) !== conn) return
              if (state === "closed" || state === "failed") connections.delete(key)
              events.unsafeOffer({ peer: remote.peer, attempt, state } satisfies ChannelEvent)
            },
            onIncoming: (item) => {
              if (connections.get(key) === conn) incoming.unsafeOffer(item)
            },
            onRestartOffer: (restart, description) => {
              if (connections.get(key) !== conn) return
              events.unsafeOffer({ peer: remote.peer, attempt, state: "restarting", restartOffer: { attempt: restart, description } } satisfies ChannelEvent)
            }
          }
        },
        runtime
      )
      connections.set(key, conn)
      events.unsafeOffer({ peer: remote.peer, attempt, state: "connecting" } satisfies ChannelEvent)
      return conn
    }

    /** Fails the attempt's connection if it is still current, and passes the error on. */
    const abandon = (conn: PeerConnection) => (error: TransportError) =>
      Effect.sync(() => conn.close("failed")).pipe(Effect.zipRight(Effect.fail(error)))

    const checkRemote = (remote: RemotePeer, description: Description, expected: "offer" | "answer") =>
      Effect.gen(function* () {
        const problem = sdpProblem(description.sdp, expected, description.type)
        if (problem !== undefined) return yield* new TransportError({ peer: remote.peer, reason: "bad-description", detail: problem })
        if (!(yield* checkFingerprint(description.sdp, remote.fingerprint))) {
          return yield* new TransportError({
            peer: remote.peer,
            reason: "fingerprint-mismatch",
            detail: "the SDP does not prove the fingerprint published for this peer"
          })
        }
      })

    /** The current connection whose ICE restart `attempt` names, if it does name one. */
    const restartOf = (remote: RemotePeer, attempt: string): Option.Option<PeerConnection> | undefined => {
      const base = restartBase(attempt)
      if (base === undefined) return undefined
      const conn = current(remote.peer)
      return conn !== undefined && conn.params.attempt === base ? Option.some(conn) : Option.none()
    }
    const notHeld = (remote: RemotePeer, attempt: string) =>
      new TransportError({ peer: remote.peer, reason: "bad-description", detail: `an ICE restart (${attempt}) of a connection this session does not hold` })

    const sameAttempt = (remote: RemotePeer, attempt: string): Option.Option<Description> => {
      const conn = current(remote.peer)
      return conn !== undefined && conn.params.attempt === attempt && conn.localDescription !== undefined
        ? Option.some(conn.localDescription)
        : Option.none()
    }

    const transport: PeerTransportService = {
      fingerprint: identity.fingerprint,
      offer: (remote, attempt) =>
        Effect.suspend(() =>
          Option.match(sameAttempt(remote, attempt), {
            onSome: Effect.succeed,
            onNone: () => {
              const conn = start(remote, attempt)
              return conn.createOffer().pipe(Effect.catchAll(abandon(conn)))
            }
          })
        ),
      answer: (remote, attempt, offer) =>
        checkRemote(remote, offer, "offer").pipe(
          Effect.zipRight(
            Effect.suspend(() => {
              const restart = restartOf(remote, attempt)
              if (restart !== undefined) {
                return Option.match(restart, { onNone: () => Effect.fail(notHeld(remote, attempt)), onSome: (conn) => conn.answerRestart(attempt, offer) })
              }
              return Option.match(sameAttempt(remote, attempt), {
                onSome: Effect.succeed,
                onNone: () => {
                  const conn = start(remote, attempt)
                  return conn.acceptOffer(offer).pipe(Effect.catchAll(abandon(conn)))
                }
              })
            })
          )
        ),
      complete: (remote, attempt, answer) => {
        const restart = restartOf(remote, attempt)
        if (restart !== undefined) {
          return checkRemote(remote, answer, "answer").pipe(
            Effect.zipRight(Option.match(restart, { onNone: () => Effect.fail(notHeld(remote, attempt)), onSome: (conn) => conn.completeRestart(attempt, answer) }))
          )
        }
        return checkRemote(remote, answer, "answer").pipe(
          // A refused answer ends its attempt at once: the connection and its sockets go now.
          Effect.tapError(() =>
            Effect.sync(() => {
              const conn = current(remote.peer)
              if (conn !== undefined && conn.params.attempt === attempt && conn.state !== "open") conn.close("failed")
            })
          ),
          Effect.zipRight(
            Effect.suspend(() => {
              const conn = current(remote.peer)
              if (conn === undefined || conn.params.attempt !== attempt) {
                return Effect.fail(new TransportError({ peer: remote.peer, reason: "bad-description", detail: `an answer to attempt ${attempt}, which this session is not making` }))
              }
              return conn.acceptAnswer(answer).pipe(Effect.catchAll(abandon(conn)))
            })
          )
        )
      },
      send: (peer, envelope: Envelope) =>
        Effect.suspend(() => {
          // Same order of checks as the memory adapter, so both fail alike under the contract suite.
          const conn = current(peer)
          // While ICE restarts, sends wait in SCTP's buffer and go out once the path is back.
          if (conn === undefined || (conn.state !== "open" && conn.state !== "restarting")) {
            return Effect.fail(new TransportError({ peer, reason: "no-connection", detail: "no open channel to this peer" }))
          }
          const text = encodeEnvelope(envelope)
          if (exceedsUtf8(text, MAX_ENVELOPE_BYTES)) {
            return Effect.fail(new TransportError({ peer, reason: "oversized", detail: `envelope larger than ${MAX_ENVELOPE_BYTES} bytes` }))
          }
          return conn.send(text)
        }),
      close: (peer) => Effect.sync(() => current(peer)?.close("closed")),
      incoming: subscribeTo(incoming),
      events: subscribeTo(events)
    }

    const internals: WebRtcInternalsService = {
      connectionCount: Effect.sync(() => connections.size),
      peerConnection: (peer) => Effect.sync(() => Option.fromNullable(current(peer)?.pc)),
      state: (peer) => Effect.sync(() => Option.fromNullable(current(peer)?.state)),
      stats: (peer) => Effect.sync(() => Option.fromNullable(current(peer)?.stats)),
      path: (peer) =>
        Effect.suspend(() => {
          const conn = current(peer)
          if (conn === undefined) return Effect.succeed(Option.none())
          return Effect.map(conn.path(), (p) => Option.map(Option.fromNullable(p), (path): ConnectionPath => ({ ...path, attempt: conn.params.attempt, iceRestarts: conn.restarts })))
        }),
      sendRaw: (peer, frame) =>
        Effect.suspend(() => {
          const conn = current(peer)
          return conn === undefined
            ? Effect.fail(new TransportError({ peer, reason: "no-connection", detail: "no connection to this peer" }))
            : conn.sendRaw(frame)
        })
    }
    return { transport, internals }
  })

/** The PeerTransport with its internals (Media needs them); closes every connection with its scope. */
export const layerWebRtc = (options: WebRtcOptions): Layer.Layer<PeerTransport | WebRtcInternals, WebRtcSetupError> =>
  Layer.scopedContext(
    Effect.map(makeWebRtcTransport(options), ({ internals, transport }) =>
      Context.make(PeerTransport, transport).pipe(Context.add(WebRtcInternals, internals))
    )
  )
