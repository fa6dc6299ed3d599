/**
 * One SkyGit peer: the mesh manager, the presence heartbeat loop, chat and the
 * leader's committer, composed over the ports. Every change of the peer's state
 * runs on one actor fiber, so no two handlers ever interleave.
 */
import { Chunk, Deferred, Effect, Exit, FiberSet, Option, PubSub, Queue, Schedule, Stream, SubscriptionRef, type Scope } from "effect"
import { emptyBudget } from "../domain/budget.js"
import { initialPublisher } from "../domain/presence-publish.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import type { Envelope, Recipient } from "../domain/envelope.js"
import type { ConversationId, Message } from "../domain/message.js"
import type { TimelineDelta } from "../domain/timeline.js"
import { ConversationRepo, type ConversationRepoService, type HistoryCursor } from "../ports/ConversationRepo.js"

/** Where a page of older history starts (the UI pages with it). */
export type { HistoryCursor }
import { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport, type Incoming } from "../ports/PeerTransport.js"
import { Presence } from "../ports/Presence.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { MessageSigner } from "../ports/MessageSigner.js"
import { sealPresence } from "./sealed-presence.js"
import { onChat, remember, sendActivity, sendChat } from "./chat.js"
import { onChannelEvent, showCommitted } from "./catch-up.js"
import { stateOf, type MessageState, type MessageStatus } from "./message-state.js"
import { peopleOf } from "./people.js"
import { absorb, flush, flushOnClose, initialCommitter, watchHistory, type CommitterState, type FlushReport } from "./committer.js"
import { defaultPeerConfig, type PeerConfig } from "./config.js"
import { now, presenceAnswerWindowMs, reject, trouble, type Activity, type PeerContext } from "./context.js"
import { component, leaderOf, mayLead, NOBODY_CAN_PUSH, neighborsChanged, onlinePeers, onMeshEnvelope, reconcile, sendHeartbeats, sendChatTo } from "./mesh.js"
import { initialLeadership, type LeadershipConfig } from "../domain/leadership.js"
import { leadershipConfig, leaderOpen, makeLead, tickEvent } from "./leader.js"
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
  /**
   * The view, pushed: the current one first, then each change as the peer's actor makes it
   * (time-driven changes such as an expiry come with the one-second tick). Nothing is
   * computed for it while nobody subscribes.
   */
  readonly views: Stream.Stream<PeerView>
  /**
   * One conversation, pushed: the last `limit` messages the device holds, then each new
   * message of it as it is sent or arrives. Subscribed before the device is read, so
   * nothing that arrives meanwhile is missed (a message in both comes twice; `applyDelta`
   * merges by id).
   */
  readonly timeline: (conversation: ConversationId, limit: number) => Stream.Stream<TimelineDelta>
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

/** How a failed history load is tried again: 10 s, doubling, at most every 5 minutes, while the session runs. */
const HISTORY_RETRY = Schedule.union(Schedule.exponential("10 seconds"), Schedule.spaced("5 minutes"))

/**
 * Brings what was committed since `since` into the device's history, so a new
 * browser shows recent history too (and knows those messages are committed).
 */
const loadHistory = (ctx: PeerContext, committer: CommitterState, since: number): Effect.Effect<void> =>
  ctx.repo.readSince(since).pipe(
    // A session that starts while GitHub refuses (a rate limit, an outage) loads its history once
    // GitHub answers again: it shows what was committed while it was away (soak, Discussion seed 924).
    Effect.tapError((e) => ctx.inActor(trouble(ctx, "repository", `could not load history, trying again: ${e._tag}`))),
    Effect.retry(HISTORY_RETRY),
    Effect.flatMap((slice) => {
      // The committer starts from the same read, should this peer come to lead.
      absorb(committer, slice, since)
      // Remembered and shown on the actor, like messages that arrive: recent ones only (older history is read when a conversation opens).
      return Effect.zipRight(ctx.store.markCommitted(slice.messages), ctx.inActor(showCommitted(ctx, slice.messages)))
    }),
    Effect.catchAll((e) => ctx.inActor(trouble(ctx, "repository", `could not load history: ${e._tag}`)))
  )

/** Options of one peer. */
export interface PeerOptions {
  readonly self: PeerId
  readonly config?: Partial<PeerConfig>
  /** Where the peer publishes the messages it shows (the simulator subscribes before the peer starts). */
  readonly displayed?: PubSub.PubSub<Message>
}

/** A placeholder session for a state built without one (tests of the mesh's views). */
const NOBODY = { username: "", sessionId: "" } as PeerId

/** A new session's state. */
export const initialState = (
  startedAt: number,
  self: PeerId = NOBODY,
  leading: LeadershipConfig = leadershipConfig(defaultPeerConfig, defaultPeerConfig.pollBaseMs)
): PeerState => ({
  startedAt,
  links: new Map(),
  reports: new Map(),
  online: new Map(),
  known: new Map(),
  lost: new Map(),
  answered: new Map(),
  cutAt: undefined,
  outsideSince: new Map(),
  goodbyes: new Map(),
  leading: new Set(),
  handled: new Set(),
  outbox: new Map(),
  callOutbox: new Map(),
  callWaiting: false,
  lastBeatAt: 0,
  lastNeighbors: "",
  lastNeighborsAt: 0,
  meshVersion: 0,
  presenceVersion: 0,
  presenceRead: false,
  onlineSessions: 0,
  knownAdded: 0,
  answeredVersion: 0,
  reconciled: { meshVersion: -1, presenceVersion: -1, nextDueAt: 0 },
  publish: initialPublisher(emptyBudget()),
  leadership: initialLeadership(self, startedAt, leading),
  cannotPush: new Set(),
  rejections: [],
  refused: new Map(),
  relayedOffers: new Map(),
  chatRate: new Map(),
  summaryRate: new Map(),
  chatExcess: new Map(),
  lookedUp: new Set(),
  deferred: new Map(),
  waiting: new Map(),
  presenceCheckDue: false,
  fingerprints: new Map(),
  signingKeys: new Map(),
  firstKnown: new Map(),
  firstOpen: new Map(),
  arrivals: new Map(),
  attemptSeq: 0,
  messageSeq: 0,
  closing: false,
  messageStates: new Map(),
  recent: new Map()
})

/** The view a UI renders. */
const viewOf = (ctx: PeerContext, at: number, waiting: number): PeerView => ({
  self: ctx.self,
  links: Array.from(ctx.state.links.values()).map((l) => ({ peer: l.peer, state: l.state })),
  online: onlinePeers(ctx, at),
  component: component(ctx),
  leader: ctx.state.leadership.leader,
  isLeader: ctx.state.leadership.isLeader,
  rateNotice: ctx.state.publish.rateNotice,
  presenceProblem: ctx.state.publish.problem,
  rejections: [...ctx.state.rejections],
  waiting,
  people: peopleOf(ctx, at),
  refused: Object.fromEntries(ctx.state.refused),
  identities: ctx.presence.identities,
  historyNotice: ctx.state.leadership.historyProblem ?? (component(ctx).some(mayLead(ctx)) ? undefined : NOBODY_CAN_PUSH)
})

/**
 * Least time between two recomputations of a watched view. A busy channel makes an actor step
 * per frame (hundreds a second on a bulk transfer), and each recomputation builds and compares
 * the whole view: after one, the steps of the next 50 ms are one recomputation at its end. A
 * person sees no difference; a change after a quiet spell still shows at once.
 */
export const VIEW_REFRESH_SPACING_MS = 50

/**
 * The view as a stream of changes. While someone subscribes, every actor step wakes one
 * refresher (a sliding queue: a burst of steps is one recomputation, and at most one per
 * `VIEW_REFRESH_SPACING_MS`), which publishes the view when it differs from the last one
 * published. With no subscriber (the simulator) a step costs one counter check as the actor
 * takes it, so virtual-time runs are unchanged.
 */
const pushedViews = (ctx: PeerContext, current: Effect.Effect<PeerView>) =>
  Effect.gen(function* () {
    const ref = yield* SubscriptionRef.make<PeerView | undefined>(undefined)
    const wake = yield* Queue.sliding<void>(1)
    let watchers = 0
    let refresher = false
    let last = ""
    // One at a time, so an older reading never replaces a newer one.
    const lock = yield* Effect.makeSemaphore(1)
    const refresh = lock.withPermits(1)(
      Effect.flatMap(current, (view) => {
        const text = JSON.stringify(view)
        if (text === last) return Effect.void
        last = text
        return SubscriptionRef.set(ref, view)
      })
    )
    const watch = Effect.acquireRelease(
      Effect.suspend(() => {
        watchers += 1
        // A step under way now was taken unwatched (no wake at its end): an empty step after it wakes the refresher.
        const after = ctx.inActor(Effect.void)
        if (refresher) return after
        refresher = true
        const spaced = Effect.zipRight(refresh, Effect.sleep(VIEW_REFRESH_SPACING_MS))
        return Effect.zipRight(ctx.fork(Effect.forever(Effect.zipRight(Queue.take(wake), spaced))), after)
      }),
      () => Effect.sync(() => void (watchers -= 1))
    )
    return {
      /** Whether anyone subscribes: the actor asks as it takes each step, and wakes the refresher after a watched one. */
      watched: (): boolean => watchers > 0,
      /** Wakes the refresher (a burst of wakes is one recomputation). */
      changed: Queue.offer(wake, undefined),
      views: Stream.unwrapScoped(
        Effect.gen(function* () {
          yield* watch
          yield* refresh
          return Stream.filter(ref.changes, (v): v is PeerView => v !== undefined)
        })
      )
    }
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
    // Set once the actor has stopped (the peer closed): nothing waits on it after that.
    let actorStopped = false
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
    const presence = yield* sealedIfPossible(options.self)
    const ctx: PeerContext = {
      self: options.self,
      config,
      state: initialState(startedAt, options.self, leadershipConfig(config, presenceAnswerWindowMs({ config, presence }))),
      presence,
      // Messages are signed wherever the composition provides a signer (all of them do; tests may not).
      signer: Option.getOrUndefined(yield* Effect.serviceOption(MessageSigner)),
      transport: yield* PeerTransport,
      repo: yield* ConversationRepo,
      store: yield* LocalStore,
      inActor: (effect) => Queue.offer(actor, effect),
      // Interruptible whoever forks it: a task forked from a finalizer (a closing leader's flush)
      // or an acquire would inherit its uninterruptible region, and closing the peer then waited
      // forever on a task blocked on a peer that never answers (the sim froze after a crash).
      fork: (effect) =>
        FiberSet.run(fibers, Effect.interruptible(Effect.catchAllCause(effect, (cause) => Effect.logWarning("background task failed", cause)))).pipe(Effect.asVoid),
      messages: options.displayed ?? (yield* PubSub.unbounded<Message>()),
      statuses: yield* PubSub.unbounded<MessageStatus>(),
      custom: yield* PubSub.unbounded<Envelope>(),
      activity: yield* PubSub.sliding<Activity>(256),
      callSlots: yield* PubSub.unbounded<PresenceCallSlot>(),
      flushLock: yield* Effect.makeSemaphore(1),
      wakePoller: Queue.offer(wakeups, undefined),
      pollerWakeups: wakeups,
      nudge: Effect.suspend(() => {
        if (nudged) return Effect.void
        nudged = true
        return Queue.offer(actor, react)
      }),
      lead: (event) => Effect.suspend(() => lead(event)),
      onActor: (effect, gone) =>
        Effect.suspend(() =>
          // A peer whose actor has stopped (closed) answers `gone` rather than never.
          actorStopped
            ? Effect.succeed(gone)
            : Effect.flatMap(Deferred.make<typeof gone>(), (done) =>
                Effect.zipRight(
                  // Answered whatever happens to `effect` (a defect goes on to the actor's log).
                  ctx.inActor(Effect.onExit(effect, (exit) => Deferred.succeed(done, Exit.isSuccess(exit) ? exit.value : gone))),
                  Deferred.await(done)
                )
              )
        )
    }
    const onActor = ctx.onActor
    const committer = initialCommitter()
    const lead = makeLead(ctx, committer)
    const currentView = Effect.zipWith(now, Effect.orElseSucceed(ctx.store.pending, () => []), (at, pending) => viewOf(ctx, at, pending.length))
    const pushed = yield* pushedViews(ctx, currentView)

    // Runs every `tickMs` for the whole session: everything it decides is plain code, and
    // effects run only for what is due (most ticks have nothing to do).
    const tick = Effect.clockWith((clock) => {
      const at = clock.unsafeCurrentTimeMillis()
      const s = ctx.state
      const due: Array<Effect.Effect<void>> = []
      // Beat on schedule, and at once when our neighbor set changed: others route and elect from it.
      if (at - s.lastBeatAt >= config.meshHeartbeatMs || neighborsChanged(ctx)) due.push(sendHeartbeats(ctx))
      due.push(reconcile(ctx))
      due.push(Effect.suspend(() => lead(tickEvent(ctx, at))))
      due.push(publishDue(ctx))
      return Effect.all(due, { discard: true })
    })

    const onIncoming = (incoming: Incoming): Effect.Effect<void> => {
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
            return onChat(ctx, envelope)
          case "custom":
            return PubSub.publish(ctx.custom, envelope)
        }
      })
    }

    // What the device held uncommitted when this session started belongs to its catch-up window,
    // committed or not: should this session commit it before its links open (it leads at once
    // after a crash), catch-up still brings it to the peers that never saw it.
    remember(ctx, yield* Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>))
    // The transport's subscriptions are live when they return, before the ticks and the
    // poller (the only sources of connections) start: no event is missed.
    const incoming = yield* Stream.toPull(yield* ctx.transport.incoming)
    const events = yield* Stream.toPull(yield* ctx.transport.events)
    // A pull fails with None when its stream ends (the transport closed): the pump then just stops.
    // Most pulls bring one item: that one is handled without a loop.
    const pump = <A>(pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<never>>, handle: (a: A) => Effect.Effect<void>) =>
      ctx.fork(
        Effect.forever(
          Effect.flatMap(pull, (chunk) =>
            ctx.inActor(Chunk.size(chunk) === 1 ? Effect.suspend(() => handle(Chunk.unsafeHead(chunk))) : Effect.forEach(chunk, handle, { discard: true }))
          )
        ).pipe(Effect.catchAll(() => Effect.void))
      )
    yield* pump(incoming, onIncoming)
    // A link that opens starts catch-up: each side tells the other what it holds of its window.
    yield* pump(events, (e) => onChannelEvent(ctx, e))
    yield* ctx.fork(
      Effect.forever(
        Effect.flatMap(Queue.take(actor), (effect) => {
          const step = Effect.catchAllCause(effect, (cause) => Effect.logError("peer handler failed", cause))
          return pushed.watched() ? Effect.zipRight(step, pushed.changed) : step
        })
      ).pipe(Effect.ensuring(Effect.sync(() => void (actorStopped = true))))
    )
    yield* ctx.fork(Effect.forever(Effect.zipRight(ctx.inActor(tick), Effect.sleep(config.tickMs))))
    // Whether this session can push decides whether it may lead; an adapter that cannot tell is trusted until refused.
    if (ctx.repo.canPush !== undefined) {
      const canPush = yield* Effect.orElseSucceed(ctx.repo.canPush, () => true)
      yield* ctx.inActor(Effect.asVoid(lead({ _tag: "PushKnown", canPush })))
    }
    yield* ctx.fork(pollLoop(ctx))
    yield* ctx.fork(loadHistory(ctx, committer, startedAt - config.historyWindowMs))
    yield* ctx.fork(watchHistory(ctx, committer))

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        ctx.state.closing = true
        // Whoever leads, or would lead (still settling in), commits on the way out; a member hands everything to the leader.
        const leader = leaderOf(ctx, yield* now)
        const presumptive = leader !== undefined && samePeer(leader, ctx.self)
        const outcomes = yield* onActor(lead({ _tag: "Leaving", presumptive }), [])
        if (outcomes.some((o) => o._tag === "FlushOnClose")) yield* flushOnClose(ctx, committer).pipe(Effect.timeout("30 seconds"), Effect.ignore)
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
      view: currentView,
      views: pushed.views,
      timeline: (conversation, limit) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const arrivals = yield* PubSub.subscribe(ctx.messages)
            const held = yield* Effect.orElseSucceed(ctx.store.history(conversation, limit), () => [])
            return Stream.concat(
              Stream.succeed<TimelineDelta>({ _tag: "Held", messages: held }),
              Stream.fromQueue(arrivals).pipe(
                Stream.filter((m) => m.conversation === conversation),
                Stream.map((message): TimelineDelta => ({ _tag: "Added", message }))
              )
            )
          })
        ),
      history: (conversation, limit) => Effect.orElseSucceed(ctx.store.history(conversation, limit), () => []),
      flushNow: Effect.suspend(() =>
        ctx.state.leadership.isLeader ? flush(ctx, committer) : Effect.succeed({ committed: [], alreadyCommitted: [], bytes: 0, conflicts: 0 })
      ),
      // Messages nobody else holds go first: the others are also held by another peer.
      commitOnExit: (reason) =>
        Effect.flatMap(startExitCommit(ctx, committer, reason, heldByNoOneElse), ({ started, settled }) => Effect.as(ctx.fork(settled), started)),
      waitingOnExit: (online) => waitingOnExit(ctx, committer, online, heldByNoOneElse),
      // Decided on the actor; a leader's commit is waited on here, never on the actor.
      saveNow: Effect.flatMap(
        onActor(Effect.suspend(() => lead({ _tag: "SaveNowPressed", leaderOpen: leaderOpen(ctx) })), []),
        (outcomes): Effect.Effect<SaveNowOutcome> => {
          const outcome = outcomes[0]
          switch (outcome?._tag) {
            case "FlushNow":
              return Effect.map(flush(ctx, committer), (report) => ({ _tag: "committed", report }) as const)
            case "AskLeader":
              return Effect.as(ctx.inActor(sendChatTo(ctx, outcome.leader, { _tag: "saveNow" })), { _tag: "asked", leader: outcome.leader } as const)
            default:
              return Effect.succeed({ _tag: "no-leader" } as const)
          }
        }
      ),
      statuses: Stream.fromPubSub(ctx.statuses),
      stateOf: (message) => stateOf(ctx, message),
      state: ctx.state,
      callFallback: makeCallFallback(ctx)
    } satisfies PeerHandle
  })
