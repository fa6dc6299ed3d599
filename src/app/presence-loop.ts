/**
 * The heartbeat loop on the presence channel: polls it (fast while joining or
 * awaiting an answer, else at a pace the budget affords), answers signaling
 * addressed to this peer, and writes entries and signaling slots as rarely as
 * staleness allows. In file form one peer of each mesh component refreshes the
 * entries of all its members; in Discussion form each user edits only its own
 * comment. Rate limits widen the polls and raise a notice the UI shows.
 */
import { Duration, Effect, Option, PubSub, Queue } from "effect"
import { nextWriteAt, pollDelayMs, record, snapshot } from "../domain/budget.js"
import { electLeader } from "../domain/election.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { isGhost, staleAfterMs } from "./people.js"
import { noChange, type PresenceCallSlot, type PresenceEntry, type PresenceSignal } from "../domain/presence-doc.js"
import type { PresenceError, PresenceSnapshot } from "../ports/Presence.js"
import type { PeerState } from "./peer-state.js"
import { DISCUSSION_MEMBER_POLL_FACTOR, DISCUSSION_POLL_FACTOR, now, presenceAnswerWindowMs, refuse, reject, type PeerContext } from "./context.js"
import { component, entryRank, handleDescription, mayLead, replayDeferred, restartsLink, roleComponent, roleHolders, STARTED_TOGETHER_MS } from "./mesh.js"

/** Most presence entries one peer considers (links, roles, refreshes), whatever the document holds. */
export const MAX_CONSIDERED_ENTRIES = 64

/** A short sentence about skipped presence items: how many, of which kinds (details go to the refused items). */
const skippedSentence = (skipped: ReadonlyArray<{ readonly detail: string }>): string => {
  const kinds = new Set(skipped.map((k) => /^([a-z ]+?) \d+:/.exec(k.detail)?.[1] ?? "item"))
  return `${skipped.length} unreadable presence item(s) skipped (${[...kinds].join(", ")}).`
}

/** Drops a map's oldest keys past `max`. */
const trimMap = (m: Map<string, unknown>, max: number): void => {
  for (const key of m.keys()) {
    if (m.size <= max) return
    m.delete(key)
  }
}

/**
 * Most sessions whose signing key is remembered after their entry goes: a crashed author's
 * messages may be relayed long after (a document holds at most MAX_PRESENCE_ENTRIES).
 */
export const MAX_SIGNING_KEYS = 2_000

/** Most signing keys remembered per session (a session that restarted with the same id has a new one). */
export const MAX_SIGNING_KEYS_PER_SESSION = 4

/** Remembers the signing keys of a read's entries (bounded, oldest forgotten first). */
export const rememberSigningKeys = (s: PeerState, entries: ReadonlyArray<PresenceEntry>): void => {
  for (const e of entries) {
    if (e.signingKey === undefined) continue
    const key = peerKey({ username: e.username, sessionId: e.sessionId })
    const keys = s.signingKeys.get(key) ?? []
    s.signingKeys.delete(key)
    s.signingKeys.set(key, keys.at(-1) === e.signingKey ? keys : [...keys.filter((k) => k !== e.signingKey), e.signingKey].slice(-MAX_SIGNING_KEYS_PER_SESSION))
  }
  trimMap(s.signingKeys, MAX_SIGNING_KEYS)
}

/** Polls kept back from the primary budget for writes and what the user asks for. */
export const POLL_RESERVE = 500

/**
 * How long a peer stops writing to presence after a permanent refusal (no push access in the
 * file form, an archived repository): one attempt per period, not a refused write per tick.
 */
export const PRESENCE_REFUSED_RETRY_MS = 10 * 60_000

const entryOf = (ctx: PeerContext, peer: PeerId, at: number): PresenceEntry => {
  // A refresh never drops another session's fingerprint: what an earlier good read showed is kept.
  const fingerprint = samePeer(peer, ctx.self)
    ? ctx.transport.fingerprint
    : (ctx.state.known.get(peerKey(peer))?.fingerprint ?? ctx.state.fingerprints.get(peerKey(peer)))
  // Likewise its signing key: relayed messages of that session are checked against it.
  const signingKey = samePeer(peer, ctx.self)
    ? ctx.signer?.publicKey
    : (ctx.state.known.get(peerKey(peer))?.signingKey ?? ctx.state.signingKeys.get(peerKey(peer))?.at(-1))
  return {
    username: peer.username,
    sessionId: peer.sessionId,
    lastSeen: at,
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(signingKey === undefined ? {} : { signingKey })
  }
}

/** How long after an online peer is first seen outside its component the component's smallest peer keeps reading fast. */
export const BRIDGING_FAST_POLL_MS = 60_000

/** Whether presence shows another session refreshed within a refresh period (no ghost), and last refreshed before `before` if given. */
const hasLiveEntry = (ctx: PeerContext, at: number, before = Number.POSITIVE_INFINITY): boolean => {
  for (const e of ctx.state.online.values()) if (e.lastSeen < before && at - e.lastSeen <= staleAfterMs(ctx)) return true
  return false
}

/** How long to wait before the next poll. */
export const nextPollDelay = (ctx: PeerContext, at: number): number => {
  const s = ctx.state
  if (s.rateNotice !== undefined && at < s.rateNotice.until) return Math.max(ctx.config.pollFastMs, s.rateNotice.until - at)
  // A peer still alone shortly after start polls fast: others may be writing their first entries.
  // Ghosts (entries not refreshed for a refresh period) are no one to join: they do not make it poll fast.
  const joining = component(ctx).length <= 1 && (hasLiveEntry(ctx, at) || at - s.startedAt < 2 * ctx.config.pollBaseMs)
  const awaiting = Array.from(s.links.values()).some(
    (l) => (l.via === "presence" && (l.state === "signaling" || l.state === "connecting")) || l.restartingSince !== undefined
  )
  // The smallest peer of a component that has not reached someone online for long is the one
  // a sponsor's offer goes to (or the sponsor itself): it reads fast for a while, so a mesh that
  // formed in parts (peers starting together) joins up within seconds.
  const bridging =
    Array.from(s.outsideSince).some(([key, since]) => at - since < BRIDGING_FAST_POLL_MS && !isGhost(ctx, key, at)) &&
    Option.exists(electLeader(roleComponent(ctx, at)), (p) => samePeer(p, ctx.self))
  const budgeted = pollDelayMs({
    baseMs: ctx.config.pollBaseMs,
    maxMs: ctx.config.pollMaxMs,
    budget: snapshot(s.budget, at),
    now: at,
    reserve: POLL_RESERVE
  })
  // Fast while joining or awaiting an answer; in Discussion form, where every read is charged, less so.
  const fast = ctx.config.pollFastMs * (ctx.presence.form === "discussion" ? DISCUSSION_POLL_FACTOR : 1)
  if (joining || awaiting || bridging || s.presenceCheckDue || s.outbox.size > 0 || s.callOutbox.size > 0 || s.callWaiting) return Math.min(fast, budgeted)
  // A Discussion read always costs (GraphQL has no 304): inside a mesh only the smallest
  // of the component, which answers bridging offers and sponsors joiners, reads at the base
  // pace; the others learn of joiners through the mesh and read rarely.
  const comp = component(ctx)
  const smallest = electLeader(roleComponent(ctx, at))
  const bridges = Option.isSome(smallest) && samePeer(smallest.value, ctx.self)
  // File form: the peer that sponsors newcomers (the smallest of its component) watches at the
  // fast pace. Its reads are conditional and a 304 is free, so only a changed file costs, and
  // the file changes as often whatever the pace; unless the budget model has widened the pace.
  if (ctx.presence.form === "file") return bridges && budgeted <= ctx.config.pollBaseMs ? ctx.config.pollFastMs : budgeted
  return Math.max(budgeted, (comp.length > 1 && !bridges ? DISCUSSION_MEMBER_POLL_FACTOR : DISCUSSION_POLL_FACTOR) * ctx.config.pollBaseMs)
}

const noteError = (ctx: PeerContext, e: PresenceError, at: number): Effect.Effect<void> => {
  switch (e._tag) {
    case "RateLimited":
      ctx.state.rateNotice = {
        limit: e.limit,
        until: at + e.retryAfterMs,
        detail:
          e.limit === "primary"
            ? "GitHub's hourly request budget is spent: presence updates are paused until it refills."
            : "GitHub is slowing SkyGit down (a secondary rate limit): presence updates are delayed for a while."
      }
      return Effect.void
    case "PresenceMalformed":
      // A short sentence for people; the details go to the refused items.
      ctx.state.presenceProblem = "The presence file is damaged; SkyGit is repairing it."
      ctx.state.repairDue = true
      return Effect.zipRight(refuse(ctx, "presence", "presence-unreadable", e.detail), ctx.nudge)
    case "PresenceUnavailable":
      if (e.permanent === true) {
        // Said once, then no write until the period is over: retrying at once cannot help.
        ctx.state.presenceBlocked = { detail: e.detail, until: at + PRESENCE_REFUSED_RETRY_MS }
        ctx.state.presenceProblem = e.detail
        return Effect.void
      }
      ctx.state.presenceProblem = `Presence channel: ${e.detail}`
      return Effect.void
    case "PresenceConflict":
      ctx.state.presenceProblem = `Presence channel: ${e.detail}`
      return Effect.void
  }
}

const onPolled = (ctx: PeerContext, snap: PresenceSnapshot): Effect.Effect<void> =>
  Effect.gen(function* () {
    const at = yield* now
    const s = ctx.state
    s.budget = record(s.budget, snap.changed ? "read" : "notModified", at)
    if (s.rateNotice !== undefined && at >= s.rateNotice.until) s.rateNotice = undefined
    s.repairDue = false
    // A permanent refusal stays said while it holds; reads succeeding do not make it go.
    s.presenceProblem = s.presenceBlocked !== undefined ? s.presenceBlocked.detail : snap.skipped.length > 0 ? skippedSentence(snap.skipped) : undefined
    if (snap.changed) for (const k of snap.skipped.slice(0, 5)) yield* refuse(ctx, "presence", "presence-item", k.detail)
    if (!snap.changed) return yield* replayDeferred(ctx)
    s.presenceVersion += 1
    s.known = new Map(snap.document.entries.map((e) => [peerKey({ username: e.username, sessionId: e.sessionId }), e] as const))
    s.arrivals = new Map(Array.from(s.known.keys(), (key) => [key, s.arrivals.get(key) ?? at] as const))
    // A peer considers a bounded number of entries, whatever the document holds: sessions
    // that answered before first, then newcomers, then the most recently refreshed.
    const others = Array.from(s.known).filter(([, e]) => !samePeer({ username: e.username, sessionId: e.sessionId }, ctx.self))
    if (others.length > MAX_CONSIDERED_ENTRIES) {
      const rank = ([key, e]: readonly [string, PresenceEntry]) => entryRank(ctx, key, e.lastSeen, at)
      others.sort((a, b) => rank(b) - rank(a))
      yield* refuse(ctx, "presence", "entries-bound", `${others.length - MAX_CONSIDERED_ENTRIES} presence entries past the ${MAX_CONSIDERED_ENTRIES} considered`)
    }
    s.online = new Map(others.slice(0, MAX_CONSIDERED_ENTRIES))
    for (const e of snap.document.entries) if (e.fingerprint !== undefined) s.fingerprints.set(peerKey({ username: e.username, sessionId: e.sessionId }), e.fingerprint)
    trimMap(s.fingerprints, MAX_CONSIDERED_ENTRIES * 4)
    rememberSigningKeys(s, snap.document.entries)
    for (const key of s.online.keys()) if (!s.firstKnown.has(key)) s.firstKnown.set(key, at)
    const fresh = (sig: PresenceSignal) => at - sig.at < ctx.config.signalTimeoutMs + presenceAnswerWindowMs(ctx)
    for (const sig of snap.document.signals) {
      // In Discussion form the adapter already dropped slots whose sender is not the comment's author.
      if (samePeer(sig.to, ctx.self) && fresh(sig)) yield* handleDescription(ctx, sig.from, sig.attempt, sig.description, "presence")
    }
    // Call slots go to the calls service, which drops what it already applied or is stale.
    for (const slot of snap.document.calls ?? []) if (samePeer(slot.to, ctx.self)) yield* PubSub.publish(ctx.callSlots, slot)
    // Relayed offers that waited for their senders' fingerprints.
    yield* replayDeferred(ctx)
    // New peers online: the sponsor offers to them now, not at the next tick.
    yield* ctx.nudge
  })

/**
 * Polls the presence channel forever, at the pace `nextPollDelay` sets. A peer that
 * starts a presence exchange wakes the poller, so it reads soon instead of at the
 * end of a long sleep begun before it was waiting for an answer.
 */
export const pollLoop = (ctx: PeerContext): Effect.Effect<never> => {
  let lastPollAt = Number.NEGATIVE_INFINITY
  const poll = Effect.gen(function* () {
    lastPollAt = yield* now
    const result = yield* Effect.either(ctx.presence.read)
    yield* ctx.inActor(
      result._tag === "Right" ? onPolled(ctx, result.right) : Effect.flatMap(now, (at) => noteError(ctx, result.left, at))
    )
  })
  return Effect.forever(
    Effect.gen(function* () {
      const at = yield* now
      const delay = nextPollDelay(ctx, at)
      if (at - lastPollAt >= delay) yield* poll
      const wait = Math.max(1, delay - ((yield* now) - lastPollAt))
      yield* Effect.raceFirst(Effect.sleep(Duration.millis(wait)), Queue.take(ctx.pollerWakeups))
    })
  )
}

/** The peers whose entries this peer refreshes, or none when another peer does it. */
const refreshScope = (ctx: PeerContext, at: number): ReadonlyArray<PeerId> => {
  const comp = component(ctx)
  // Only sessions that answer: a silent one neither refreshes nor is kept alive by a refresh.
  const mine = roleHolders(ctx, ctx.presence.writesForOthers ? comp : comp.filter((p) => sameUser(p.username, ctx.self.username)), at)
  // Where one peer writes everyone's entries (file form), it is one that may push: a reader in the
  // component (joined through the lobby) cannot write the file, so it refreshes nobody's entry there.
  const refresher = electLeader(ctx.presence.writesForOthers ? mine.filter(mayLead(ctx)) : mine)
  return Option.isSome(refresher) && samePeer(refresher.value, ctx.self) ? mine : []
}

/** Peers whose entries are at most this much older than this session's start may have started with it. */
export { STARTED_TOGETHER_MS }

/** The widest spread of first presence writes among sessions starting together. */
export const FIRST_WRITE_SPREAD_MS = 2_000

/**
 * This session's delay before its first presence write, from its id (stable, no randomness
 * needed). The hash is mixed (murmur3's finalizer) so that ids differing only in their last
 * character, like "s1" and "s2", are spread too: a plain `h * 31 + c` put them within a few
 * milliseconds of each other, and their first writes collided.
 */
export const startSpreadMs = (sessionId: string): number => {
  let h = 0
  for (let i = 0; i < sessionId.length; i++) h = (Math.imul(h, 31) + sessionId.charCodeAt(i)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) % FIRST_WRITE_SPREAD_MS
}

/** How long the refresher waits after a goodbye before it takes the entry out. */
export const GOODBYE_BATCH_MS = 10_000

/** Entries of peers that said goodbye at least `GOODBYE_BATCH_MS` ago and have not been refreshed since. */
const departedEntries = (ctx: PeerContext, at: number): ReadonlyArray<PeerId> => {
  const s = ctx.state
  if (!Array.from(s.goodbyes.values()).some((t) => at - t >= GOODBYE_BATCH_MS)) return []
  const gone: Array<PeerId> = []
  for (const [key, t] of s.goodbyes) {
    const e = s.known.get(key)
    if (e === undefined || e.lastSeen > t) s.goodbyes.delete(key)
    else gone.push({ username: e.username, sessionId: e.sessionId })
  }
  return gone
}

/** Whether an offer or answer through presence is being made (its description is not in the outbox yet). */
const offerBeingMade = (s: PeerState): boolean => {
  for (const [key, link] of s.links) if (link.via === "presence" && link.state === "signaling" && link.attempt !== undefined && !s.outbox.has(key)) return true
  return false
}

/** Writes what is due to the presence channel in one request: entries, removals and signaling slots. */
export const publishDue = (ctx: PeerContext): Effect.Effect<void> =>
  Effect.gen(function* () {
    const at = yield* now
    const s = ctx.state
    if (s.publishing || s.closing) return
    if (s.rateNotice !== undefined && at < s.rateNotice.until) return
    if (s.presenceBlocked !== undefined && at < s.presenceBlocked.until) return
    if (at < nextWriteAt(s.budget, at)) return
    // A description whose attempt was replaced (an offer relayed through the mesh came since) is not written.
    for (const [key, o] of s.outbox) {
      const link = s.links.get(key)
      if ((link?.attempt !== o.attempt || link.via !== "presence") && !restartsLink(link, o.attempt)) s.outbox.delete(key)
    }
    // Peers that start together would all write their first entry at once and lose
    // compare-and-swap races, and race to create the branch (each loss is a charged write):
    // spread them over a moment, deterministically per session. Until then only an offer or
    // an answer is worth a write (and it carries the entry). A peer joining a mesh that was
    // already there (an entry older than its start) is racing nobody and writes at once.
    // Ghosts (entries not refreshed for a refresh period) are no mesh: they must not make this peer skip the spread.
    const established = hasLiveEntry(ctx, at, s.startedAt - STARTED_TOGETHER_MS)
    const firstEntry = s.lastOwnEntryAt === 0 && (established || at - s.startedAt >= startSpreadMs(ctx.self.sessionId))
    if (s.lastOwnEntryAt === 0 && !firstEntry && s.outbox.size === 0 && s.callOutbox.size === 0) return
    // A first entry waits the moment an offer or answer through presence takes to be made, so both go in one write.
    if (s.lastOwnEntryAt === 0 && offerBeingMade(s)) return
    const scope = refreshScope(ctx, at)
    // Due when some entry in scope is older than the refresh period (or missing), judged from the
    // document itself: a new refresher (after a leader change) does not rewrite fresh entries.
    // An unreadable document is rewritten at once by the refresher (the one that watches for newcomers).
    const refreshDue =
      scope.length > 0 &&
      (s.repairDue ||
        (at - Math.max(s.lastRefreshAt, s.lastOwnEntryAt) >= ctx.config.presenceRefreshMs / 4 &&
          scope.some((p) => (s.known.get(peerKey(p))?.lastSeen ?? 0) <= at - ctx.config.presenceRefreshMs)))
    // Entries of peers that said goodbye, taken out by the refresher a little later, so that
    // several leaving at once cost one write.
    const remove = scope.length > 0 && ctx.presence.writesForOthers ? departedEntries(ctx, at) : []
    if (!refreshDue && !firstEntry && s.outbox.size === 0 && s.callOutbox.size === 0 && remove.length === 0) return
    // A write that goes out anyway carries our first entry too (one write, not two).
    const upsert = refreshDue ? scope.map((p) => entryOf(ctx, p, at)) : s.lastOwnEntryAt === 0 ? [entryOf(ctx, ctx.self, at)] : []
    const sent = Array.from(s.outbox.values())
    const signals: Array<PresenceSignal> = sent.map((o) => ({
      from: ctx.self,
      to: o.to,
      attempt: o.attempt,
      description: { type: o.type, sdp: o.sdp },
      at
    }))
    const calls: Array<PresenceCallSlot> = Array.from(s.callOutbox.values())
    s.publishing = true
    yield* ctx.fork(
      Effect.either(ctx.presence.publish({ upsert, remove, signals, calls })).pipe(
        Effect.flatMap((result) =>
          ctx.inActor(
            Effect.gen(function* () {
              const t = yield* now
              s.publishing = false
              s.budget = record(s.budget, "write", t)
              if (result._tag === "Left") {
                // A refused change (a call slot out of bounds) would be refused again: its call slots go.
                if (result.left._tag === "PresenceMalformed") for (const c of calls) s.callOutbox.delete(peerKey(c.to))
                yield* noteError(ctx, result.left, t)
                return yield* reject(ctx, "presence", `presence write failed: ${result.left._tag}`)
              }
              if (s.presenceBlocked !== undefined) {
                // Writing works again (access granted, repository unarchived).
                s.presenceBlocked = undefined
                s.presenceProblem = undefined
              }
              for (const o of sent) if (s.outbox.get(peerKey(o.to))?.attempt === o.attempt) s.outbox.delete(peerKey(o.to))
              for (const c of calls) if (s.callOutbox.get(peerKey(c.to)) === c) s.callOutbox.delete(peerKey(c.to))
              for (const p of remove) {
                s.goodbyes.delete(peerKey(p))
                s.known.delete(peerKey(p))
              }
              // What we wrote is the channel's content now, whether or not we read it back yet.
              for (const e of upsert) s.known.set(peerKey({ username: e.username, sessionId: e.sessionId }), e)
              if (upsert.length > 0) {
                s.lastOwnEntryAt = t
                if (refreshDue) s.lastRefreshAt = t
              }
              if (refreshDue) s.repairDue = false
            })
          )
        )
      )
    )
  })

/** Removes this session's entry from the presence channel (on a graceful close). */
export const withdraw = (ctx: PeerContext): Effect.Effect<void> =>
  ctx.presence.publish({ ...noChange, remove: [ctx.self] }).pipe(
    Effect.timeout("10 seconds"),
    Effect.catchAll(() => Effect.void)
  )
