/**
 * Signaling roles. For any pair the smaller peer (PeerOrder) makes the offer, so
 * two peers never offer to each other at once (no glare).
 *
 * Who signals through the presence channel (GitHub) at all: only the smallest
 * online peer of the whole view (the "sponsor"), and only towards peers outside
 * its mesh component; it batches all those offers into one write. Of the peers
 * that receive such an offer, only the smallest of each other component answers:
 * every other connection is signaled through the mesh. One write per side per
 * bridging connection, and none for the rest.
 */
import { Array as Arr, Option } from "effect"
import { PeerOrder, peerKey, samePeer, type PeerId } from "./identity.js"
import { electLeader } from "./election.js"

/** Whether `self` makes the offer to `other`. */
export const isOfferer = (self: PeerId, other: PeerId): boolean => PeerOrder(self, other) < 0

/**
 * The peers `self` should offer to through the presence channel: when `self` is the
 * smallest of `online ∪ component` (or of `contenders`), every online peer outside its component; else none.
 * `component` is the set of peers reachable through the mesh, `self` included or not.
 */
export const presenceOfferTargets = (
  self: PeerId,
  component: Iterable<PeerId>,
  online: Iterable<PeerId>,
  contenders?: Iterable<PeerId>
): ReadonlyArray<PeerId> => {
  const componentArr = Arr.fromIterable(component)
  const inComponent = new Set(Arr.map(componentArr, peerKey))
  inComponent.add(peerKey(self))
  const onlineArr = Arr.fromIterable(online)
  // `contenders`, when given, are the peers that may hold the role (sessions that answer).
  const sponsor = electLeader([self, ...(contenders === undefined ? [...onlineArr, ...componentArr] : Arr.fromIterable(contenders))])
  if (Option.isNone(sponsor) || !samePeer(sponsor.value, self)) return []
  return Arr.dedupeWith(
    onlineArr.filter((p) => !inComponent.has(peerKey(p))),
    samePeer
  )
}

/**
 * Whether `self` answers an offer that reached it through the presence channel: only
 * the smallest member of its own component bridges it; the others join through the mesh.
 */
export const answersPresenceOffer = (self: PeerId, component: Iterable<PeerId>, from: PeerId): boolean => {
  const members = Arr.fromIterable(component)
  if (members.some((p) => samePeer(p, from))) return false
  const smallest = electLeader([self, ...members])
  return Option.isSome(smallest) && samePeer(smallest.value, self)
}

/**
 * The fallback when the sponsor cannot reach someone (a partition, a NAT that
 * defeats one pair): the smallest peer of each component also offers to online
 * peers that have stayed outside its component for at least `patienceMs`.
 * `outsideSince` tells since when each peer has been seen outside.
 */
export const patientOfferTargets = (
  self: PeerId,
  component: Iterable<PeerId>,
  online: Iterable<PeerId>,
  outsideSince: (peer: PeerId) => number,
  now: number,
  patienceMs: number
): ReadonlyArray<PeerId> => {
  const members = Arr.fromIterable(component)
  const smallest = electLeader([self, ...members])
  if (Option.isNone(smallest) || !samePeer(smallest.value, self)) return []
  const inComponent = new Set([self, ...members].map(peerKey))
  return Arr.dedupeWith(
    Arr.fromIterable(online).filter((p) => !inComponent.has(peerKey(p)) && now - outsideSince(p) >= patienceMs),
    samePeer
  )
}

/**
 * A joiner's own first contact. A joiner of a mesh that was already there cannot tell a silent
 * entry (made up, or a crashed session) from the mesh's real sponsor: neither has answered it.
 * While `self` is still alone and a smaller such session holds the sponsor role in its view
 * (`presenceOfferTargets` gave nothing), it offers to the smallest of `established` (members of
 * a mesh that was there before it) above it: when that one is the smallest of its mesh it
 * answers, so any number of silent entries below the joiner cost no time. One offer, so a wrong
 * guess (the real sponsor is smaller and offers anyway) costs one unanswered slot.
 */
export const joinerFirstContact = (self: PeerId, component: Iterable<PeerId>, established: Iterable<PeerId>): PeerId | undefined => {
  const members = Arr.fromIterable(component).filter((p) => !samePeer(p, self))
  if (members.length > 0) return undefined
  const above = Arr.fromIterable(established).filter((p) => isOfferer(self, p))
  return Option.getOrUndefined(electLeader(above))
}
