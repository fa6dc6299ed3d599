/**
 * What one peer knows of the mesh: its open connections and the neighbor lists
 * its neighbors reported in their in-mesh heartbeats. From that: the component
 * it is part of, a relay route to a peer two hops away, and the leader. Pure.
 */
import { Option } from "effect"
import { electLeader } from "./election.js"
import { peerKey, samePeer, type PeerId } from "./identity.js"

/** A neighbor's last in-mesh heartbeat: whom it is connected to, and when it was heard. */
export interface NeighborReport {
  readonly peer: PeerId
  readonly neighbors: ReadonlyArray<PeerId>
  readonly heardAt: number
}

/** The peers reachable from `self`: itself, its open neighbors, and the peers they report. */
export const componentOf = (
  self: PeerId,
  open: ReadonlyArray<PeerId>,
  reports: ReadonlyMap<string, NeighborReport>
): ReadonlyArray<PeerId> => {
  const members = new Map<string, PeerId>([[peerKey(self), self]])
  for (const n of open) {
    members.set(peerKey(n), n)
    for (const m of reports.get(peerKey(n))?.neighbors ?? []) members.set(peerKey(m), m)
  }
  return Array.from(members.values())
}

/** An open neighbor of `self` that reports an open connection to `target`: the relay for signaling. */
export const relayTo = (
  target: PeerId,
  open: ReadonlyArray<PeerId>,
  reports: ReadonlyMap<string, NeighborReport>
): Option.Option<PeerId> =>
  Option.fromNullable(open.find((n) => (reports.get(peerKey(n))?.neighbors ?? []).some((m) => samePeer(m, target))))

/**
 * Whether `self` acts as leader: it is the smallest of its component, and either
 * its component covers every peer the presence channel shows online, or it has
 * been up for the grace period (an unreachable or departed peer must not keep a
 * component leaderless). Until then a joining peer does not commit on its own.
 * Before the presence channel has answered once (`onlineKnown` false), who is
 * online is unknown, not nobody: a session that has just started or reloaded is
 * alone in its view then, and only the grace period lets it lead. A component that
 * already has a leader acting (`inherits`) was led before this session came: its
 * smaller newcomer takes over without waiting for coverage.
 */
export const actsAsLeader = (options: {
  readonly self: PeerId
  readonly component: ReadonlyArray<PeerId>
  readonly online: ReadonlyArray<PeerId>
  readonly onlineKnown: boolean
  /** Whether another member of the component says it acts as leader: this session takes over from it. */
  readonly inherits: boolean
  readonly upForMs: number
  readonly graceMs: number
}): boolean => {
  const leader = electLeader(options.component)
  if (Option.isNone(leader) || !samePeer(leader.value, options.self)) return false
  if (options.inherits || options.upForMs >= options.graceMs) return true
  const members = new Set(options.component.map(peerKey))
  return options.onlineKnown && options.online.every((p) => members.has(peerKey(p)))
}
