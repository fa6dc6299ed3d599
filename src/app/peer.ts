/**
 * One SkyGit peer: the mesh manager, the presence heartbeat loop, chat and the
 * leader's committer, composed over the ports. Every change of the peer's state
 * runs on one actor fiber, so no two handlers ever interleave.
 */
import { Deferred, Effect, FiberSet, Option, PubSub, Queue, Stream, type Scope } from "effect"
import { emptyBudget } from "../domain/budget.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { actsAsLeader } from "../domain/mesh-view.js"
import { electLeader } from "../domain/election.js"
import type { Envelope, Recipient } from "../domain/envelope.js"
import type { ConversationId, Message } from "../domain/message.js"
import { ConversationRepo, type ConversationRepoService, type HistoryCursor } from "../ports/ConversationRepo.js"

/** Where a page of older history starts (the UI pages with it). */
export type { HistoryCursor }
import { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport } from "../ports/PeerTransport.js"
import { Presence } from "../ports/Presence.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { MessageSigner } from "../ports/MessageSigner.js"
import { sealPresence } from "./sealed-presence.js"
import { handoff, onChat, remember, sendActivity, sendChat } from "./chat.js"
import { CATCHUP_WINDOW_MS, sendSummary } from "./catch-up.js"
import { stateOf, type MessageState, type MessageStatus } from "./message-state.js"
import { peopleOf } from "./people.js"
import { absorb, flush, flushDue, flushOnClose, initialCommitter, type CommitterState, type FlushReport } from "./committer.js"
import { defaultPeerConfig, type PeerConfig } from "./config.js"
import { now, presenceAnswerWindowMs, reject, type Activity, type PeerContext } from "./context.js"
import { component, leaderOf, mayLead, NOBODY_CAN_PUSH, roleComponent, roleHolders, livePeers, neighborsChanged, onChannel, onlinePeers, onMeshEnvelope, reconcile, sendHeartbeats, sendChatTo } from "./mesh.js"
import type { PeerState, PeerView } from "./peer-state.js"
import { makeCallFallback } from "./call-fallback.js"
import type { CallFallback } from "./calls-wire.js"
import type { PresenceCallSlot } from "../domain/presence-doc.js"
import { pollLoop, publishDue, withdraw } from "./presence-loop.js"
import { startExitCommit, waitingOnExit, type ExitCommit, type ExitReason } from "./exit-commit.js"

/** A running peer, as the UI, the headless peer and the simulator drive it. */
export interface PeerHandle {
  readonly self: PeerId
  /** Sends a chat message; `to` makes it a direct message. */
  readonly send: (conversation: ConversationId, text: string, to?: Recipient) => Effect.Effect<Message>
  /** Chat messages as they are sent or arrive. */
  readonly messages: Stream.Stream<Message>
  /** Custom envelopes as they arrive. */
  readonly custom: Stream.Stream<Envelope>
  /** Neighbors typing in a conversation, or announcing one they started. */
  readonly activity: Stream.Stream<Activity>
  /** Tells those in `conversation` that this user types, or that it started the conversation (never committed). */
  readonly sendActivity: (kind: Activity["_tag"], conversation: ConversationId) => Effect.Effect<void>
  /** The committed history in the repository, beyond what the device holds: its conversations and pages of it. */
  readonly archive: Pick<ConversationRepoService, "conversations" | "readPage">
  /** The peer's current view (connections, online peers, leader, notices). */
  readonly view: Effect.Effect<PeerView>
  /** The last messages of a conversation held locally. */
  readonly history: (conversation: ConversationId, limit: number) => Effect.Effect<ReadonlyArray<Message>>
  /** Commits now if this peer leads (a manual flush); serialized with every other flush. */
  readonly flushNow: Effect.Effect<FlushReport>
  /**
   * Commit on the way out (a page being closed or hidden): if this peer leads, starts one
   * write per conversation that outlives the page, within its budget, and returns what it
   * started; synchronous with the browser's adapters, so `pagehide` can run it.
   */
  readonly commitOnExit: (reason: ExitReason) => Effect.Effect<ExitCommit>
  /**
   * How many messages no other peer holds would wait in this device's store if the page
   * closed now (an exit write cannot carry them, or `online` is false): the page asks first.
   */
  readonly waitingOnExit: (online: boolean) => Effect.Effect<number>
  /**
   * "Save now": a leader commits at once (and this completes when the commit did); a
   * member asks the leader to ("asked"); with no leader reachable nothing happens ("no-leader").
   */
  readonly saveNow: Effect.Effect<SaveNowOutcome>
  /** Messages' state changes (sending, delivered, saved) as they happen. */
  readonly statuses: Stream.Stream<MessageStatus>
  /** The current state of a message this device holds. */
  readonly stateOf: (message: Message) => Effect.Effect<MessageState>
  /** Internal state, read-only, for the simulator's figures. */
  readonly state: PeerState
  /** Carries call control through the presence channel for the calls service (`makeCalls({ fallback })`). */
  readonly callFallback: CallFallback
}

/** What "save now" did. */
export type SaveNowOutcome =
  | { readonly _tag: "committed"; readonly report: FlushReport }
  | { readonly _tag: "asked"; readonly leader: PeerId }
  | { readonly _tag: "no-leader" }

/**
 * Brings what was committed since `since` into the device's history, so a new
 * browser shows recent history too (and knows those messages are committed).
 */
const loadHistory = (ctx: PeerContext, committer: CommitterState, since: number, startedAt: number): Effect.Effect<void> =>
  ctx.repo.readSince(since).pipe(
    Effect.flatMap((slice) => {
      // The committer starts from the same read, should this peer come to lead.
      absorb(committer, slice, since)
      const recent = slice.messages.filter((m) => m.sentAt >= startedAt - CATCHUP_WINDOW_MS && !ctx.state.recent.has(m.id))
      remember(ctx, recent)
      // Shown at once, like messages that arrive: recent ones only (older history is read when a conversation opens).
      return Effect.zipRight(ctx.store.markCommitted(slice.messages), Effect.forEach(recent, (m) => PubSub.publish(ctx.messages, m), { discard: true }))
    }),
    Effect.catchAll((e) => reject(ctx, "repository", `could not load history: ${e._tag}`))
  )

/** Options of one peer. */
export interface PeerOptions {
  readonly self: PeerId
  readonly config?: Partial<PeerConfig>
  /** Where the peer publishes the messages it shows (the simulator subscribes before the peer starts). */
  readonly displayed?: PubSub.PubSub<Message>
}

/** A new session's state. */
export const initialState = (startedAt: number): PeerState => ({
  startedAt,
  links: new Map(),
  reports: new Map(),
  online: new Map(),
  known: new Map(),
  lost: new Map(),
  outsideSince: new Map(),
  goodbyes: new Map(),
  handled: new Set(),
  outbox: new Map(),
  callOutbox: new Map(),
  callWaiting: false,
  lastBeatAt: 0,
  lastNeighbors: "",
  lastNeighborsAt: 0,
  meshVersion: 0,
  componentCache: undefined,
  neighborsCache: undefined,
  onlineCache: new Map(),
  liveCache: undefined,
  presenceVersion: 0,
  reconciled: { meshVersion: -1, presenceVersion: -1, nextDueAt: 0 },
  lastOwnEntryAt: 0,
  lastRefreshAt: 0,
  publishing: false,
  budget: emptyBudget(),
  rateNotice: undefined,
  presenceProblem: undefined,
  presenceBlocked: undefined,
  isLeader: false,
  canPush: true,
  cannotPush: new Set(),
  historyProblem: undefined,
  historyRetryAt: 0,
  eligibleSince: undefined,
  leader: undefined,
  lastHandoffAt: 0,
  handedTo: undefined,
  rejections: [],
  refused: new Map(),
  relayedOffers: new Map(),
  chatRate: new Map(),
  chatExcess: new Map(),
  lookedUp: new Set(),
  deferred: new Map(),
  presenceCheckDue: false,
  repairDue: false,
  fingerprints: new Map(),
  signingKeys: new Map(),
  firstKnown: new Map(),
  firstOpen: new Map(),
  arrivals: new Map(),
  attemptSeq: 0,
  messageSeq: 0,
  closing: false,
  messageStates: new Map(),
  recent: new Map(),
  lastSaveNowAt: 0
})

/** The view a UI renders. */
const viewOf = (ctx: PeerContext, at: number, waiting: number): PeerView => ({
  self: ctx.self,
  links: Array.from(ctx.state.links.values()).map((l) => ({ peer: l.peer, state: l.state })),
  online: onlinePeers(ctx, at),
  component: component(ctx),
  leader: ctx.state.leader,
  isLeader: ctx.state.isLeader,
  rateNotice: ctx.state.rateNotice,
  presenceProblem: ctx.state.presenceProblem,
  rejections: [...ctx.state.rejections],
  waiting,
  people: peopleOf(ctx, at),
  refused: Object.fromEntries(ctx.state.refused),
  identities: ctx.presence.identities,
  historyNotice: ctx.state.historyProblem ?? (component(ctx).some(mayLead(ctx)) ? undefined : NOBODY_CAN_PUSH)
})

/**
 * The presence channel this peer uses: with sealed signaling wherever the composition
 * provides a SignalSealer (the Node peer and the web client do; the in-memory simulator,
 * which runs in virtual time and shows nothing to anyone, does not).
 */
const sealedIfPossible = (self: PeerOptions["self"]) =>
  Effect.gen(function* () {
    const presence = yield* Presence
    const sealer = yield* Effect.serviceOption(SignalSealer)
    return Option.isSome(sealer) ? sealPresence(presence, sealer.value, self) : presence
  })

/** Starts a peer in the current scope; closing the scope flushes (if leading), says goodbye and withdraws. */
export const startPeer = (
  options: PeerOptions
): Effect.Effect<PeerHandle, never, Scope.Scope | Presence | PeerTransport | ConversationRepo | LocalStore> =>
  Effect.gen(function* () {
    const config = { ...defaultPeerConfig, ...options.config }
    const startedAt = yield* now
    const actor = yield* Queue.unbounded<Effect.Effect<void>>()
    const fibers = yield* FiberSet.make()
    const wakeups = yield* Queue.sliding<void>(1)
    let nudged = false
    // What a change (a connection opened, a neighbor list, a presence read, a description
    // to publish) makes due: without it each step of a join waited for the next tick.
    const react: Effect.Effect<void> = Effect.suspend(() => {
      nudged = false
      return Effect.gen(function* () {
        if (ctx.state.closing) return
        if (neighborsChanged(ctx)) yield* sendHeartbeats(ctx)
        yield* reconcile(ctx, { expire: false })
        yield* publishDue(ctx)
      })
    })
    const ctx: PeerContext = {
      self: options.self,
      config,
      state: initialState(startedAt),
      presence: yield* sealedIfPossible(options.self),
      // Messages are signed wherever the composition provides a signer (all of them do; tests may not).
      signer: Option.getOrUndefined(yield* Effect.serviceOption(MessageSigner)),
      transport: yield* PeerTransport,
      repo: yield* ConversationRepo,
      store: yield* LocalStore,
      inActor: (effect) => Queue.offer(actor, effect).pipe(Effect.asVoid),
      fork: (effect) =>
        FiberSet.run(fibers, Effect.catchAllCause(effect, (cause) => Effect.logWarning("background task failed", cause))).pipe(Effect.asVoid),
      messages: options.displayed ?? (yield* PubSub.unbounded<Message>()),
      statuses: yield* PubSub.unbounded<MessageStatus>(),
      custom: yield* PubSub.unbounded<Envelope>(),
      activity: yield* PubSub.sliding<Activity>(256),
      callSlots: yield* PubSub.unbounded<PresenceCallSlot>(),
      flushLock: yield* Effect.makeSemaphore(1),
      wakePoller: Queue.offer(wakeups, undefined).pipe(Effect.asVoid),
      pollerWakeups: wakeups,
      nudge: Effect.suspend(() => {
        if (nudged) return Effect.void
        nudged = true
        return Queue.offer(actor, react).pipe(Effect.asVoid)
      })
    }
    const committer = initialCommitter()
    // A member's "save now": the leader commits in the background (the asker sees the commit notice).
    const commitAtOnce: Effect.Effect<void> = ctx.fork(Effect.asVoid(flush(ctx, committer)))

    // Runs every `tickMs` for the whole session: everything it decides is plain code, and
    // effects run only for what is due (most ticks have nothing to do).
    const tick = Effect.clockWith((clock) => {
      const at = clock.unsafeCurrentTimeMillis()
      const s = ctx.state
      const due: Array<Effect.Effect<void>> = []
      // Beat on schedule, and at once when our neighbor set changed: others route and elect from it.
      if (at - s.lastBeatAt >= config.meshHeartbeatMs || neighborsChanged(ctx)) due.push(sendHeartbeats(ctx))
      due.push(reconcile(ctx))
      due.push(Effect.suspend(() => lead(at)))
      due.push(publishDue(ctx))
      return Effect.all(due, { discard: true })
    })

    /** Takes up or gives up leading, and commits or hands off what is due. */
    const lead = (at: number): Effect.Effect<void> => {
      const s = ctx.state
      const comp = roleComponent(ctx, at)
      const leader = leaderOf(ctx, at)
      // Only the component's smallest peer can act as leader: the rest need not ask.
      const eligible =
        leader !== undefined &&
        samePeer(leader, ctx.self) &&
        actsAsLeader({
          self: ctx.self,
          component: comp.filter(mayLead(ctx)),
          // A silent entry past its grace is not waited for either, nor one that cannot push.
          online: roleHolders(ctx, livePeers(ctx, at), at).filter(mayLead(ctx)),
          upForMs: at - s.startedAt,
          graceMs: config.leaderGraceMs + presenceAnswerWindowMs(ctx)
        })
      s.eligibleSince = eligible ? (s.eligibleSince ?? at) : undefined
      const leads = eligible && (s.isLeader || at - s.eligibleSince! >= config.leaderSettleMs)
      s.leader = leader
      // After a permanent refusal (protection, archived, empty) the leader waits before trying again.
      const held = at < s.historyRetryAt
      if (leads && !s.isLeader) {
        s.isLeader = true
        return held ? Effect.void : ctx.fork(flush(ctx, committer))
      }
      if (!leads && s.isLeader) s.isLeader = false
      if (s.isLeader && held) return Effect.void
      if (s.isLeader) {
        return Effect.flatMap(Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>), (pending) =>
          flushDue(pending, at, config.commitAfterMs) ? ctx.fork(flush(ctx, committer)) : Effect.void
        )
      }
      if (leader === undefined || samePeer(leader, ctx.self) || s.links.get(peerKey(leader))?.state !== "open") return Effect.void
      // Each new leader gets everything we hold uncommitted, as soon as we can reach it;
      // after that, only what it has left uncommitted for too long.
      if (s.handedTo !== peerKey(leader)) {
        s.handedTo = peerKey(leader)
        return handoff(ctx, leader, at + 1)
      }
      return at - s.lastHandoffAt >= config.handoffResendMs ? handoff(ctx, leader, at - config.commitAfterMs) : Effect.void
    }

    const onIncoming = (incoming: Stream.Stream.Success<typeof ctx.transport.incoming>): Effect.Effect<void> => {
      if (incoming._tag === "Rejected") return reject(ctx, incoming.peer, `${incoming.error.reason}: ${incoming.error.detail}`, incoming.error.reason)
      const envelope = incoming.envelope
      return Effect.clockWith((clock) => {
        const at = clock.unsafeCurrentTimeMillis()
        const link = ctx.state.links.get(peerKey(envelope.from))
        if (link !== undefined) link.heardAt = at
        switch (envelope.type) {
          case "presence":
          case "signal":
            return onMeshEnvelope(ctx, envelope, at)
          case "chat":
            return onChat(ctx, envelope, commitAtOnce)
          case "custom":
            return PubSub.publish(ctx.custom, envelope)
        }
      })
    }

    // A transport stream subscribes at its first pull, which each pump makes as soon as it
    // starts. The pumps are forked before the ticks and the poller, the only sources of
    // connections, so they listen before anything can connect and no event is missed.
    const incoming = yield* Stream.toPull(ctx.transport.incoming)
    const events = yield* Stream.toPull(ctx.transport.events)
    // A pull fails with None when its stream ends (the transport closed): the pump then just stops.
    const pump = <A>(pull: Effect.Effect<Iterable<A>, Option.Option<never>>, handle: (a: A) => Effect.Effect<void>) =>
      ctx.fork(
        Effect.forever(Effect.flatMap(pull, (chunk) => ctx.inActor(Effect.forEach(chunk, handle, { discard: true })))).pipe(
          Effect.catchAll(() => Effect.void)
        )
      )
    yield* pump(incoming, onIncoming)
    // A link that opens starts catch-up: each side tells the other what it holds of its window.
    yield* pump(events, (e) => Effect.zipRight(onChannel(ctx, e), e.state === "open" ? sendSummary(ctx, e.peer) : Effect.void))
    yield* ctx.fork(Effect.forever(Effect.flatMap(Queue.take(actor), (effect) => Effect.catchAllCause(effect, (cause) => Effect.logError("peer handler failed", cause)))))
    yield* ctx.fork(Effect.forever(Effect.zipRight(ctx.inActor(tick), Effect.sleep(config.tickMs))))
    // Whether this session can push decides whether it may lead; an adapter that cannot tell is trusted until refused.
    if (ctx.repo.canPush !== undefined) ctx.state.canPush = yield* Effect.orElseSucceed(ctx.repo.canPush, () => true)
    yield* ctx.fork(pollLoop(ctx))
    yield* ctx.fork(loadHistory(ctx, committer, startedAt - config.historyWindowMs, startedAt))

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        ctx.state.closing = true
        // Whoever leads, or would lead (still settling in), commits on the way out.
        const presumptive = Option.exists(electLeader(roleComponent(ctx, yield* now).filter(mayLead(ctx))), (l) => samePeer(l, ctx.self))
        if (ctx.state.isLeader || presumptive) yield* flushOnClose(ctx, committer).pipe(Effect.timeout("30 seconds"), Effect.ignore)
        else if (ctx.state.leader !== undefined) yield* handoff(ctx, ctx.state.leader, Number.MAX_SAFE_INTEGER)
        // In file form whoever refreshes the mesh's entries takes ours out after our goodbye;
        // alone (or in Discussion form, where only we can edit our comment) we do it ourselves.
        const othersWillWithdrawUs = ctx.presence.writesForOthers && component(ctx).length > 1
        yield* sendHeartbeats(ctx, true)
        if (!othersWillWithdrawUs) yield* withdraw(ctx)
      })
    )

    // "Sending": no other peer acknowledged it. Untracked, one's own pending message counts as such.
    const heldByNoOneElse = (m: Message): boolean => {
      const tracked = ctx.state.messageStates.get(m.id)
      return tracked === undefined ? m.session === ctx.self.sessionId && sameUser(m.author, ctx.self.username) : tracked._tag === "sending"
    }

    return {
      self: ctx.self,
      send: (conversation, text, to) =>
        Effect.flatMap(Deferred.make<Message>(), (done) =>
          Effect.zipRight(
            ctx.inActor(Effect.flatMap(sendChat(ctx, conversation, text, to ?? null), (m) => Deferred.succeed(done, m))),
            Deferred.await(done)
          )
        ),
      messages: Stream.fromPubSub(ctx.messages),
      custom: Stream.fromPubSub(ctx.custom),
      activity: Stream.fromPubSub(ctx.activity),
      sendActivity: (kind, conversation) => ctx.inActor(sendActivity(ctx, kind, conversation)),
      archive: { conversations: ctx.repo.conversations, readPage: ctx.repo.readPage },
      view: Effect.zipWith(now, Effect.orElseSucceed(ctx.store.pending, () => []), (at, pending) => viewOf(ctx, at, pending.length)),
      history: (conversation, limit) => Effect.orElseSucceed(ctx.store.history(conversation, limit), () => []),
      flushNow: Effect.suspend(() =>
        ctx.state.isLeader ? flush(ctx, committer) : Effect.succeed({ committed: [], alreadyCommitted: [], bytes: 0, conflicts: 0 })
      ),
      // Messages nobody else holds go first: the others are also held by another peer.
      commitOnExit: (reason) =>
        Effect.flatMap(startExitCommit(ctx, committer, reason, heldByNoOneElse), ({ started, settled }) => Effect.as(ctx.fork(settled), started)),
      waitingOnExit: (online) => waitingOnExit(ctx, committer, online, heldByNoOneElse),
      saveNow: Effect.suspend((): Effect.Effect<SaveNowOutcome> => {
        if (ctx.state.isLeader) return Effect.map(flush(ctx, committer), (report) => ({ _tag: "committed", report }) as const)
        const leader = ctx.state.leader
        if (leader === undefined || samePeer(leader, ctx.self) || ctx.state.links.get(peerKey(leader))?.state !== "open") {
          return Effect.succeed({ _tag: "no-leader" } as const)
        }
        return Effect.as(
          sendChatTo(ctx, leader, { _tag: "saveNow" }),
          { _tag: "asked", leader } as const
        )
      }),
      statuses: Stream.fromPubSub(ctx.statuses),
      stateOf: (message) => stateOf(ctx, message),
      state: ctx.state,
      callFallback: makeCallFallback(ctx)
    } satisfies PeerHandle
  })
