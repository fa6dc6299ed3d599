/**
 * Who tells the author of a new message that another session holds it. The author shows a
 * message "delivered" at the first acknowledgement, so in a mesh of 50 the 49 that every
 * recipient used to send said what one says, for 49 frames to the author per message. Now the
 * few smallest of the author's neighbors answer, and anyone who cannot tell (the author's
 * neighbor list does not name it yet) answers too.
 * A direct message goes to a few sessions only (the two users' and the leader), so all of
 * them answer: the author's neighbor list does not say which got it.
 */
import { PeerOrder, type PeerId } from "./identity.js"
import { DIRECT_PREFIX } from "./conversation.js"
import type { ConversationId } from "./message.js"

/**
 * How many of the author's neighbors acknowledge a message to everyone: one would do, but a link
 * the author lost since its last neighbor list would then leave the message "sending" until it is
 * saved. Three all lost at once is a partition, and then "sending" is the truth.
 */
export const HELD_ACKNOWLEDGERS = 3

/**
 * Whether `self`, which now holds a message its author's session sent it directly, tells the
 * author so. `authorNeighbors` is the author's last neighbor list as `self` heard it (undefined
 * when none came yet).
 */
export const acknowledgesHeld = (self: PeerId, conversation: ConversationId, authorNeighbors: ReadonlyArray<PeerId> | undefined): boolean => {
  if (conversation.startsWith(DIRECT_PREFIX) || authorNeighbors === undefined) return true
  // Every received message asks, against a list of up to 256: one comparison per name (0 is this session).
  let listed = false
  let smaller = 0
  for (const p of authorNeighbors) {
    const order = PeerOrder(p, self)
    if (order === 0) listed = true
    else if (order < 0) smaller++
  }
  return !listed || smaller < HELD_ACKNOWLEDGERS
}
