/**
 * The heartbeat loop on the presence channel: polls it (fast while joining or
 * awaiting an answer, else at a pace the budget affords), answers signaling
 * addressed to this peer, and writes entries and signaling slots as rarely as
 * staleness allows. In file form one peer of each mesh component refreshes the
 * entries of all its members; in Discussion form each user edits only its own
 * comment. Rate limits widen the polls and raise a notice the UI shows.
 */
import { Duration, Effect, Option, PubSub, Queue } from "effect"
import { pollDelayMs, snapshot } from "../domain/budget.js"
import { PRESENCE_REFUSED_RETRY_MS, stepPublish, type PublishCommand, type PublishEvent, type Publisher, type Write } from "../domain/presence-publish.js"
import { electLeader } from "../domain/election.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { isGhost, staleAfterMs } from "./people.js"
import { noChange, type PresenceEntry, type PresenceSignal } from "../domain/presence-doc.js"
import type { PresenceSnapshot } from "../ports/Presence.js"
import type { PeerState } from "./peer-state.js"
import { DISCUSSION_MEMBER_POLL_FACTOR, DISCUSSION_POLL_FACTOR, now, presenceAnswerWindowMs, refuse, reject, type PeerContext } from "./context.js"
import { stepAndRun, type Machine } from "./interpreter.js"
import { component, entryRank, noteKnown, handleDescription, mayLead, replayDeferred, restartsLink, roleComponent, roleHolders, STARTED_TOGETHER_MS } from "./mesh.js"

/** Most presence entries one peer considers (links, roles, refreshes), whatever the document holds. */
export const MAX_CONSIDERED_ENTRIES = 64

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

/** How long a peer stops writing to presence after a permanent refusal (see `stepPublish`). */
export { PRESENCE_REFUSED_RETRY_MS }

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

/** Whether presence shows a live session whose entry is older than this one's start: a mesh was there before it. */
const besideFormedMesh = (ctx: PeerContext, at: number): boolean => hasLiveEntry(ctx, at, ctx.state.startedAt - STARTED_TOGETHER_MS)

/**
 * How long a session that starts alone beside a mesh that was already there reads presence at
 * `pollAwaitMs` (file form): a sponsor reads every `pollFastMs` and offers at once, so an offer
 * comes within a few seconds or not soon. Sessions that start together do not: each would read
 * every version of a document that changes with each first write, and each changed version counts.
 */
export const AWAIT_WATCH_MS = 20_000

/** How long to wait before the next poll. */
export const nextPollDelay = (ctx: PeerContext, at: number): number => {
  const s = ctx.state
  const notice = s.publish.rateNotice
  if (notice !== undefined && at < notice.until) return Math.max(ctx.config.pollFastMs, notice.until - at)
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
    budget: snapshot(s.publish.budget, at),
    now: at,
    reserve: POLL_RESERVE
  })
  // File form: faster still while signaling through presence, or just started alone beside a
  // formed mesh: each hop of an offer and its answer waits for the other side's next read, and a
  // 304 is free.
  if (ctx.presence.form === "file" && (awaiting || (joining && at - s.startedAt < AWAIT_WATCH_MS && besideFormedMesh(ctx, at)))) {
    return Math.min(ctx.config.pollAwaitMs, budgeted)
  }
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

/**
 * When an entry first read at `at` arrived, for telling newcomers: then, unless it was written
 * before this session started (beyond `STARTED_TOGETHER_MS`). Such an entry is no newcomer
 * to this session, whatever its age: it may be a live peer or a tab that crashed or reloaded
 * seconds ago, and only an answer tells them apart. Counted as newcomers, five such ghosts
 * held the sponsor's few offers to unanswering sessions, and a fresh session of a user whose
 * tabs had crashed waited 90 s for its first channel (test/sim/ghosts.test.ts).
 */
const arrivalOf = (s: PeerState, e: PresenceEntry, at: number): number =>
  e.lastSeen < s.startedAt - STARTED_TOGETHER_MS ? Number.NEGATIVE_INFINITY : at

const onPolled = (ctx: PeerContext, snap: PresenceSnapshot): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* publish(ctx, { _tag: "Read", changed: snap.changed, skipped: snap.skipped.map((k) => k.detail) })
    const at = yield* now
    const s = ctx.state
    s.presenceRead = true
    if (!snap.changed) return yield* replayDeferred(ctx)
    s.presenceVersion += 1
    s.known = new Map(snap.document.entries.map((e) => [peerKey({ username: e.username, sessionId: e.sessionId }), e] as const))
    s.arrivals = new Map(Array.from(s.known, ([key, e]) => [key, s.arrivals.get(key) ?? arrivalOf(s, e, at)] as const))
    // A peer considers a bounded number of entries, whatever the document holds: sessions
    // that answered before first, then newcomers, then the most recently refreshed.
    const others = Array.from(s.known).filter(([, e]) => !samePeer({ username: e.username, sessionId: e.sessionId }, ctx.self))
    if (others.length > MAX_CONSIDERED_ENTRIES) {
      const rank = ([key, e]: readonly [string, PresenceEntry]) => entryRank(ctx, key, e.lastSeen, at)
      others.sort((a, b) => rank(b) - rank(a))
      yield* refuse(ctx, "presence", "entries-bound", `${others.length - MAX_CONSIDERED_ENTRIES} presence entries past the ${MAX_CONSIDERED_ENTRIES} considered`)
    }
    const online = new Map(others.slice(0, MAX_CONSIDERED_ENTRIES))
    if (online.size !== s.online.size || Array.from(online.keys()).some((key) => !s.online.has(key))) s.onlineSessions += 1
    s.online = online
    for (const e of snap.document.entries) if (e.fingerprint !== undefined) s.fingerprints.set(peerKey({ username: e.username, sessionId: e.sessionId }), e.fingerprint)
    trimMap(s.fingerprints, MAX_CONSIDERED_ENTRIES * 4)
    rememberSigningKeys(s, snap.document.entries)
    for (const key of s.online.keys()) noteKnown(ctx, key, at)
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
      result._tag === "Right" ? onPolled(ctx, result.right) : publish(ctx, { _tag: "ReadFailed", error: result.left })
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
  // Every tick asks: while everyone can push, the answer is kept for as long as the role holders are.
  const everyoneCanPush = ctx.state.leadership.canPush && ctx.state.cannotPush.size === 0
  const kept = scopes.get(ctx.state)
  if (everyoneCanPush && kept?.mine === mine) return kept.scope
  // Where one peer writes everyone's entries (file form), it is one that may push: a reader in the
  // component (joined through the lobby) cannot write the file, so it refreshes nobody's entry there.
  const refresher = electLeader(ctx.presence.writesForOthers && !everyoneCanPush ? mine.filter(mayLead(ctx)) : mine)
  const scope = Option.isSome(refresher) && samePeer(refresher.value, ctx.self) ? mine : []
  if (everyoneCanPush) scopes.set(ctx.state, { mine, scope })
  return scope
}

/** `refreshScope` per peer state, for the role holders it was worked out from (a memoised selector, not state). */
const scopes = new WeakMap<PeerState, { readonly mine: ReadonlyArray<PeerId>; readonly scope: ReadonlyArray<PeerId> }>()

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
  Effect.flatMap(now, (at) => {
    const s = ctx.state
    return publish(ctx, {
      _tag: "Due",
      closing: s.closing,
      waiting: s.outbox.size + s.callOutbox.size + s.goodbyes.size,
      refresher: s.publish.lastOwnEntryAt !== 0 && refreshScope(ctx, at).length > 0,
      refreshMs: ctx.config.presenceRefreshMs
    })
  })

/**
 * Publishing on the app's one step interpreter (`interpreter.ts`, for
 * `src/domain/presence-publish.ts`), on the actor: steps `ctx.state.publish` with each event and
 * carries out the commands, feeding back what they found (a look at the mesh, the refresh scope,
 * a write's outcome).
 */
export const publish = (ctx: PeerContext, event: PublishEvent): Effect.Effect<void> => stepAndRun(publishing(ctx), event)

/** The publishing machine of `ctx`, made once per peer. */
const publishing = (ctx: PeerContext): Machine<Publisher, PublishEvent, PublishCommand> => {
  let machine = machines.get(ctx)
  if (machine === undefined) {
    machine = {
      get: () => ctx.state.publish,
      set: (state) => void (ctx.state.publish = state),
      step: stepPublish,
      run: (cmd, at) => runPublish(ctx, cmd, at)
    }
    machines.set(ctx, machine)
  }
  return machine
}
const machines = new WeakMap<PeerContext, Machine<Publisher, PublishEvent, PublishCommand>>()

/** What a command that finds nothing returns. */
const NOTHING: ReadonlyArray<PublishEvent> = []

/** Carries out one publishing command; what it returns is fed back into the step. */
const runPublish = (ctx: PeerContext, cmd: PublishCommand, at: number): Effect.Effect<ReadonlyArray<PublishEvent>> => {
  const s = ctx.state
  switch (cmd._tag) {
    case "Look": {
      // The mesh's outbox: a description whose attempt was replaced (an offer relayed through the mesh came since) is not written.
      for (const [key, o] of s.outbox) {
        const link = s.links.get(key)
        if ((link?.attempt !== o.attempt || link.via !== "presence") && !restartsLink(link, o.attempt)) s.outbox.delete(key)
      }
      return Effect.succeed([{
        _tag: "Looked",
        // Ghosts (entries not refreshed for a refresh period) are no mesh: they must not make this peer skip the spread.
        established: besideFormedMesh(ctx, at),
        spreadMs: startSpreadMs(ctx.self.sessionId),
        upForMs: at - s.startedAt,
        offerBeingMade: s.publish.lastOwnEntryAt === 0 && offerBeingMade(s),
        signals: s.outbox.size,
        calls: s.callOutbox.size
      }])
    }
    case "Scope": {
      const scope = refreshScope(ctx, at)
      return Effect.succeed([{
        _tag: "Scoped",
        firstEntry: cmd.firstEntry,
        waiting: cmd.waiting,
        peers: scope,
        lastSeen: scope.map((p) => s.known.get(peerKey(p))?.lastSeen ?? 0),
        // Entries of peers that said goodbye, taken out by the refresher a little later, so that several leaving at once cost one write.
        departed: scope.length > 0 && ctx.presence.writesForOthers ? departedEntries(ctx, at) : [],
        refreshMs: ctx.config.presenceRefreshMs,
        cutAt: s.cutAt
      }])
    }
    case "Publish": {
      const write: Write = {
        upsert: cmd.upsert === "self" ? [entryOf(ctx, ctx.self, at)] : cmd.upsert.map((p) => entryOf(ctx, p, at)),
        remove: cmd.remove,
        signals: Array.from(s.outbox.values(), (o) => ({ from: ctx.self, to: o.to, attempt: o.attempt, description: { type: o.type, sdp: o.sdp }, at })),
        calls: Array.from(s.callOutbox.values()),
        refresh: cmd.refresh
      }
      const { refresh: _, ...change } = write
      return Effect.as(
        ctx.fork(
          Effect.flatMap(Effect.either(ctx.presence.publish(change)), (result) =>
            ctx.inActor(publish(ctx, { _tag: "Written", write, error: result._tag === "Left" ? result.left : undefined }))
          )
        ),
        NOTHING
      )
    }
    case "Landed":
      return Effect.sync(() => {
        const w = cmd.write
        for (const o of w.signals) if (s.outbox.get(peerKey(o.to))?.attempt === o.attempt) s.outbox.delete(peerKey(o.to))
        for (const c of w.calls) if (s.callOutbox.get(peerKey(c.to)) === c) s.callOutbox.delete(peerKey(c.to))
        let online: Map<string, PresenceEntry> | undefined
        for (const p of w.remove) {
          const key = peerKey(p)
          s.goodbyes.delete(key)
          s.known.delete(key)
          // Gone from the channel now, so from those it shows online too: a session that said
          // goodbye is not shown "away" until the next read.
          if (s.online.has(key)) (online ??= new Map(s.online)).delete(key)
        }
        if (online !== undefined) {
          s.online = online
          s.onlineSessions += 1
          s.presenceVersion += 1
        }
        // What we wrote is the channel's content now, whether or not we read it back yet.
        for (const e of w.upsert) s.known.set(peerKey({ username: e.username, sessionId: e.sessionId }), e)
        return NOTHING
      })
    case "DropCalls":
      return Effect.sync(() => {
        for (const c of cmd.calls) s.callOutbox.delete(peerKey(c.to))
        return NOTHING
      })
    case "Report":
      return Effect.as(cmd.kind === undefined ? reject(ctx, "presence", cmd.detail) : reject(ctx, "presence", cmd.detail, cmd.kind), NOTHING)
    case "Nudge":
      return Effect.as(ctx.nudge, NOTHING)
  }
}

/** Removes this session's entry from the presence channel (on a graceful close). */
export const withdraw = (ctx: PeerContext): Effect.Effect<void> =>
  ctx.presence.publish({ ...noChange, remove: [ctx.self] }).pipe(
    Effect.timeout("10 seconds"),
    Effect.catchAll(() => Effect.void)
  )
