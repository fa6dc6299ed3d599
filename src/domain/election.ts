/**
 * Leader election: the online peer with the lexicographically smallest
 * (case-folded) login is leader; the session id breaks ties between two
 * sessions of one user. Pure, so every peer with the same view elects the same leader.
 */
import { Array as Arr, Option } from "effect"
import { PeerOrder, type PeerId } from "./identity.js"

/** The leader of a set of peers, or none when the set is empty. */
export const electLeader = (peers: Iterable<PeerId>): Option.Option<PeerId> => {
  const all = Arr.fromIterable(peers)
  return Arr.isNonEmptyReadonlyArray(all) ? Option.some(Arr.min(all, PeerOrder)) : Option.none()
}
