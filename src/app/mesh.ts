/**
 * The mesh manager: one connection per online peer, with explicit states.
 * Signaling goes through the presence channel only while no mesh path exists
 * (and then only from the sponsor, batched), otherwise it is relayed by a
 * connected neighbor. In-mesh heartbeats carry each peer's neighbor list, from
 * which every peer derives its component, relay routes and leader.
 */
import { Effect, Option } from "effect"
import { expiresAt, isFresh, MAX_CLOCK_SKEW_MS } from "../domain/heartbeat.js"
import { isAddressedTo, MAX_NEIGHBORS, type ChatPayload, type Description, type Envelope, type EnvelopeOf, type SignalPayload } from "../domain/envelope.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { presenceRetryDelayMs, reconnectDelayMs, stateAfterFailure } from "../domain/link.js"
import { restartBase } from "../domain/ice-restart.js"
import { electLeader } from "../domain/election.js"
import { componentOf, relayTo, type NeighborReport } from "../domain/mesh-view.js"
import {
  attemptsInFlight,
  entryRank as rankEntry,
  expiries,
  MAX_ATTEMPTS_IN_FLIGHT,
  nextReconcileAt,
  stepReconcile,
  type Expiries,
  type ReconcileCommand
} from "../domain/mesh-reconcile.js"
import { answersPresenceOffer, isOfferer } from "../domain/signaling-roles.js"
import { believesListed, mayHoldRole, type SessionEvidence } from "../domain/trust.js"
import type { ChannelEvent } from "../ports/PeerTransport.js"
import { envelopeId, now, presenceAnswerWindowMs, refuse, reject, noteFirst, remember, rememberAt, trouble, withinRate, type PeerContext } from "./context.js"
import { FULL_NEIGHBOR_LIST_EVERY_MS, MAX_HANDLED_SIGNALS, type Link, type PeerState, type WaitingOffer } from "./peer-state.js"
import { withoutGhosts } from "./people.js"

/**
 * What the mesh's selectors remember of one peer's state, each answer with the versions (and
 * time window) it holds for. It is not part of the state: a selector recomputes when the state
 * moved on, and nothing else reads or writes it.
 */
interface Memo {
  component: { readonly version: number; readonly onlineSessions: number; readonly members: ReadonlyArray<PeerId> } | undefined
  neighbors: { readonly version: number; readonly neighbors: ReadonlyArray<PeerId>; readonly signature: string } | undefined
  /** `onlinePeers` per expiry, valid for these versions from `from` until `until` (epoch ms). */
  readonly online: Map<
    number,
    { readonly meshVersion: number; readonly presenceVersion: number; readonly from: number; readonly until: number; readonly peers: ReadonlyArray<PeerId> }
  >
  /** `livePeers` for the online list and component it was computed from. */
  live: { readonly online: ReadonlyArray<PeerId>; readonly component: ReadonlyArray<PeerId>; readonly peers: ReadonlyArray<PeerId> } | undefined
  /** `leaderOf` for the role holders it was elected from, while everyone can push. */
  leader: { readonly roles: ReadonlyArray<PeerId>; readonly leader: PeerId | undefined } | undefined
  /** `believedNeighbors` per neighbor list, for the sessions online and answered it was computed with. */
  readonly believed: WeakMap<ReadonlyArray<PeerId>, { readonly onlineSessions: number; readonly answered: number; readonly neighbors: ReadonlyArray<PeerId> }>
  /**
   * `roleHolders` per list asked about, valid while no session was first heard from or first seen
   * (both maps only grow, and an entry never changes) and from `from` until `until` (epoch ms),
   * when a session's grace ends.
   */
  readonly roles: WeakMap<
    ReadonlyArray<PeerId>,
    { readonly answered: number; readonly seen: number; readonly from: number; readonly until: number; readonly holders: ReadonlyArray<PeerId> }
  >
}

const memos = new WeakMap<PeerState, Memo>()

/** The memo of the selectors of `s`. */
const memoOf = (s: PeerState): Memo => {
  let memo = memos.get(s)
  if (memo === undefined) {
    memo = { component: undefined, neighbors: undefined, online: new Map(), live: undefined, leader: undefined, believed: new WeakMap(), roles: new WeakMap() }
    memos.set(s, memo)
  }
  return memo
}

/** Peers with an open connection. */
export const openPeers = (ctx: PeerContext): ReadonlyArray<PeerId> =>
  Array.from(ctx.state.links.values())
    .filter((l) => l.state === "open")
    .map((l) => l.peer)

/**
 * Peers the presence channel shows online: entries fresher than `expiryMs` (the
 * configured expiry by default), not stale since we saw them go, self excluded.
 * The answer is kept until the channel or the mesh changes or an entry's freshness
 * flips with time, whichever comes first: every tick asks.
 */
export const onlinePeers = (ctx: PeerContext, at: number, expiryMs = ctx.config.presenceExpiryMs): ReadonlyArray<PeerId> => {
  const s = ctx.state
  const cached = memoOf(s).online.get(expiryMs)
  if (
    cached !== undefined &&
    cached.meshVersion === s.meshVersion &&
    cached.presenceVersion === s.presenceVersion &&
    at >= cached.from &&
    at < cached.until
  ) {
    return cached.peers
  }
  const freshness = { intervalMs: ctx.config.presenceRefreshMs, expiryMs }
  const peers: Array<PeerId> = []
  let until = Number.POSITIVE_INFINITY
  for (const [key, e] of s.online) {
    const lostAt = s.lost.get(key)
    if (lostAt !== undefined && e.lastSeen <= lostAt) continue
    if (isFresh(e.lastSeen, at, freshness)) peers.push({ username: e.username, sessionId: e.sessionId })
    // Freshness flips when `at` reaches the entry's believable start or its expiry.
    for (const flip of [e.lastSeen - MAX_CLOCK_SKEW_MS, expiresAt(e.lastSeen, freshness)]) if (flip > at) until = Math.min(until, flip)
  }
  memoOf(s).online.set(expiryMs, { meshVersion: s.meshVersion, presenceVersion: s.presenceVersion, from: at, until, peers })
  return peers
}

/** How recently an entry must have been refreshed to show signs of life: one refresh period, plus polling slack. */
const liveWithinMs = (ctx: PeerContext): number => ctx.config.presenceRefreshMs + 2 * ctx.config.pollBaseMs

/**
 * Online peers that show signs of life: entries refreshed within one refresh period
 * (plus polling slack), since a crashed peer's entry lingers until it expires; and not
 * an entry of our own user from before we started that is outside our mesh, which is
 * most likely our own predecessor (a reload or a crash) and would never answer. These
 * are the peers a sponsor election and a leader's coverage wait for.
 */
export const livePeers = (ctx: PeerContext, at: number): ReadonlyArray<PeerId> => {
  const s = ctx.state
  const comp = component(ctx)
  const online = onlinePeers(ctx, at, liveWithinMs(ctx))
  const memo = memoOf(s)
  if (memo.live?.online === online && memo.live.component === comp) return memo.live.peers
  const members = new Set(comp.map(peerKey))
  const peers = online.filter((p) => {
    const e = s.online.get(peerKey(p))
    return !(sameUser(p.username, ctx.self.username) && !members.has(peerKey(p)) && e !== undefined && e.lastSeen < s.startedAt)
  })
  memo.live = { online, component: comp, peers }
  return peers
}

/** Whether two neighbor lists name the same peers in the same order. */
const sameList = (a: ReadonlyArray<PeerId>, b: ReadonlyArray<PeerId>): boolean =>
  a.length === b.length && a.every((p, i) => samePeer(p, b[i]!))

/** Records that the open set or a neighbor list changed. */
const touch = (ctx: PeerContext): void => {
  ctx.state.meshVersion += 1
}

/** What this peer saw of `peer`: whether it answered, since when it is known, whether presence shows it. */
export const evidenceOf = (ctx: PeerContext, peer: PeerId): SessionEvidence => {
  const key = peerKey(peer)
  return { answeredAt: ctx.state.firstOpen.get(key), firstSeenAt: ctx.state.firstKnown.get(key), inPresence: ctx.state.online.has(key) }
}

/** Whether a session named in a neighbor list is believed (seen in presence or heard from). */
const believed = (ctx: PeerContext, peer: PeerId): boolean => {
  const key = peerKey(peer)
  return believesListed({ answeredAt: ctx.state.firstOpen.get(key), inPresence: ctx.state.online.has(key) })
}

/** How long a session never heard from may hold a role: as long as an offer through presence stays valid. */
export const roleGraceMs = (ctx: PeerContext): number => ctx.config.signalTimeoutMs + presenceAnswerWindowMs(ctx)

/**
 * Most sessions `firstKnown` keeps. A writer of the presence channel can name new made-up
 * sessions at every read (up to `MAX_CONSIDERED_ENTRIES` are taken in each time): unbounded, the
 * map grew by thousands an hour for as long as the peer stayed open.
 */
export const MAX_FIRST_KNOWN = 1024

/**
 * Records that the session `key` is first known at `at`, unless it already was. Past
 * `MAX_FIRST_KNOWN`, the oldest first sightings that no longer decide anything go: sessions no
 * longer in the presence document, without a link, whose role grace is over (for those a first
 * sighting and none alike give no role). Bounded then by the bound plus what one grace can bring.
 */
export const noteKnown = (ctx: PeerContext, key: string, at: number): void => {
  const s = ctx.state
  const grace = roleGraceMs(ctx)
  if (noteFirst(s.firstKnown, key, at, MAX_FIRST_KNOWN, (k, seenAt) => seenAt + grace <= at && !s.known.has(k) && !s.links.has(k))) s.knownAdded += 1
}

/**
 * Most sessions `firstOpen` keeps. Each is a session whose channel opened, so it grows with real
 * connections only, but over a day open in a busy repository (every reload is a new session) or
 * beside a collaborator who makes sessions on purpose it grew without end.
 */
export const MAX_FIRST_OPEN = 1024

/**
 * Records that the channel to session `key` first opened at `at`, unless it did before. Past
 * `MAX_FIRST_OPEN`, the oldest go that no longer decide anything: sessions without a link, not in
 * the presence document and not online. One that comes back answers again when its channel opens.
 */
export const noteOpened = (ctx: PeerContext, key: string, at: number): void => {
  const s = ctx.state
  if (noteFirst(s.firstOpen, key, at, MAX_FIRST_OPEN, (k) => !s.links.has(k) && !s.known.has(k) && !s.online.has(k))) s.answeredVersion += 1
}

/** The sessions of `peers` that may hold a role (sponsor, leader, refresher) at `at`: this one, and those that answer. */
export const roleHolders = (ctx: PeerContext, peers: ReadonlyArray<PeerId>, at: number): ReadonlyArray<PeerId> => {
  const s = ctx.state
  const roles = memoOf(s).roles
  const cached = roles.get(peers)
  if (cached !== undefined && cached.answered === s.answeredVersion && cached.seen === s.knownAdded && at >= cached.from && at < cached.until) {
    return cached.holders
  }
  const grace = roleGraceMs(ctx)
  let until = Number.POSITIVE_INFINITY
  const holders = peers.filter((p) => {
    if (samePeer(p, ctx.self)) return true
    const evidence = evidenceOf(ctx, p)
    // A session never heard from holds a role only until its grace ends: the answer changes then.
    if (evidence.answeredAt === undefined && evidence.firstSeenAt !== undefined && evidence.firstSeenAt + grace > at) {
      until = Math.min(until, evidence.firstSeenAt + grace)
    }
    return mayHoldRole(evidence, at, grace)
  })
  roles.set(peers, { answered: s.answeredVersion, seen: s.knownAdded, from: at, until, holders })
  return holders
}

/**
 * The believed sessions of a neighbor list. A list is kept as long as the neighbor resends it
 * unchanged, so the answer is remembered per list until the sessions presence shows change or a session answers.
 */
const believedNeighbors = (ctx: PeerContext, neighbors: ReadonlyArray<PeerId>): ReadonlyArray<PeerId> => {
  const s = ctx.state
  const lists = memoOf(s).believed
  const cached = lists.get(neighbors)
  if (cached !== undefined && cached.onlineSessions === s.onlineSessions && cached.answered === s.answeredVersion) return cached.neighbors
  const answer = neighbors.filter((n) => believed(ctx, n))
  lists.set(neighbors, { onlineSessions: s.onlineSessions, answered: s.answeredVersion, neighbors: answer })
  return answer
}

/**
 * The peers this peer can reach through the mesh, itself included (recomputed only after a
 * change). Neighbor lists count only for sessions this peer sees in presence or heard from.
 */
export const component = (ctx: PeerContext): ReadonlyArray<PeerId> => {
  const s = ctx.state
  const memo = memoOf(s)
  if (memo.component?.version !== s.meshVersion || memo.component.onlineSessions !== s.onlineSessions) {
    const reports = new Map<string, NeighborReport>()
    for (const [key, r] of s.reports) reports.set(key, { ...r, neighbors: believedNeighbors(ctx, r.neighbors) })
    memo.component = { version: s.meshVersion, onlineSessions: s.onlineSessions, members: componentOf(ctx.self, openPeers(ctx), reports) }
  }
  return memo.component.members
}

/** The members of this peer's component that may hold a role now. */
export const roleComponent = (ctx: PeerContext, at: number): ReadonlyArray<PeerId> => roleHolders(ctx, component(ctx), at)

/** Whether a peer may lead: it can push (a session that cannot says so in its heartbeats). */
export const mayLead =
  (ctx: PeerContext) =>
  (p: PeerId): boolean =>
    samePeer(p, ctx.self) ? ctx.state.leadership.canPush : !ctx.state.cannotPush.has(peerKey(p))

/**
 * The leader of this peer's component: its smallest member that answers (a silent or phantom
 * session never leads) and can push (a read-only one never does).
 */
export const leaderOf = (ctx: PeerContext, at: number): PeerId | undefined => {
  const s = ctx.state
  const roles = roleComponent(ctx, at)
  // Every tick asks: while everyone can push, the answer is kept for as long as the role holders are.
  const everyoneCanPush = s.leadership.canPush && s.cannotPush.size === 0
  const memo = memoOf(s)
  if (everyoneCanPush && memo.leader?.roles === roles) return memo.leader.leader
  const leader = Option.getOrUndefined(electLeader(everyoneCanPush ? roles : roles.filter(mayLead(ctx))))
  memo.leader = everyoneCanPush ? { roles, leader } : undefined
  return leader
}

/** What the UI says when nobody in reach can push: history is not being saved. */
export const NOBODY_CAN_PUSH =
  "Nobody online can push to this repository, so history is not being saved: messages stay on the devices of those online until someone with write access joins."

const linkOf = (ctx: PeerContext, peer: PeerId, at: number): Link => {
  const key = peerKey(peer)
  let link = ctx.state.links.get(key)
  if (link === undefined) {
    link = {
      peer,
      state: "discovered",
      attempt: undefined,
      via: undefined,
      relayVia: undefined,
      deadline: 0,
      failures: 0,
      retryAt: 0,
      meshRetryAt: 0,
      heardAt: 0
    }
    ctx.state.links.set(key, link)
    noteKnown(ctx, key, at)
  }
  return link
}

/** Sends an envelope to one peer; a failed send is not an error of the caller. */
export const sendTo = (ctx: PeerContext, peer: PeerId, envelope: Envelope): Effect.Effect<void> =>
  Effect.catchAll(ctx.transport.send(peer, envelope), (e) => trouble(ctx, peer, `send failed: ${e.reason}: ${e.detail}`))

/** Sends chat traffic meant for one session only (hand-off, catch-up, acknowledgements) to it. */
export const sendChatTo = (ctx: PeerContext, peer: PeerId, payload: ChatPayload): Effect.Effect<void> =>
  Effect.flatMap(now, (at) =>
    sendTo(ctx, peer, {
      v: 1,
      id: envelopeId(ctx, at),
      type: "chat",
      from: ctx.self,
      to: { username: peer.username, sessionId: peer.sessionId },
      timestamp: at,
      payload
    })
  )

/** Sends one envelope to every open connection that it is addressed to. */
export const broadcast = (ctx: PeerContext, make: (id: string, at: number) => Envelope): Effect.Effect<void> =>
  Effect.flatMap(now, (at) => {
    const envelope = make(envelopeId(ctx, at), at)
    return Effect.forEach(
      openPeers(ctx).filter((p) => isAddressedTo(envelope.to, p)),
      (p) => sendTo(ctx, p, envelope),
      { discard: true }
    )
  })

/** `neighborSignature` per list (a list is never changed once made or received). */
const signatures = new WeakMap<ReadonlyArray<PeerId>, string>()

/** A neighbor list's order-free signature. */
const neighborSignature = (neighbors: ReadonlyArray<PeerId>): string => {
  let signature = signatures.get(neighbors)
  if (signature === undefined) {
    signature = neighbors.map(peerKey).sort().join(" ")
    signatures.set(neighbors, signature)
  }
  return signature
}

/** The neighbor list this peer would send now and its order-free signature (recomputed only after a change). */
const currentNeighbors = (ctx: PeerContext): { readonly neighbors: ReadonlyArray<PeerId>; readonly signature: string } => {
  const s = ctx.state
  const memo = memoOf(s)
  if (memo.neighbors?.version !== s.meshVersion) {
    const neighbors = openPeers(ctx).slice(0, MAX_NEIGHBORS)
    memo.neighbors = { version: s.meshVersion, neighbors, signature: neighborSignature(neighbors) }
  }
  return memo.neighbors
}

/** Whether the open set differs from the neighbor list last sent. */
export const neighborsChanged = (ctx: PeerContext): boolean => currentNeighbors(ctx).signature !== ctx.state.lastNeighbors

const heartbeat = (ctx: PeerContext, id: string, at: number, full: boolean, leaving?: boolean): EnvelopeOf<"presence"> => {
  const { neighbors, signature } = currentNeighbors(ctx)
  const send = full || signature !== ctx.state.lastNeighbors || at - ctx.state.lastNeighborsAt >= FULL_NEIGHBOR_LIST_EVERY_MS
  if (send && !full) {
    ctx.state.lastNeighbors = signature
    ctx.state.lastNeighborsAt = at
  }
  return {
    v: 1,
    id,
    type: "presence",
    from: ctx.self,
    to: null,
    timestamp: at,
    payload: {
      _tag: "heartbeat",
      ...(send ? { neighbors } : {}),
      ...(leaving === true ? { leaving } : {}),
      ...(ctx.state.leadership.canPush ? {} : { readOnly: true }),
      ...(ctx.state.leadership.isLeader ? { leads: true } : {})
    }
  }
}

/** Sends an in-mesh heartbeat to every neighbor (or a goodbye when leaving). */
export const sendHeartbeats = (ctx: PeerContext, leaving?: boolean): Effect.Effect<void> =>
  Effect.flatMap(now, (at) => {
    ctx.state.lastBeatAt = at
    const envelope = heartbeat(ctx, envelopeId(ctx, at), at, false, leaving)
    return Effect.forEach(openPeers(ctx), (p) => sendTo(ctx, p, envelope), { discard: true })
  })

/**
 * How long ago `peer` last showed it was alive and reachable by signaling: an open link to it
 * was lost, or it answered an offer. Undefined when neither ever happened.
 */
const sinceContact = (ctx: PeerContext, peer: PeerId, at: number): number | undefined => {
  const key = peerKey(peer)
  const last = Math.max(ctx.state.lost.get(key) ?? Number.NEGATIVE_INFINITY, ctx.state.answered.get(key) ?? Number.NEGATIVE_INFINITY)
  return last === Number.NEGATIVE_INFINITY ? undefined : at - last
}

/** Marks a connection attempt failed and schedules the next one. */
const failLink = (ctx: PeerContext, link: Link, at: number): Effect.Effect<void> => {
  touch(ctx)
  // What its heartbeats said holds for that connection only.
  ctx.state.leading.delete(peerKey(link.peer))
  if (link.state === "open" || link.restartingSince !== undefined) {
    ctx.state.lost.set(peerKey(link.peer), at)
    if (!ctx.state.goodbyes.has(peerKey(link.peer))) ctx.state.cutAt = at
  }
  link.restartingSince = undefined
  const wasLive = link.attempt !== undefined || link.state === "open"
  link.failures += 1
  link.state = stateAfterFailure(link.failures)
  link.meshRetryAt = at + reconnectDelayMs(link.failures, ctx.config.reconnectBaseMs, ctx.config.reconnectMaxMs)
  link.retryAt =
    link.via === "presence"
      ? at + presenceRetryDelayMs(link.failures, ctx.config.presenceRetryBaseMs, ctx.config.presenceRetryMaxMs, sinceContact(ctx, link.peer, at))
      : link.meshRetryAt
  link.attempt = undefined
  link.via = undefined
  return wasLive ? ctx.transport.close(link.peer) : Effect.void
}

/** The fingerprint the session `key` published, in the last read or any earlier one. */
const fingerprintAt = (ctx: PeerContext, key: string): string | undefined => ctx.state.known.get(key)?.fingerprint ?? ctx.state.fingerprints.get(key)

const fingerprintOf = (ctx: PeerContext, peer: PeerId): Option.Option<string> => Option.fromNullable(fingerprintAt(ctx, peerKey(peer)))

/**
 * Sends a signaling payload towards `target` through a neighbor that reaches it:
 * the one that relayed `target`'s own signaling to us if it is still open (its
 * neighbor list may not have reached us yet), else one whose list names `target`.
 */
const relay = (ctx: PeerContext, target: PeerId, payload: SignalPayload, prefer?: PeerId): Effect.Effect<boolean> =>
  Option.match(
    prefer !== undefined && ctx.state.links.get(peerKey(prefer))?.state === "open"
      ? Option.some(prefer)
      : relayTo(target, openPeers(ctx), ctx.state.reports),
    {
    onNone: () => Effect.succeed(false),
    onSome: (via) =>
      Effect.flatMap(now, (at) =>
        Effect.as(
          sendTo(ctx, via, { v: 1, id: envelopeId(ctx, at), type: "signal", from: ctx.self, to: null, timestamp: at, payload }),
          true
        )
      )
    }
  )

/** Delivers our half of a signaling exchange the way the other half came. */
const deliverDescription = (ctx: PeerContext, link: Link, attempt: string, description: Description): Effect.Effect<void> =>
  Effect.flatMap(now, (at) => {
    if (link.attempt !== attempt) return Effect.void
    // Our answer is out: what remains is ICE and DTLS.
    if (description.type === "answer") link.state = "connecting"
    if (link.via === "presence") {
      ctx.state.outbox.set(peerKey(link.peer), { to: link.peer, attempt, sdp: description.sdp, type: description.type })
      return Effect.zipRight(ctx.wakePoller, ctx.nudge)
    }
    return Effect.flatMap(
      relay(ctx, link.peer, { _tag: "description", origin: ctx.self, target: link.peer, attempt, description }, link.relayVia),
      (sent) => (sent ? Effect.void : Effect.zipRight(trouble(ctx, link.peer, "no neighbor reaches this peer to relay signaling"), failLink(ctx, link, at)))
    )
  })

/**
 * Delivers one half of an ICE restart of the open connection to `link.peer`: relayed by another
 * neighbor that reaches it, else through the presence channel (the connection itself has no
 * path). A restart that cannot be delivered is left to the transport's timeout.
 */
const deliverRestart = (ctx: PeerContext, link: Link, attempt: string, description: Description, relayedBy?: PeerId): Effect.Effect<void> =>
  Effect.suspend(() => {
    const others = openPeers(ctx).filter((p) => !samePeer(p, link.peer))
    const via =
      relayedBy !== undefined && !samePeer(relayedBy, link.peer) && ctx.state.links.get(peerKey(relayedBy))?.state === "open"
        ? Option.some(relayedBy)
        : relayTo(link.peer, others, ctx.state.reports)
    return Option.match(via, {
      onSome: (neighbor) =>
        Effect.flatMap(now, (at) =>
          sendTo(ctx, neighbor, {
            v: 1,
            id: envelopeId(ctx, at),
            type: "signal",
            from: ctx.self,
            to: null,
            timestamp: at,
            payload: { _tag: "description", origin: ctx.self, target: link.peer, attempt, description }
          })
        ),
      onNone: () => {
        ctx.state.outbox.set(peerKey(link.peer), { to: link.peer, attempt, sdp: description.sdp, type: description.type })
        return Effect.zipRight(ctx.wakePoller, ctx.nudge)
      }
    })
  })

/** Whether `attempt` names an ICE restart of `link`'s connection (open, or being repaired). */
export const restartsLink = (link: Link | undefined, attempt: string): boolean =>
  link !== undefined && (link.state === "open" || link.restartingSince !== undefined) && link.attempt !== undefined && restartBase(attempt) === link.attempt

/** Answers (or completes) an ICE restart of an open connection; the answer goes back the way the offer came. */
const handleRestart = (ctx: PeerContext, link: Link, attempt: string, description: Description, relayedBy: PeerId | undefined): Effect.Effect<void> => {
  const remote = { peer: link.peer, fingerprint: fingerprintOf(ctx, link.peer) }
  if (description.type === "answer") {
    return ctx.fork(Effect.catchAll(ctx.transport.complete(remote, attempt, description), (e) => ctx.inActor(reject(ctx, link.peer, `ICE restart answer refused: ${e.reason}: ${e.detail}`))))
  }
  if (isOfferer(ctx.self, link.peer)) return reject(ctx, link.peer, "ICE restart offer from a peer whose role is to answer")
  return ctx.fork(
    ctx.transport.answer(remote, attempt, description).pipe(
      Effect.matchEffect({
        onFailure: (e) => ctx.inActor(reject(ctx, link.peer, `ICE restart offer refused: ${e.reason}: ${e.detail}`)),
        onSuccess: (answer) => ctx.inActor(restartsLink(link, attempt) ? deliverRestart(ctx, link, attempt, answer, relayedBy) : Effect.void)
      })
    )
  )
}

const startOffer = (ctx: PeerContext, link: Link, via: "presence" | "mesh", at: number): Effect.Effect<void> => {
  ctx.state.attemptSeq += 1
  const attempt = `${ctx.self.sessionId}.${ctx.state.attemptSeq}`
  link.state = "signaling"
  link.attempt = attempt
  link.restartingSince = undefined
  link.via = via
  link.relayVia = undefined
  // The other side answers a presence offer only after its next read of the channel.
  link.deadline = at + ctx.config.signalTimeoutMs + (via === "presence" ? presenceAnswerWindowMs(ctx) : 0)
  return ctx.fork(
    ctx.transport.offer({ peer: link.peer, fingerprint: fingerprintOf(ctx, link.peer) }, attempt).pipe(
      Effect.matchEffect({
        onFailure: (e) => ctx.inActor(Effect.zipRight(trouble(ctx, link.peer, `offer failed: ${e.detail}`), Effect.flatMap(now, (t) => failLink(ctx, link, t)))),
        onSuccess: (offer) => ctx.inActor(deliverDescription(ctx, link, attempt, offer))
      })
    )
  )
}

/**
 * Most offers one neighbor may relay to this peer per minute from sessions this peer does not
 * believe (not in presence, never heard from). Offers from believed sessions are not counted: a
 * joiner of a mesh of 50 gets one from every member through its first neighbor within seconds.
 */
export const MAX_RELAYED_OFFERS_PER_MINUTE = 10
/** Most names from neighbor lists remembered as looked up in presence. */
export const MAX_LOOKED_UP = 1_000

/** Longest a link waits for its connection's ICE restart, should the transport never report. */
export const MAX_ICE_RESTART_MS = 60_000

/** Most relayed offers held while this peer reads presence for their senders' fingerprints. */
export const MAX_DEFERRED_OFFERS = 8

/** Asks the poller for a read soon: a neighbor named, or a relayed offer came from, a session not seen in presence yet. */
const requestPresenceCheck = (ctx: PeerContext): Effect.Effect<void> => {
  if (ctx.state.presenceCheckDue) return Effect.void
  ctx.state.presenceCheckDue = true
  return ctx.wakePoller
}

/** Most offers held while `MAX_ATTEMPTS_IN_FLIGHT` attempts are in flight (as many as entries a peer considers). */
export const MAX_WAITING_OFFERS = 64

/**
 * The offers that waited for a free attempt, answered while attempts are free; one older than an
 * offer's validity is dropped (its offerer gave up and will offer again).
 */
const answerWaiting = (ctx: PeerContext, at: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const waiting = ctx.state.waiting
    if (waiting.size === 0) return Effect.void
    const ready: Array<WaitingOffer> = []
    let free = MAX_ATTEMPTS_IN_FLIGHT - attemptsInFlight(ctx.state.links.values())
    for (const [key, w] of waiting) {
      // Dropped once its offerer gave up, or once the link moved on without it.
      const link = ctx.state.links.get(key)
      if (at - w.at >= ctx.config.signalTimeoutMs || link === undefined || link.state === "open" || link.attempt !== undefined) waiting.delete(key)
      else if (free > 0) {
        waiting.delete(key)
        ready.push(w)
        free -= 1
      }
    }
    return Effect.forEach(ready, (w) => handleDescription(ctx, w.origin, w.attempt, w.description, w.via, w.relayedBy), { discard: true })
  })

/** After a presence read: the offers that waited for it are acted on, or refused when their sender still publishes no fingerprint. */
export const replayDeferred = (ctx: PeerContext): Effect.Effect<void> =>
  Effect.suspend(() => {
    ctx.state.presenceCheckDue = false
    const waiting = Array.from(ctx.state.deferred.values())
    ctx.state.deferred.clear()
    return Effect.forEach(waiting, (d) => handleDescription(ctx, d.origin, d.attempt, d.description, "mesh", d.relayedBy, true), { discard: true })
  })

/** Acts on an offer or answer addressed to this peer, from the presence channel or the mesh. */
export const handleDescription = (
  ctx: PeerContext,
  origin: PeerId,
  attempt: string,
  description: Description,
  via: "presence" | "mesh",
  relayedBy?: PeerId,
  deferredOnce = false
): Effect.Effect<void> =>
  Effect.flatMap(now, (at) => {
    const key = `${peerKey(origin)}/${attempt}/${description.type}`
    if (ctx.state.handled.has(key) || samePeer(origin, ctx.self)) return Effect.void
    if (Option.isNone(fingerprintOf(ctx, origin))) {
      // A session's SDP is checked against the fingerprint its entry publishes: with none, nothing
      // proves who made it. A relayed offer from a joiner this peer has not read yet waits for one read.
      if (description.type === "offer" && via === "mesh" && !deferredOnce && ctx.state.deferred.size < MAX_DEFERRED_OFFERS) {
        ctx.state.deferred.set(peerKey(origin), { origin, attempt, description, relayedBy })
        return requestPresenceCheck(ctx)
      }
      return refuse(ctx, origin, "no-fingerprint", `${description.type} from a session with no published fingerprint`)
    }
    const link = linkOf(ctx, origin, at)
    // An ICE restart repairs the open connection in place, whoever would answer a first contact.
    const restart = restartsLink(link, attempt)
    // A first contact through presence is answered by the smallest member of this peer's component
    // only. Left unmarked, an offer another member is to answer is looked at again at the next read:
    // should the role move here meanwhile (that member left, or the mesh split), this peer answers it.
    if (!restart && description.type === "offer" && via === "presence" && !isOfferer(ctx.self, origin) && !answersPresenceOffer(ctx.self, roleComponent(ctx, at), origin)) {
      return Effect.void
    }
    // A new contact while the attempts in flight are at their bound waits for one to settle (not
    // marked handled, so it is acted on then), unless too many already wait: the offerer retries later.
    if (
      !restart &&
      description.type === "offer" &&
      !isOfferer(ctx.self, origin) &&
      link.attempt === undefined &&
      link.state !== "open" &&
      !ctx.state.firstOpen.has(peerKey(origin)) &&
      attemptsInFlight(ctx.state.links.values()) >= MAX_ATTEMPTS_IN_FLIGHT
    ) {
      const waiting = ctx.state.waiting
      if (waiting.has(peerKey(origin)) || waiting.size < MAX_WAITING_OFFERS) {
        waiting.set(peerKey(origin), { origin, attempt, description, via, relayedBy, at })
        return Effect.void
      }
      return refuse(ctx, origin, "attempts-bound", `offer refused: ${MAX_ATTEMPTS_IN_FLIGHT} connection attempts in flight and ${MAX_WAITING_OFFERS} waiting`)
    }
    ctx.state.handled.add(key)
    if (ctx.state.handled.size > MAX_HANDLED_SIGNALS) ctx.state.handled.delete(ctx.state.handled.values().next().value!)
    if (restart) return handleRestart(ctx, link, attempt, description, relayedBy)
    if (relayedBy !== undefined && !samePeer(relayedBy, origin)) link.relayVia = relayedBy
    const remote = { peer: origin, fingerprint: fingerprintOf(ctx, origin) }
    if (description.type === "offer") {
      if (isOfferer(ctx.self, origin)) return reject(ctx, origin, "offer from a peer whose role is to answer")
      if (link.state === "open" && link.attempt === attempt) return Effect.void
      if (link.state === "open") touch(ctx)
      link.state = "signaling"
      link.attempt = attempt
      link.restartingSince = undefined
      link.via = via
      // Through presence the offerer reads our answer only at its next read of the channel.
      link.deadline = at + ctx.config.signalTimeoutMs + (via === "presence" ? presenceAnswerWindowMs(ctx) : 0)
      return ctx.fork(
        ctx.transport.answer(remote, attempt, description).pipe(
          Effect.matchEffect({
            onFailure: (e) =>
              ctx.inActor(Effect.zipRight(reject(ctx, origin, `offer refused: ${e.reason}: ${e.detail}`), link.attempt === attempt ? failLink(ctx, link, at) : Effect.void)),
            onSuccess: (answer) => ctx.inActor(deliverDescription(ctx, link, attempt, answer))
          })
        )
      )
    }
    if (link.attempt !== attempt || link.state !== "signaling") return Effect.void
    link.state = "connecting"
    rememberAt(ctx.state.answered, peerKey(origin), at, MAX_LOOKED_UP)
    return ctx.fork(
      Effect.catchAll(ctx.transport.complete(remote, attempt, description), (e) =>
        ctx.inActor(Effect.zipRight(reject(ctx, origin, `answer refused: ${e.reason}: ${e.detail}`), link.attempt === attempt ? failLink(ctx, link, at) : Effect.void))
      )
    )
  })

/** Applies a connection state change reported by the transport. */
export const onChannel = (ctx: PeerContext, event: ChannelEvent): Effect.Effect<void> =>
  Effect.zipLeft(applyChannel(ctx, event), ctx.nudge)

const applyChannel = (ctx: PeerContext, event: ChannelEvent): Effect.Effect<void> =>
  Effect.flatMap(now, (at) => {
    const link = linkOf(ctx, event.peer, at)
    // An event of an attempt this peer no longer holds is history: the attempt was failed here
    // (past its deadline, or refused) and closed, which the transport reports as "closed"; or a
    // newer attempt replaced it, or the offer was withdrawn (back to "discovered"). Acting on it
    // would count one failure twice (doubling the wait before the next try) or fail the newer attempt.
    if (link.attempt !== event.attempt) return Effect.void
    touch(ctx)
    switch (event.state) {
      case "restarting":
        // Not a neighbor while its path is down (no route, no leader through it), but the same
        // connection: it opens again when the restart succeeds, and catch-up fills the gap.
        if (link.state === "open") {
          link.state = "reconnecting"
          link.restartingSince = at
          link.deadline = at + MAX_ICE_RESTART_MS
          ctx.state.reports.delete(peerKey(event.peer))
        }
        return event.restartOffer === undefined || link.restartingSince === undefined
          ? Effect.void
          : deliverRestart(ctx, link, event.restartOffer.attempt, event.restartOffer.description)
      case "open":
        link.restartingSince = undefined
        link.state = "open"
        link.failures = 0
        link.heardAt = at
        noteOpened(ctx, peerKey(event.peer), at)
        // A new neighbor gets our full list at once, so it can route and elect right away.
        return Effect.flatMap(now, (t) => sendTo(ctx, event.peer, heartbeat(ctx, envelopeId(ctx, t), t, true)))
      case "connecting":
        // The transport starts an attempt as we make or answer an offer: that is still signaling.
        if (link.state !== "open" && link.state !== "signaling") link.state = "connecting"
        return Effect.void
      case "closed":
      case "failed":
        ctx.state.reports.delete(peerKey(event.peer))
        return failLink(ctx, link, at)
    }
  })

/** Handles an in-mesh heartbeat or a signaling envelope. */
export const onMeshEnvelope = (ctx: PeerContext, envelope: EnvelopeOf<"presence"> | EnvelopeOf<"signal">, at: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const from = envelope.from
    if (envelope.type === "presence") {
      const fromKey = peerKey(from)
      if (envelope.payload.leaving === true) {
        touch(ctx)
        ctx.state.reports.delete(fromKey)
        ctx.state.leading.delete(fromKey)
        ctx.state.lost.set(fromKey, at)
        ctx.state.goodbyes.set(fromKey, at)
        return Effect.void
      }
      if (envelope.payload.leads === true) ctx.state.leading.add(fromKey)
      else ctx.state.leading.delete(fromKey)
      // Whether the sender can push decides whether it may lead.
      if (envelope.payload.readOnly === true) ctx.state.cannotPush.add(fromKey)
      else ctx.state.cannotPush.delete(fromKey)
      const listed = envelope.payload.neighbors
      const previous = ctx.state.reports.get(fromKey)
      // A full list is resent now and then even when unchanged: only a change moves the mesh view.
      const changed = listed !== undefined && (previous === undefined || !sameList(previous.neighbors, listed))
      ctx.state.reports.set(fromKey, { peer: from, neighbors: changed ? listed : (previous?.neighbors ?? []), heardAt: at })
      if (changed) {
        touch(ctx)
        // Only sessions this peer also sees in presence or heard from: a phantom costs nothing.
        // A name not seen yet (a joiner, or a phantom) is looked up with one read of presence, once.
        const trusted = believedNeighbors(ctx, listed)
        const isTrusted = new Set(trusted)
        let unknown = false
        for (const n of listed) {
          if (samePeer(n, ctx.self) || isTrusted.has(n)) continue
          const key = peerKey(n)
          if (!ctx.state.lookedUp.has(key)) {
            remember(ctx.state.lookedUp, key, MAX_LOOKED_UP)
            unknown = true
          }
        }
        for (const n of trusted) if (!samePeer(n, ctx.self)) linkOf(ctx, n, at)
        const check = unknown ? requestPresenceCheck(ctx) : Effect.void
        // A new route may let this peer offer through the mesh now (a list resent unchanged brings none):
        // act at once only when it names a peer this one is to offer to and could (others wait for the tick).
        if (
          (previous === undefined || neighborSignature(listed) !== neighborSignature(previous.neighbors)) &&
          trusted.some((n) => mayOfferThroughMesh(ctx, n, at))
        ) {
          return Effect.zipRight(check, ctx.nudge)
        }
        return check
      }
      return Effect.void
    }
    const p = envelope.payload
    if (!samePeer(p.target, ctx.self)) {
      // A relay forwards unchanged; the target verifies the SDP against what origin published.
      const direct = ctx.state.links.get(peerKey(p.target))
      if (direct?.state !== "open") return reject(ctx, from, "signal for a peer this session is not connected to")
      return sendTo(ctx, p.target, { ...envelope, id: envelopeId(ctx, at), from: ctx.self, timestamp: at })
    }
    if (p._tag === "description") {
      // Offers relayed by one neighbor from sessions this peer does not believe are bounded per
      // minute: invented senders cost little. A believed one costs at most an attempt, and those are bounded.
      if (p.description.type === "offer" && !believed(ctx, p.origin) && !withinRate(ctx.state.relayedOffers, peerKey(from), at, MAX_RELAYED_OFFERS_PER_MINUTE, 60_000)) {
        return refuse(ctx, from, "relayed-offer-rate", `more than ${MAX_RELAYED_OFFERS_PER_MINUTE} relayed offers in a minute`)
      }
      return handleDescription(ctx, p.origin, p.attempt, p.description, "mesh", from)
    }
    return Effect.void
  })

/**
 * Whether a route to `peer` through the mesh would let this peer start an offer now: it
 * offers to `peer`, and has no link to it yet or one idle past its retry time, or one
 * still waiting on an unanswered presence offer (which a mesh path replaces).
 */
const mayOfferThroughMesh = (ctx: PeerContext, peer: PeerId, at: number): boolean => {
  if (samePeer(peer, ctx.self) || !isOfferer(ctx.self, peer)) return false
  const link = ctx.state.links.get(peerKey(peer))
  if (link === undefined) return true
  if (link.via === "presence" && link.state === "signaling") return true
  return link.state !== "open" && link.attempt === undefined && at >= link.meshRetryAt
}

/** Whether the entry `key` appeared in the presence document within `newcomerWindowMs`. */
const isNewcomer = (ctx: PeerContext, key: string, at: number): boolean => {
  const arrived = ctx.state.arrivals.get(key)
  return arrived !== undefined && at - arrived < newcomerWindowMs(ctx)
}

/** How long an entry new in the presence document ranks as a newcomer: long enough for a sponsor's offer slot to free up. */
export const newcomerWindowMs = (ctx: PeerContext): number => 2 * roleGraceMs(ctx)

/** How the entry `key` ranks for what this peer considers and offers to first (see the domain's `entryRank`). */
export const entryRank = (ctx: PeerContext, key: string, lastSeen: number, at: number): number =>
  rankEntry(ctx.state.firstOpen.has(key), isNewcomer(ctx, key, at), lastSeen)

/** Peers whose entries are at most this much older than this session's start may have started with it. */
export const STARTED_TOGETHER_MS = 10_000

/** The peers of `peers` whose entries are older than this session's start by `STARTED_TOGETHER_MS`: members of a mesh that was there before it. */
const establishedPeers = (ctx: PeerContext, peers: ReadonlyArray<PeerId>): ReadonlyArray<PeerId> => {
  const s = ctx.state
  return peers.filter((p) => (s.online.get(peerKey(p))?.lastSeen ?? Number.POSITIVE_INFINITY) < s.startedAt - STARTED_TOGETHER_MS)
}

/**
 * Housekeeping of the mesh: expire silent neighbors, time out stuck attempts,
 * and start the connections that this peer's role and position call for.
 * Expiries move with time only: the tick does them; a nudge (something changed) skips them.
 * What to do is decided by the domain's pure steps (`expiries`, `stepReconcile`); this is
 * their one interpreter.
 */
export const reconcile = (ctx: PeerContext, options: { readonly expire: boolean } = { expire: true }): Effect.Effect<void> =>
  Effect.clockWith((clock) => {
    // Runs every tick: the checks are plain code, effects only when something is due.
    const at = clock.unsafeCurrentTimeMillis()
    const due = options.expire ? expiries(ctx.state.links, ctx.state.reports, at, ctx.config.meshExpiryMs) : undefined
    // Offers waiting for a free attempt are looked at every tick, settled or not.
    if (due === undefined && settled(ctx, at)) return answerWaiting(ctx, at)
    return reconcileNow(ctx, at, due)
  })

/**
 * Whether nothing a full reconcile looks at moved: the mesh, the presence channel, an
 * attempt's retry time or deadline, or the time (freshness windows move with it).
 */
const settled = (ctx: PeerContext, at: number): boolean => {
  const s = ctx.state
  return s.meshVersion === s.reconciled.meshVersion && s.presenceVersion === s.reconciled.presenceVersion && at < s.reconciled.nextDueAt
}

const reconcileNow = (ctx: PeerContext, at: number, due: Expiries | undefined): Effect.Effect<void> =>
  Effect.gen(function* () {
    const s = ctx.state
    if (due !== undefined) {
      for (const key of due.reports) {
        s.reports.delete(key)
        touch(ctx)
      }
      for (const key of due.links) {
        const link = s.links.get(key)!
        if (link.state === "open") yield* trouble(ctx, link.peer, "no heartbeat within the expiry: connection dropped")
        yield* failLink(ctx, link, at)
      }
    }
    yield* answerWaiting(ctx, at)
    // The rest only matters when the mesh or the presence channel changed, when an attempt
    // may start again, or now and then (freshness windows move with time).
    if (settled(ctx, at)) return
    s.reconciled = { meshVersion: s.meshVersion, presenceVersion: s.presenceVersion, nextDueAt: nextReconcileAt(s.links.values(), at) }
    const comp = component(ctx)
    const online = onlinePeers(ctx, at)
    // Every session online or in reach has a link (known from now on), before the roles are read.
    for (const p of [...online, ...comp]) if (!samePeer(p, ctx.self)) linkOf(ctx, p, at)
    const live = livePeers(ctx, at)
    const step = stepReconcile(s.links, {
      self: ctx.self,
      online,
      bridgeable: withoutGhosts(ctx, online, at),
      // Offers go to every session with signs of life, this user's other sessions included: one
      // that predates this session may be a crashed predecessor (it holds no role: `roleLive`), or
      // this user's tab on another machine, alive beyond a partition (seed 5007 of the Discussion
      // soak: skipped until its entry's next refresh, four minutes, the mesh stayed split).
      live: onlinePeers(ctx, at, liveWithinMs(ctx)),
      component: comp,
      roleComponent: roleHolders(ctx, comp, at),
      roleLive: roleHolders(ctx, live, at),
      established: establishedPeers(ctx, live),
      open: openPeers(ctx),
      reports: s.reports,
      outsideSince: s.outsideSince,
      answered: s.firstOpen,
      arrivals: s.arrivals,
      known: s.known,
      fingerprinted: (key) => fingerprintAt(ctx, key) !== undefined,
      unwritten: s.outbox,
      writing: s.publish.publishing,
      newcomerWindowMs: newcomerWindowMs(ctx),
      bridgePatienceMs: ctx.config.bridgePatienceMs
    }, at)
    s.outsideSince = step.outsideSince
    for (const cmd of step.commands) yield* runReconcile(ctx, cmd, at)
  })

/** Carries out one command of `stepReconcile` on the table of links. */
const runReconcile = (ctx: PeerContext, cmd: ReconcileCommand, at: number): Effect.Effect<void> => {
  const s = ctx.state
  const link = s.links.get(cmd.key)!
  switch (cmd._tag) {
    case "Withdraw":
      if (cmd.dropOffer) s.outbox.delete(cmd.key)
      link.state = "discovered"
      link.attempt = undefined
      link.via = undefined
      link.retryAt = 0
      link.meshRetryAt = 0
      return Effect.void
    case "Forget":
      s.links.delete(cmd.key)
      return Effect.void
    case "GiveWay":
      return Effect.zipRight(trouble(ctx, link.peer, "unanswered offer through presence gave way to a newcomer's"), failLink(ctx, link, at))
    case "Offer":
      return startOffer(ctx, link, cmd.via, at)
  }
}
