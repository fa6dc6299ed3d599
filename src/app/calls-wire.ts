/**
 * How call signals go on the wire: `custom` envelopes named `call`, sent on the
 * direct channel to the peer. The direct channel is the point: the transport
 * checks that an envelope's `from` is the peer the connection was made with, so a
 * call signal cannot be forged by a relaying peer (the `signal`/`call` variant is
 * relayed with an `origin` nobody verifies). A signal for a peer with no open
 * channel waits, bounded, until the mesh opens one (through the presence channel).
 */
import { Effect, Option } from "effect"
import { CALL_ENVELOPE_NAME, decodeCallSignal, encodeCallSignal, type CallId, type CallSignal } from "../domain/call.js"
import { isAddressedTo, type Envelope } from "../domain/envelope.js"
import { peerKey, type PeerId } from "../domain/identity.js"
import type { PeerTransportService } from "../ports/PeerTransport.js"

/** Most signals held for one peer while its channel is not open; the oldest go first. */
export const MAX_PENDING_SIGNALS = 16

/** The envelope that carries one call signal from `self` to `to`. */
export const callEnvelope = (self: PeerId, to: PeerId, signal: CallSignal, id: string, at: number): Envelope => ({
  v: 1,
  id,
  type: "custom",
  from: self,
  to: { username: to.username, sessionId: to.sessionId },
  timestamp: at,
  payload: { name: CALL_ENVELOPE_NAME, data: encodeCallSignal(signal) }
})

/** The call signal an envelope carries for `self`, with its (transport-verified) sender. */
export const callSignalOf = (self: PeerId, envelope: Envelope): Option.Option<{ readonly from: PeerId; readonly signal: CallSignal }> => {
  if (envelope.type !== "custom" || envelope.payload.name !== CALL_ENVELOPE_NAME || !isAddressedTo(envelope.to, self)) return Option.none()
  const signal = decodeCallSignal(envelope.payload.data)
  return signal === undefined ? Option.none() : Option.some({ from: envelope.from, signal })
}

/** Signals waiting for a channel, per peer. */
export class PendingSignals {
  private readonly byPeer = new Map<string, Array<CallSignal>>()

  /** Holds a signal for `peer`. */
  hold(peer: PeerId, signal: CallSignal): void {
    const queue = this.byPeer.get(peerKey(peer)) ?? []
    queue.push(signal)
    if (queue.length > MAX_PENDING_SIGNALS) queue.shift()
    this.byPeer.set(peerKey(peer), queue)
  }

  /** Takes the signals held for `peer` that still belong to the live call `live` (others are stale). */
  take(peer: PeerId, live: CallId | undefined): ReadonlyArray<CallSignal> {
    const queue = this.byPeer.get(peerKey(peer)) ?? []
    this.byPeer.delete(peerKey(peer))
    return queue.filter((s) => s.call === live)
  }

  /** Number of held signals, for tests. */
  get size(): number {
    let n = 0
    for (const q of this.byPeer.values()) n += q.length
    return n
  }
}

/** Sends a signal; `false` when the peer has no open channel (the caller holds it). */
export const trySend = (transport: PeerTransportService, envelope: Envelope, to: PeerId): Effect.Effect<boolean, string> =>
  transport.send(to, envelope).pipe(
    Effect.as(true),
    Effect.catchAll((e) => (e.reason === "no-connection" ? Effect.succeed(false) : Effect.fail(`${e.reason}: ${e.detail}`)))
  )
