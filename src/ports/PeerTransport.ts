/**
 * PeerTransport port: data channels to other peers. Connections start from an
 * offer/answer exchange that the app carries over the presence channel or the
 * mesh; frames that arrive are decoded and checked against the connection's
 * identity before anyone sees them.
 */
import { Context, Schema, type Effect, type Option } from "effect"
import type { Description, Envelope, EnvelopeRejected } from "../domain/envelope.js"
import { PeerId } from "../domain/identity.js"
import { withCause } from "./errors.js"
import type { Subscribe } from "./subscription.js"

/** A connection could not be set up, or a send failed. */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  peer: PeerId,
  reason: Schema.Literal("no-connection", "bad-description", "fingerprint-mismatch", "failed", "oversized"),
  ...withCause
}) {}

/** What a remote peer is expected to be: its id and, when published, its DTLS fingerprint. */
export interface RemotePeer {
  readonly peer: PeerId
  readonly fingerprint: Option.Option<string>
}

/**
 * A connection's state as the transport sees it. "restarting": an open connection lost its
 * network path and is being repaired by an ICE restart; sends are buffered meanwhile, and it
 * becomes "open" again, or "failed" when the restart does not succeed in time.
 */
export type ChannelState = "connecting" | "open" | "restarting" | "closed" | "failed"

/** A state change of the connection to one peer. */
export interface ChannelEvent {
  readonly peer: PeerId
  /**
   * The attempt whose connection changed state. Events are delivered after the fact: by then the
   * app may have given the attempt up (and closed it, which reports "closed") or started another,
   * so it acts only on events of the attempt it holds.
   */
  readonly attempt: string
  readonly state: ChannelState
  /**
   * On the offering side of a "restarting" connection, once made: the ICE restart's offer,
   * under `restartAttempt(attempt, n)`, for the app to carry out of band (the connection's own
   * channel has no path); the answer comes back through `complete`.
   */
  readonly restartOffer?: { readonly attempt: string; readonly description: Description }
}

/** What arrives on a connection: an accepted envelope, or a rejected frame and why. */
export type Incoming =
  | { readonly _tag: "Envelope"; readonly peer: PeerId; readonly envelope: Envelope }
  | { readonly _tag: "Rejected"; readonly peer: PeerId; readonly error: EnvelopeRejected }

/** The data channels of one session. */
export interface PeerTransportService {
  /** The DTLS fingerprint this session presents; published in its presence entry. */
  readonly fingerprint: string
  /** Starts a connection and returns the complete offer (ICE gathered, bounded by a timeout). */
  readonly offer: (remote: RemotePeer, attempt: string) => Effect.Effect<Description, TransportError>
  /**
   * Answers an offer; refuses one whose fingerprint differs from the one published for `remote`.
   * An offer under `restartAttempt` of the current connection's attempt restarts its ICE in place.
   */
  readonly answer: (remote: RemotePeer, attempt: string, offer: Description) => Effect.Effect<Description, TransportError>
  /** Completes a connection this session offered (or its ICE restart, under the restart's attempt). */
  readonly complete: (remote: RemotePeer, attempt: string, answer: Description) => Effect.Effect<void, TransportError>
  /** Sends an envelope on the open connection to `peer`. */
  readonly send: (peer: PeerId, envelope: Envelope) => Effect.Effect<void, TransportError>
  /** Closes the connection to `peer`, if any. */
  readonly close: (peer: PeerId) => Effect.Effect<void>
  /** Everything that arrives, on every connection (live when it returns). */
  readonly incoming: Subscribe<Incoming>
  /** Connection state changes, on every connection (live when it returns). */
  readonly events: Subscribe<ChannelEvent>
}

/** The peer transport service. */
export class PeerTransport extends Context.Tag("skygit/PeerTransport")<PeerTransport, PeerTransportService>() {}
