/**
 * Which sessions this peer believes, and which may hold a role (first contact,
 * leader, refresher). Anyone with write access can put entries in the presence
 * file and any neighbor can name sessions in its list: neither proves a session
 * exists or answers. Pure: the peer supplies what it saw and when.
 */

/** What this peer knows of one session, for the predicates below. */
export interface SessionEvidence {
  /** When a channel with it first opened (it answered), if ever. */
  readonly answeredAt: number | undefined
  /** When this peer first saw it (presence or mesh), if ever. */
  readonly firstSeenAt: number | undefined
  /** Whether the presence channel shows it now. */
  readonly inPresence: boolean
}

/**
 * Whether a session named in a neighbor's list is believed: only one this peer also
 * sees in presence or has heard from. A phantom named by a lying neighbor is not.
 */
export const believesListed = (e: Pick<SessionEvidence, "answeredAt" | "inPresence">): boolean => e.answeredAt !== undefined || e.inPresence

/**
 * Whether a session may hold a role: it answered before, or it was first seen less than
 * `graceMs` ago (a real newcomer makes contact well within the time an offer through
 * presence stays valid). A session that never answers loses any role once its grace is over,
 * so silent entries cannot make a newcomer wait for a sponsor that never offers.
 */
export const mayHoldRole = (e: SessionEvidence, now: number, graceMs: number): boolean =>
  e.answeredAt !== undefined || (e.firstSeenAt !== undefined && now - e.firstSeenAt < graceMs)
