/**
 * Call control through the presence channel, for a peer with no open data
 * channel: what a sender puts in its call slot for that peer, and which signals
 * of the slots addressed to us a receiver applies. Media (SDP, ICE, tracks)
 * never travels here; it needs the peer connection, and is negotiated on it once
 * it is open. Time is a parameter.
 */
import { MAX_CLOCK_SKEW_MS } from "./heartbeat.js"
import { samePeer, type PeerId } from "./identity.js"
import type { CallSignal } from "./call-signal.js"
import {
  CALL_SLOT_RETENTION_MS,
  callSlotProblem,
  MAX_CALL_SLOT_SIGNALS,
  type PresenceCallSignal,
  type PresenceCallSlot
} from "./presence-doc.js"

/**
 * Whether a signal is worth the presence channel when no data channel is open:
 * ringing, answering, declining and hanging up are; a media state (mute, camera,
 * screen) only matters once media flows, which needs the connection, so it waits
 * for the channel.
 */
export const travelsByPresence = (signal: CallSignal): boolean => signal._tag !== "media"

/**
 * The slot `from` writes for `to` after sending `next`: the signals it sent to `to`
 * still within retention, plus `next`, the latest `MAX_CALL_SLOT_SIGNALS`, oldest
 * first. A rewrite before `to` read the previous slot therefore loses nothing.
 * The oldest go first should the slot outgrow its size bound.
 */
export const appendToSlot = (
  previous: PresenceCallSlot | undefined,
  from: PeerId,
  to: PeerId,
  next: PresenceCallSignal,
  now: number
): PresenceCallSlot => {
  const kept = (previous?.signals ?? []).filter((s) => now - s.at < CALL_SLOT_RETENTION_MS && s.id !== next.id)
  let signals = [...kept, next].slice(-MAX_CALL_SLOT_SIGNALS)
  let slot: PresenceCallSlot = { from, to, at: now, signals }
  while (signals.length > 1 && callSlotProblem(slot) !== undefined) {
    signals = signals.slice(1)
    slot = { from, to, at: now, signals }
  }
  return slot
}

/** How long an invite is worth ringing after it was sent; other signals, the slot retention. */
export const callSignalWindowMs = (signal: CallSignal, ringTimeoutMs: number): number =>
  signal._tag === "invite" ? ringTimeoutMs : CALL_SLOT_RETENTION_MS

/**
 * Whether a signal sent at `at` (the sender's clock) still applies at `now`: an
 * invite while it would still ring, the rest within the slot retention; a time
 * further ahead than clocks drift apart is not believed.
 */
export const isFreshCallSignal = (signal: PresenceCallSignal, now: number, ringTimeoutMs: number): boolean =>
  signal.at - now <= MAX_CLOCK_SKEW_MS && now - signal.at < callSignalWindowMs(signal.signal, ringTimeoutMs)

/** One call signal read from the presence channel, ready for the call state machine. */
export interface ReceivedCallSignal {
  readonly from: PeerId
  readonly id: string
  readonly at: number
  readonly signal: CallSignal
}

/** Why a signal of a slot addressed to us was not applied. */
export interface DroppedCallSignal {
  readonly from: PeerId
  readonly id: string
  readonly reason: "stale" | "duplicate"
}

/**
 * The signals of `slot` that `self` applies at `now`, in the order they were sent:
 * addressed to `self`, fresh, and not already `seen` (on the data channel or in an
 * earlier read of the slot). What is left out is listed with the reason.
 */
export const signalsToApply = (
  self: PeerId,
  slot: PresenceCallSlot,
  seen: (from: PeerId, id: string) => boolean,
  now: number,
  ringTimeoutMs: number
): { readonly apply: ReadonlyArray<ReceivedCallSignal>; readonly dropped: ReadonlyArray<DroppedCallSignal> } => {
  if (!samePeer(slot.to, self)) return { apply: [], dropped: [] }
  const apply: Array<ReceivedCallSignal> = []
  const dropped: Array<DroppedCallSignal> = []
  const ids = new Set<string>()
  for (const s of [...slot.signals].sort((a, b) => a.at - b.at)) {
    if (ids.has(s.id) || seen(slot.from, s.id)) dropped.push({ from: slot.from, id: s.id, reason: "duplicate" })
    else if (!isFreshCallSignal(s, now, ringTimeoutMs)) dropped.push({ from: slot.from, id: s.id, reason: "stale" })
    else apply.push({ from: slot.from, id: s.id, at: s.at, signal: s.signal })
    ids.add(s.id)
  }
  return { apply, dropped }
}
