/**
 * The calls service of one session: it feeds what happens (user actions, call
 * signals from peers, lost channels, the clock) through the pure call state
 * machine and carries out its commands on the Media and PeerTransport ports.
 * Everything runs on one permit, in order; the UI only renders `changes`.
 *
 * Signals go on the direct data channel. With no channel open to the peer they are
 * held for it and, given a `fallback`, ringing/answering/declining/hanging up also
 * go through the presence channel: at once when no mesh path reaches the peer, else
 * after `MESH_GRACE_MS` (the mesh is opening a direct channel by relayed signaling,
 * which costs no GitHub write). Media needs the connection: an accepted leg with no
 * connection yet waits for one (`CONNECT_WAIT_MS`) before its media starts.
 */
import { Chunk, Data, Effect, Option, Queue, Schedule, Stream, SubscriptionRef, type Scope } from "effect"
import { now as wholeMillis } from "./context.js"
import { appendToSlot, signalsToApply, travelsByPresence } from "../domain/call-slot.js"
import type { PresenceCallSlot } from "../domain/presence-doc.js"
import {
  DEFAULT_RING_TIMEOUT_MS,
  initialCalls,
  isFinal,
  isIdle,
  step,
  type Call,
  type CallCommand,
  type CallId,
  type CallInput,
  type CallMedia,
  type CallsState
} from "../domain/call.js"
import { peerKey, samePeer, type PeerId } from "../domain/identity.js"
import { isOfferer } from "../domain/signaling-roles.js"
import { Media, type LocalTrack, type RemoteTrack, type RemoteTrackEvent } from "../ports/Media.js"

/** The track handles a call view holds (the UI renders them). */
export type { LocalTrack, RemoteTrack }
import { PeerTransport } from "../ports/PeerTransport.js"
import { callEnvelope, callSignalOf, PendingSignals, SeenSignals, trySend, type CallFallback, type HeldSignal } from "./calls-wire.js"

/** How often ring deadlines are checked. */
export const CALL_TICK_MS = 1_000
/** How long the polite end of a leg waits for the other end's tracks before sending its own anyway. */
export const POLITE_CONNECT_WAIT_MS = 3_000
/** Most problems kept for the UI. */
export const MAX_CALL_PROBLEMS = 20
/**
 * How long a signal for a peer that the mesh reaches through a neighbor waits for
 * the direct channel the mesh is opening before it goes through the presence channel.
 */
export const MESH_GRACE_MS = 5_000
/** How long an accepted leg waits for a connection to carry its media before it ends. */
export const CONNECT_WAIT_MS = 90_000

/** Options of the calls service. */
export interface CallsOptions {
  readonly self: PeerId
  /** How long a call rings before unanswered legs are missed. */
  readonly ringTimeoutMs?: number
  readonly tickMs?: number
  /** Makes a call id (random by default). */
  readonly newCallId?: Effect.Effect<CallId>
  /** The presence channel route for call control while no data channel is open (the peer's `callFallback`). */
  readonly fallback?: CallFallback
  /** How long a signal waits for a direct channel the mesh is opening (`MESH_GRACE_MS` by default). */
  readonly meshGraceMs?: number
  /** How long an accepted leg waits for its connection (`CONNECT_WAIT_MS` by default). */
  readonly connectWaitMs?: number
}

/** What the UI renders: the current (or last) call, the local tracks, the tracks peers send. */
export interface CallsView {
  readonly call: Call | undefined
  readonly local: ReadonlyArray<LocalTrack>
  readonly remote: ReadonlyArray<RemoteTrack>
  /** Recent problems (capture refused, a send failed), newest last. */
  readonly problems: ReadonlyArray<string>
}

/** A call could not be started. */
export class CallRefused extends Data.TaggedError("CallRefused")<{ readonly reason: "in-a-call" | "no-peers" }> {}

/** The calls of one session. */
export interface CallsService {
  /** The current view. */
  readonly view: Effect.Effect<CallsView>
  /** The view now and at every change. */
  readonly changes: Stream.Stream<CallsView>
  /** Calls `peers` (several make a group call); returns the call id. */
  readonly dial: (peers: ReadonlyArray<PeerId>, media: CallMedia) => Effect.Effect<CallId, CallRefused>
  /** Answers the ringing incoming call. */
  readonly accept: Effect.Effect<void>
  /** Declines the ringing incoming call. */
  readonly reject: Effect.Effect<void>
  /** Leaves the call: tracks stop and come off every connection. */
  readonly hangUp: Effect.Effect<void>
  readonly setMicMuted: (muted: boolean) => Effect.Effect<void>
  readonly setCameraOff: (off: boolean) => Effect.Effect<void>
  readonly setScreenSharing: (on: boolean) => Effect.Effect<void>
}

const emptyView: CallsView = { call: undefined, local: [], remote: [], problems: [] }

/** Starts the calls service of `self` in the current scope; the call is hung up when the scope closes. */
export const makeCalls = (options: CallsOptions): Effect.Effect<CallsService, never, Scope.Scope | PeerTransport | Media> =>
  Effect.gen(function* () {
    const transport = yield* PeerTransport
    const media = yield* Media
    const self = options.self
    const lock = yield* Effect.makeSemaphore(1)
    const view = yield* SubscriptionRef.make(emptyView)
    const pending = new PendingSignals()
    const seen = new SeenSignals()
    const fallback = options.fallback
    const ringTimeoutMs = options.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS
    const meshGraceMs = options.meshGraceMs ?? MESH_GRACE_MS
    const connectWaitMs = options.connectWaitMs ?? CONNECT_WAIT_MS
    /** The call slot last built for each peer: the next one carries its signals too. */
    const slots = new Map<string, PresenceCallSlot>()
    /** Peers whose slot has signals not posted yet, since when (waiting for the mesh's direct channel). */
    const unposted = new Map<string, { readonly peer: PeerId; readonly since: number }>()
    /** Peers whose signals of the live call went or came through the presence channel, with that call. */
    const presenceLegs = new Map<string, CallId>()
    /** Accepted legs whose connection is not open yet, until when they wait. */
    const awaitingConnection = new Map<string, { readonly peer: PeerId; readonly until: number }>()
    const newCallId = options.newCallId ?? Effect.sync(() => crypto.randomUUID())
    let state: CallsState = initialCalls(self, ringTimeoutMs)
    let local: ReadonlyArray<LocalTrack> = []
    let sequence = 0
    const scope = yield* Effect.scope

    const update = (f: (v: CallsView) => CallsView) => SubscriptionRef.update(view, f)
    const problem = (text: string) =>
      update((v) => ({ ...v, problems: [...v.problems, text].slice(-MAX_CALL_PROBLEMS) }))
    const liveCall = (): CallId | undefined => (state.call !== undefined && !isFinal(state.call) ? state.call.id : undefined)

    /** Sends on the direct channel; false when there is none. */
    const sendDirect = (to: PeerId, held: HeldSignal) =>
      trySend(transport, callEnvelope(self, to, held.signal, held.id, held.at), to).pipe(
        Effect.catchAll((detail) => Effect.as(problem(`call signal to ${to.username} failed: ${detail}`), true))
      )

    /**
     * Posts the slots of peers that no direct channel will reach soon: at once when no
     * mesh path reaches the peer, after the grace when one does (its channel is late).
     */
    const postDue = (at: number): Effect.Effect<void> =>
      Effect.forEach(
        Array.from(unposted),
        ([key, { peer, since }]) =>
          Effect.gen(function* () {
            if (fallback === undefined) return
            if (at - since < meshGraceMs && (yield* fallback.meshRoute(peer))) return
            const slot = slots.get(key)
            unposted.delete(key)
            const live = liveCall()
            if (live !== undefined) presenceLegs.set(key, live)
            if (slot !== undefined) yield* fallback.post(slot)
          }),
        { discard: true }
      )

    const sendSignal = (cmd: Extract<CallCommand, { _tag: "Send" }>) =>
      Effect.gen(function* () {
        const at = yield* wholeMillis
        sequence += 1
        const held: HeldSignal = { id: `${self.sessionId}.call.${at.toString(36)}.${sequence.toString(36)}`, at, signal: cmd.signal }
        if (yield* sendDirect(cmd.to, held)) return
        pending.hold(cmd.to, held)
        if (fallback === undefined || !travelsByPresence(cmd.signal)) return
        const key = peerKey(cmd.to)
        slots.set(key, appendToSlot(slots.get(key), self, cmd.to, held, at))
        if (!unposted.has(key)) unposted.set(key, { peer: cmd.to, since: at })
        yield* postDue(at)
      })

    /** A channel to `peer` opened: what was held goes on it (same ids), and an unwritten slot is dropped. */
    const channelOpened = (peer: PeerId): Effect.Effect<void> =>
      Effect.gen(function* () {
        const key = peerKey(peer)
        presenceLegs.delete(key)
        if (unposted.delete(key) && fallback !== undefined) yield* fallback.cancel(peer)
        for (const held of pending.take(peer, liveCall())) yield* sendDirect(peer, held)
        if (awaitingConnection.delete(key) && accepted(peer)) {
          for (const input of yield* run({ _tag: "Connect", peer })) yield* process(input)
        }
      })

    /** While a live call has a leg with no channel, the peer reads the presence channel fast. */
    let waiting = false
    const syncWaiting = (): Effect.Effect<void> => {
      if (fallback === undefined) return Effect.void
      const call = state.call
      const now =
        call !== undefined &&
        !isFinal(call) &&
        call.legs.some(
          (l) => (l.state === "ringing" && presenceLegs.get(peerKey(l.peer)) === call.id) || awaitingConnection.has(peerKey(l.peer))
        )
      if (now === waiting) return Effect.void
      waiting = now
      return fallback.setWaiting(now)
    }

    const capture = (source: LocalTrack["source"]) =>
      media.capture(source).pipe(
        Effect.tap((t) => Effect.sync(() => (local = [...local, t]))),
        Effect.asVoid
      )

    const sendAll = (peer: PeerId, tracks: ReadonlyArray<LocalTrack>) =>
      Effect.forEach(tracks, (t) => media.send(peer, t), { discard: true })

    const connected = (): ReadonlyArray<PeerId> => state.call?.legs.filter((l) => l.state === "accepted").map((l) => l.peer) ?? []

    /** Carries out one command; what it returns is fed back into the state machine. */
    const run = (cmd: CallCommand): Effect.Effect<ReadonlyArray<CallInput>> => {
      switch (cmd._tag) {
        case "Send":
          return Effect.as(sendSignal(cmd), [])
        case "Acquire":
          return capture("microphone").pipe(
            Effect.zipRight(cmd.media === "video" ? capture("camera").pipe(
              // Without a camera the call goes on with voice, shown as camera off.
              Effect.catchAll((e) => Effect.as(problem(`${e._tag}: ${e.detail}`), [{ _tag: "SetCameraOff", off: true } as const]))
            ) : Effect.succeed([])),
            Effect.map((follow): ReadonlyArray<CallInput> => (Array.isArray(follow) ? follow : [])),
            Effect.catchAll((e) => Effect.as(problem(`${e._tag}: ${e.detail}`), [{ _tag: "HangUp", reason: `cannot capture the ${e.source}` } as const]))
          )
        case "Release":
          return Effect.gen(function* () {
            for (const t of local) yield* media.stop(t)
            local = []
            return []
          })
        case "Watch":
          return media.open(cmd.peer).pipe(
            Effect.as([]),
            // No connection yet: Connect opens it once there is one.
            Effect.catchAll((e) => Effect.as(e.reason === "no-connection" ? Effect.void : problem(`media to ${e.peer.username}: ${e.detail}`), []))
          )
        case "Connect":
          return media.open(cmd.peer).pipe(
            Effect.zipRight(isOfferer(self, cmd.peer) ? sendAll(cmd.peer, local) : Effect.asVoid(Effect.forkIn(politeConnect(cmd.peer), scope))),
            Effect.as([]),
            Effect.catchAll((e) =>
              e.reason === "no-connection" && fallback !== undefined
                ? // Accepted through the presence channel: media starts when the connection opens.
                  Effect.map(wholeMillis, (at) => {
                    awaitingConnection.set(peerKey(cmd.peer), { peer: cmd.peer, until: at + connectWaitMs })
                    return []
                  })
                : Effect.as(problem(`media to ${e.peer.username}: ${e.detail}`), [{ _tag: "LinkLost", peer: cmd.peer } as const])
            )
          )
        case "Disconnect":
          awaitingConnection.delete(peerKey(cmd.peer))
          return Effect.as(media.close(cmd.peer), [])
        case "Enable":
          return Effect.as(
            Effect.forEach(local.filter((t) => t.source === cmd.source), (t) => media.setEnabled(t, cmd.enabled), { discard: true }),
            []
          )
        case "Screen":
          return cmd.on ? startScreen : stopScreen
      }
    }

    const accepted = (peer: PeerId) => connected().some((p) => samePeer(p, peer))

    /**
     * The polite end of a leg adds its tracks once the offerer's have arrived: both
     * adding at once makes both offer (glare), and its offer now meets a stable peer.
     */
    const politeConnect = (peer: PeerId): Effect.Effect<void> =>
      view.changes.pipe(
        Stream.filter((v) => v.remote.some((t) => samePeer(t.peer, peer))),
        Stream.runHead,
        Effect.timeout(POLITE_CONNECT_WAIT_MS),
        Effect.ignore,
        Effect.zipRight(
          lock.withPermits(1)(
            Effect.suspend(() =>
              accepted(peer)
                ? sendAll(peer, local).pipe(Effect.catchAll((e) => problem(`media to ${e.peer.username}: ${e.detail}`)))
                : Effect.void
            )
          )
        )
      )

    const startScreen: Effect.Effect<ReadonlyArray<CallInput>> = media.capture("screen").pipe(
      Effect.tap((t) => Effect.sync(() => (local = [...local, t]))),
      Effect.flatMap((t) => Effect.forEach(connected(), (peer) => Effect.ignore(media.send(peer, t)), { discard: true })),
      Effect.as([]),
      Effect.catchAll((e) => Effect.as(problem(`${e._tag}: ${e.detail}`), [{ _tag: "SetScreenSharing", on: false } as const]))
    )

    const stopScreen: Effect.Effect<ReadonlyArray<CallInput>> = Effect.gen(function* () {
      const screens = local.filter((t) => t.source === "screen")
      for (const t of screens) {
        for (const peer of connected()) yield* media.unsend(peer, t)
        yield* media.stop(t)
      }
      local = local.filter((t) => t.source !== "screen")
      return []
    })

    /** Steps the machine with `input` and everything its commands feed back. */
    const process = (input: CallInput): Effect.Effect<void> =>
      Effect.gen(function* () {
        const queue: Array<CallInput> = [input]
        while (queue.length > 0) {
          const next = queue.shift()!
          const at = yield* wholeMillis
          const result = step(state, next, at)
          state = result.state
          for (const cmd of result.commands) queue.push(...(yield* run(cmd)))
        }
        const call = state.call
        if (call === undefined || isFinal(call)) {
          awaitingConnection.clear()
          presenceLegs.clear()
        }
        yield* syncWaiting()
        yield* update((v) => ({ ...v, call, local }))
      })

    const dispatch = (input: CallInput) => lock.withPermits(1)(process(input))

    const onRemote = (event: RemoteTrackEvent) =>
      update((v) => {
        const others = v.remote.filter((t) => !(t.id === event.track.id && samePeer(t.peer, event.track.peer)))
        return { ...v, remote: event._tag === "Added" ? [...others, event.track] : others }
      })

    // Subscribed before returning (port subscriptions are live when they return), so nothing that happens after is missed.
    const incoming = yield* Stream.toPull(yield* transport.incoming)
    const events = yield* Stream.toPull(yield* transport.events)
    const remote = yield* Stream.toPull(yield* media.remote)
    const pump = <A>(pull: Effect.Effect<Iterable<A>, Option.Option<never>>, handle: (a: A) => Effect.Effect<void>) =>
      Effect.forkScoped(Effect.forever(Effect.flatMap(pull, (chunk) => Effect.forEach(chunk, handle, { discard: true }))).pipe(Effect.ignore))

    yield* pump(incoming, (item) =>
      item._tag === "Envelope"
        ? Option.match(callSignalOf(self, item.envelope), {
            onNone: () => Effect.void,
            // A signal that also came (or will come) through the presence channel applies once.
            onSome: ({ from, signal, id }) => (seen.add(from, id) ? dispatch({ _tag: "Signal", from, signal }) : Effect.void)
          })
        : Effect.void
    )
    yield* pump(events, (event) => {
      if (event.state === "closed" || event.state === "failed") {
        return lock.withPermits(1)(
          Effect.suspend(() => {
            const leg = state.call?.legs.find((l) => samePeer(l.peer, event.peer))
            // A failed attempt does not end a leg that waits for its connection, nor a ringing
            // leg whose signals go through the presence channel; the mesh tries again.
            if (awaitingConnection.has(peerKey(event.peer)) || (fallback !== undefined && leg?.state === "ringing")) return Effect.void
            return process({ _tag: "LinkLost", peer: event.peer })
          })
        )
      }
      if (event.state !== "open") return Effect.void
      return lock.withPermits(1)(Effect.zipRight(channelOpened(event.peer), syncWaiting()))
    })
    yield* pump(remote, onRemote)
    if (fallback !== undefined) {
      // Subscribed now (a Stream would subscribe only at its first pull, and miss what comes before).
      const slotsIn = yield* fallback.subscribe
      yield* pump(Effect.map(Queue.takeBetween(slotsIn, 1, 64), Chunk.toReadonlyArray), (slot) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            const at = yield* wholeMillis
            const { apply } = signalsToApply(self, slot, (from, id) => seen.has(from, id), at, ringTimeoutMs)
            for (const s of apply) {
              seen.add(s.from, s.id)
              presenceLegs.set(peerKey(s.from), s.signal.call)
              yield* process({ _tag: "Signal", from: s.from, signal: s.signal, sentAt: s.at })
            }
          })
        )
      )
    }
    /** The clock: ring deadlines, slots whose grace is over, legs that waited too long for a connection. */
    const tick = lock.withPermits(1)(
      Effect.gen(function* () {
        const at = yield* wholeMillis
        yield* postDue(at)
        for (const [key, { peer, until }] of awaitingConnection) {
          if (at < until) continue
          awaitingConnection.delete(key)
          yield* problem(`no connection to ${peer.username} to carry the call`)
          yield* process({ _tag: "LinkLost", peer })
        }
        yield* process({ _tag: "Tick" })
      })
    )
    yield* Effect.forkScoped(Effect.repeat(tick, Schedule.spaced(options.tickMs ?? CALL_TICK_MS)))
    yield* Effect.addFinalizer(() => dispatch({ _tag: "HangUp", reason: "session closed" }))

    const userAction = (input: CallInput) => dispatch(input)

    return {
      view: SubscriptionRef.get(view),
      changes: view.changes,
      dial: (peers, kind) =>
        Effect.gen(function* () {
          const wanted = peers.filter((p) => !samePeer(p, self))
          if (wanted.length === 0) return yield* new CallRefused({ reason: "no-peers" })
          const id = yield* newCallId
          return yield* lock.withPermits(1)(
            Effect.suspend(() =>
              isIdle(state)
                ? Effect.as(process({ _tag: "Dial", id, peers: wanted, media: kind }), id)
                : Effect.fail(new CallRefused({ reason: "in-a-call" }))
            )
          )
        }),
      accept: userAction({ _tag: "Accept" }),
      reject: userAction({ _tag: "Reject" }),
      hangUp: userAction({ _tag: "HangUp" }),
      setMicMuted: (muted) => userAction({ _tag: "SetMicMuted", muted }),
      setCameraOff: (off) => userAction({ _tag: "SetCameraOff", off }),
      setScreenSharing: (on) => userAction({ _tag: "SetScreenSharing", on })
    } satisfies CallsService
  })

/** The stable key of a remote track, for rendering lists. */
export const remoteTrackKey = (track: RemoteTrack): string => `${peerKey(track.peer)}/${track.id}`
