/**
 * Heartbeat expiry: who is online, given the last time each peer was seen and `now`.
 * Thresholds are configuration; time is a parameter.
 */
import type { PeerId } from "./identity.js"

/** How often a heartbeat is sent and after how long without one a peer counts as offline. */
export interface HeartbeatConfig {
  readonly intervalMs: number
  readonly expiryMs: number
}

/** Anything that carries a peer and the time it was last seen (epoch ms). */
export interface Seen {
  readonly peer: PeerId
  readonly lastSeen: number
}

/** How far ahead of ours another peer's clock is believed to be, at most. */
export const MAX_CLOCK_SKEW_MS = 60_000

/**
 * Whether a peer last seen at `lastSeen` is still online at `now`. A timestamp a
 * little in the future (clock skew) is fresh; one further ahead than
 * `MAX_CLOCK_SKEW_MS` is not believed, so it cannot keep a peer online for ever.
 */
export const isFresh = (lastSeen: number, now: number, config: HeartbeatConfig): boolean =>
  lastSeen <= now + MAX_CLOCK_SKEW_MS && now - lastSeen < config.expiryMs

/** The entries still online at `now`. */
export const onlineAt = <A extends Seen>(entries: Iterable<A>, now: number, config: HeartbeatConfig): ReadonlyArray<A> =>
  Array.from(entries).filter((e) => isFresh(e.lastSeen, now, config))

/** The time at which an entry last seen at `lastSeen` expires. */
export const expiresAt = (lastSeen: number, config: HeartbeatConfig): number => lastSeen + config.expiryMs
