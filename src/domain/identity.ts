/**
 * Peer identity: a GitHub login plus a session id (one per tab or process).
 * GitHub logins compare case-insensitively; the session id breaks ties between
 * two sessions of one user.
 */
import { Order, Schema } from "effect"

/** A GitHub login: 1-39 characters, alphanumerics and single inner hyphens. */
export const Username = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/),
  Schema.brand("Username")
)
/** A validated GitHub login. */
export type Username = typeof Username.Type

/** A session id: 1-64 URL-safe characters, chosen at random by each session. */
export const SessionId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/),
  Schema.brand("SessionId")
)
/** A validated session id. */
export type SessionId = typeof SessionId.Type

/** One running SkyGit session of one user. */
export const PeerId = Schema.Struct({ username: Username, sessionId: SessionId })
/** One running SkyGit session of one user. */
export type PeerId = typeof PeerId.Type

/** Builds a PeerId from trusted strings (tests, adapters that already validated). */
export const makePeerId = (username: string, sessionId: string): PeerId =>
  Schema.decodeSync(PeerId)({ username, sessionId })

/** The canonical comparison key of a login: GitHub logins are case-insensitive. */
export const normalizeLogin = (username: string): string => username.toLowerCase()

/** The stable string key of a peer, usable in maps: `login/session`. */
export const peerKey = (peer: PeerId): string => `${normalizeLogin(peer.username)}/${peer.sessionId}`

/**
 * Whether two PeerIds name the same session: the same as comparing their `peerKey`s (neither
 * part may hold a "/"), without building two strings. Lists of peers are compared often.
 */
export const samePeer = (a: PeerId, b: PeerId): boolean => a.sessionId === b.sessionId && sameUser(a.username, b.username)

/** Whether two logins name the same GitHub user. */
export const sameUser = (a: string, b: string): boolean => a === b || normalizeLogin(a) === normalizeLogin(b)

const compareStrings = (a: string, b: string): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0)

/** Total order on peers: case-folded login first, then session id. */
export const PeerOrder: Order.Order<PeerId> = (a, b) =>
  compareStrings(normalizeLogin(a.username), normalizeLogin(b.username)) ||
  compareStrings(a.sessionId, b.sessionId)
