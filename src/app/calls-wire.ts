/**
 * How call signals go on the wire: `custom` envelopes named `call`, sent on the
 * direct channel to the peer. The direct channel is the point: the transport
 * checks that an envelope's `from` is the peer the connection was made with, so a
 * call signal cannot be forged by a relaying peer (the `signal`/`call` variant is
 * relayed with an `origin` nobody verifies, so calls do not use it). A signal for
 * a peer with no open channel is held, bounded, and sent on the channel once the
 * mesh opens one; ringing, answering, declining and hanging up also go through
 * the presence channel (`CallFallback`), with the same id, so the receiver applies
 * whichever copy comes first and drops the other.
 */
import { Effect, Option, type Queue, type Scope } from "effect"
import { CALL_ENVELOPE_NAME, decodeCallSignal, encodeCallSignal, type CallId, type CallSignal } from "../domain/call.js"
import { isAddressedTo, type Envelope } from "../domain/envelope.js"
import { peerKey, type PeerId } from "../domain/identity.js"
import type { PresenceCallSlot } from "../domain/presence-doc.js"
import type { PeerTransportService } from "../ports/PeerTransport.js"

/**
 * What the calls service needs from its peer (`PeerHandle.callFallback`) to carry
 * call control through the presence channel while no data channel is open.
 */
export interface CallFallback {
  /** Whether a mesh neighbor reaches `peer`: the mesh is then about to open a direct channel (relayed signaling). */
  readonly meshRoute: (peer: PeerId) => Effect.Effect<boolean>
  /** Sets this session's call slot for `slot.to`; it goes out with the peer's next presence write. */
  readonly post: (slot: PresenceCallSlot) => Effect.Effect<void>
  /** Drops the call slot for `peer` if it is not written yet (its channel opened and took the signals). */
  readonly cancel: (peer: PeerId) => Effect.Effect<void>
  /**
   * Subscribes (at once, for the scope) to the call slots addressed to this session,
   * from every read of the presence channel that found a change.
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<PresenceCallSlot>, never, Scope.Scope>
  /** While true, the peer reads the presence channel at its fast pace (a call waits for a reply through it). */
  readonly setWaiting: (waiting: boolean) => Effect.Effect<void>
}

/** A signal sent (or to be sent) to one peer: its id and time travel with it on every route. */
export interface HeldSignal {
  readonly id: string
  readonly at: number
  readonly signal: CallSignal
}

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

/** The call signal an envelope carries for `self`, with its (transport-verified) sender and its id. */
export const callSignalOf = (
  self: PeerId,
  envelope: Envelope
): Option.Option<{ readonly from: PeerId; readonly signal: CallSignal; readonly id: string }> => {
  if (envelope.type !== "custom" || envelope.payload.name !== CALL_ENVELOPE_NAME || !isAddressedTo(envelope.to, self)) return Option.none()
  const signal = decodeCallSignal(envelope.payload.data)
  return signal === undefined ? Option.none() : Option.some({ from: envelope.from, signal, id: envelope.id })
}

/** Most signal ids remembered as applied; the oldest are forgotten first (they are stale by then). */
export const MAX_SEEN_SIGNALS = 2_000

/** Ids of the call signals already applied, per sender: a signal that arrives both ways, or is read again, applies once. */
export class SeenSignals {
  private readonly ids = new Set<string>()

  /** Whether `id` from `from` was already applied. */
  has(from: PeerId, id: string): boolean {
    return this.ids.has(`${peerKey(from)} ${id}`)
  }

  /** Records `id` from `from`; false when it was already there. */
  add(from: PeerId, id: string): boolean {
    const key = `${peerKey(from)} ${id}`
    if (this.ids.has(key)) return false
    this.ids.add(key)
    if (this.ids.size > MAX_SEEN_SIGNALS) this.ids.delete(this.ids.values().next().value!)
    return true
  }
}

/** Signals waiting for a channel, per peer. */
export class PendingSignals {
  private readonly byPeer = new Map<string, Array<HeldSignal>>()

  /** Holds a signal for `peer`. */
  hold(peer: PeerId, signal: HeldSignal): void {
    const queue = this.byPeer.get(peerKey(peer)) ?? []
    queue.push(signal)
    if (queue.length > MAX_PENDING_SIGNALS) queue.shift()
    this.byPeer.set(peerKey(peer), queue)
  }

  /** Takes the signals held for `peer` that still belong to the live call `live` (others are stale). */
  take(peer: PeerId, live: CallId | undefined): ReadonlyArray<HeldSignal> {
    const queue = this.byPeer.get(peerKey(peer)) ?? []
    this.byPeer.delete(peerKey(peer))
    return queue.filter((s) => s.signal.call === live)
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
