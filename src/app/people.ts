/**
 * People and ghost sessions. A session whose presence entry has not been refreshed
 * within a refresh period (plus polling slack) and that has no open connection with
 * us is a ghost: a tab that went away without a goodbye (crashed, slept, killed).
 * It is not someone to connect to and is not signaled again until its entry is
 * refreshed; the people list shows it "away", folded under its user beside the
 * user's live sessions.
 */
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import type { PeerContext } from "./context.js"
import type { Person, PersonSession } from "./peer-state.js"

/** How long after its last refresh an entry counts as not heard from: a refresh period plus two polls of slack. */
export const staleAfterMs = (ctx: PeerContext): number => ctx.config.presenceRefreshMs + 2 * ctx.config.pollBaseMs

/** Whether the session `key` is a ghost now: stale entry (or gone since it left) and no open connection. */
export const isGhost = (ctx: PeerContext, key: string, at: number): boolean => {
  const s = ctx.state
  if (s.links.get(key)?.state === "open") return false
  const entry = s.online.get(key)
  if (entry === undefined) return false
  const lostAt = s.lost.get(key)
  if (lostAt !== undefined && entry.lastSeen <= lostAt) return true
  return at - entry.lastSeen > staleAfterMs(ctx)
}

/** Drops ghosts from a list of peers (connect targets). */
export const withoutGhosts = (ctx: PeerContext, peers: ReadonlyArray<PeerId>, at: number): ReadonlyArray<PeerId> =>
  peers.filter((p) => !isGhost(ctx, peerKey(p), at))

/**
 * Whether the session `key` said goodbye since its entry was last refreshed: it closed (a tab
 * reloaded or shut), so it is gone, not "away", while its entry waits to be taken out of presence.
 * Only the session itself can say so (a goodbye's sender is its connection's identity).
 */
const saidGoodbye = (ctx: PeerContext, key: string): boolean => {
  const t = ctx.state.goodbyes.get(key)
  if (t === undefined) return false
  const entry = ctx.state.online.get(key)
  return entry === undefined || entry.lastSeen <= t
}

/**
 * The people list: every user with a session we are connected to or that presence
 * shows (until its entry expires), sessions folded under their user with an honest
 * state; self first, then users by name.
 */
export const peopleOf = (ctx: PeerContext, at: number): ReadonlyArray<Person> => {
  const s = ctx.state
  const sessions = new Map<string, PersonSession>()
  const leader = s.leadership.leader
  const add = (peer: PeerId, state: PersonSession["state"]) =>
    sessions.set(peerKey(peer), { peer, state, leader: leader !== undefined && samePeer(leader, peer) })
  add(ctx.self, "self")
  for (const [key, link] of s.links) {
    if (link.state === "open") add(link.peer, "open")
    else if (s.online.has(key) && !saidGoodbye(ctx, key)) add(link.peer, isGhost(ctx, key, at) ? "away" : link.state)
  }
  for (const [key, entry] of s.online) {
    if (sessions.has(key) || at - entry.lastSeen > ctx.config.presenceExpiryMs || saidGoodbye(ctx, key)) continue
    const peer = { username: entry.username, sessionId: entry.sessionId }
    add(peer, isGhost(ctx, key, at) ? "away" : "discovered")
  }
  const byUser = new Map<string, Array<PersonSession>>()
  for (const session of sessions.values()) {
    const user = session.peer.username.toLowerCase()
    let list = byUser.get(user)
    if (list === undefined) byUser.set(user, (list = []))
    list.push(session)
  }
  const rank = (p: PersonSession) => (p.state === "self" ? 0 : p.state === "away" ? 2 : 1)
  return Array.from(byUser.values())
    .map((list) => ({
      username: list[0]!.peer.username,
      sessions: list.sort((a, b) => rank(a) - rank(b) || (a.peer.sessionId < b.peer.sessionId ? -1 : 1))
    }))
    .sort((a, b) =>
      sameUser(a.username, ctx.self.username) ? -1 : sameUser(b.username, ctx.self.username) ? 1 : a.username.toLowerCase() < b.username.toLowerCase() ? -1 : 1
    )
}
