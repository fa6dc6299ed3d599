/**
 * What every part of one peer shares: its identity, timing, ports, state, and
 * the actor that serializes every change of that state.
 */
import { Effect, type PubSub, type Queue } from "effect"
import type { Envelope } from "../domain/envelope.js"
import type { LeadershipCommand, LeadershipEvent } from "../domain/leadership.js"
import { peerKey, type PeerId } from "../domain/identity.js"
import type { ConversationId, Message } from "../domain/message.js"
import type { PresenceCallSlot } from "../domain/presence-doc.js"
import type { ConversationRepoService } from "../ports/ConversationRepo.js"
import type { LocalStoreService } from "../ports/LocalStore.js"
import type { PeerTransportService } from "../ports/PeerTransport.js"
import type { PresenceService } from "../ports/Presence.js"
import type { MessageSignerService } from "../ports/MessageSigner.js"
import type { PeerConfig } from "./config.js"
import type { MessageStatus } from "./message-state.js"
import { MAX_REJECTIONS_KEPT, type PeerState } from "./peer-state.js"

/** Something a neighbor did in a conversation that is not a message: it types, or it started the conversation. */
export interface Activity {
  readonly _tag: "typing" | "topic"
  readonly conversation: ConversationId
  readonly from: PeerId
  /** Epoch ms on this peer's clock when it arrived. */
  readonly at: number
}

/** One peer's shared context. */
export interface PeerContext {
  readonly self: PeerId
  readonly config: PeerConfig
  readonly state: PeerState
  readonly presence: PresenceService
  readonly transport: PeerTransportService
  readonly repo: ConversationRepoService
  readonly store: LocalStoreService
  /** Signs this session's messages and checks relayed ones; without it messages go unsigned. */
  readonly signer: MessageSignerService | undefined
  /** Runs `effect` on the actor fiber, after everything queued before it. */
  readonly inActor: (effect: Effect.Effect<void>) => Effect.Effect<void>
  /** Runs `effect` in the background for as long as the peer lives; failures are logged, never fatal. */
  readonly fork: (effect: Effect.Effect<void, unknown>) => Effect.Effect<void>
  /** Chat messages as they arrive or are sent, for the UI. */
  readonly messages: PubSub.PubSub<Message>
  /** Typing notices and announced conversations from neighbors (never stored or committed). */
  readonly activity: PubSub.PubSub<Activity>
  /** Custom envelopes as they arrive, for extensions (calls). */
  readonly custom: PubSub.PubSub<Envelope>
  /** Call slots addressed to this session, as presence reads find them (for the calls service). */
  readonly callSlots: PubSub.PubSub<PresenceCallSlot>
  /** Serializes flushes: the timer, closing and a manual flush never run at once. */
  readonly flushLock: Effect.Semaphore
  /** Tells the presence poller to reconsider its pace now (a presence exchange began). */
  readonly wakePoller: Effect.Effect<void>
  /** What the poller waits on between reads, besides its timer. */
  readonly pollerWakeups: Queue.Dequeue<void>
  /**
   * Asks the actor to act on a change now rather than at the next tick: tell neighbors
   * our new neighbor list, start the connections it makes possible, write what is due.
   * Several nudges before the actor gets to it are one.
   */
  readonly nudge: Effect.Effect<void>
  /** Messages' state changes, for the UI. */
  readonly statuses: PubSub.PubSub<MessageStatus>
  /**
   * Steps leadership and commit scheduling (`src/app/leader.ts`) and carries out what it
   * decides; returns what is left to the caller. Only on the actor (`inActor` from elsewhere).
   */
  readonly lead: (event: LeadershipEvent) => Effect.Effect<ReadonlyArray<LeadershipOutcome>>
  /**
   * Runs `effect` on the actor and waits for its value; `gone` when the actor has stopped (the
   * peer closed). Never from the actor itself: it would wait on itself.
   */
  readonly onActor: <A>(effect: Effect.Effect<A>, gone: A) => Effect.Effect<A>
}

/** Commands of a leadership step left to the caller that stepped: it waits on them or answers with them. */
export type LeadershipOutcome = Extract<LeadershipCommand, { readonly _tag: "FlushNow" | "FlushOnClose" | "NoLeader" | "AskLeader" }>

/** How much slower than the base pace a Discussion is read (every read is charged: no 304s). */
export const DISCUSSION_POLL_FACTOR = 4
/** How much slower than the base pace a mesh member that bridges nothing reads a Discussion. */
export const DISCUSSION_MEMBER_POLL_FACTOR = 8

/**
 * The slowest pace at which a peer that must answer a presence offer reads the channel:
 * an offer made through presence stays valid at least this much longer than one relayed.
 */
export const presenceAnswerWindowMs = (ctx: Pick<PeerContext, "config" | "presence">): number =>
  ctx.config.pollBaseMs * (ctx.presence.form === "discussion" ? DISCUSSION_POLL_FACTOR : 1)

/**
 * The current time in whole epoch ms, as `Date.now` gives it: messages and presence carry it,
 * and their schemas take integers. The simulator's clock can stand between two milliseconds.
 * Read without `Clock.currentTimeMillis` and a map: the actor asks for the time at nearly every
 * step, and two effects fewer each time are measurable in a long simulation.
 */
export const now: Effect.Effect<number> = Effect.clockWith((clock) => Effect.succeed(Math.floor(clock.unsafeCurrentTimeMillis())))

/** Appends to the bounded log of refusals and troubles. */
const logRejection = (ctx: PeerContext, from: PeerId | string, reason: string, own: boolean, counted?: string): Effect.Effect<void> =>
  Effect.flatMap(now, (at) =>
    Effect.sync(() => {
      const r = ctx.state.rejections
      const entry = { at, from: typeof from === "string" ? from : peerKey(from), reason }
      r.push(own ? { ...entry, own: true } : entry)
      if (r.length > MAX_REJECTIONS_KEPT) r.splice(0, r.length - MAX_REJECTIONS_KEPT)
      if (counted !== undefined) ctx.state.refused.set(counted, (ctx.state.refused.get(counted) ?? 0) + 1)
    })
  )

/** Remembers a refused frame, entry or signal for the UI (bounded), counted under `kind`. */
export const reject = (ctx: PeerContext, from: PeerId | string, reason: string, kind = "other"): Effect.Effect<void> =>
  logRejection(ctx, from, reason, false, kind)

/**
 * Logs a trouble of this peer's own work (`about`: the peer, "store", "repository"...) beside the
 * refusals, without counting it as refused: nobody sent anything wrong.
 */
export const trouble = (ctx: PeerContext, about: PeerId | string, reason: string): Effect.Effect<void> =>
  logRejection(ctx, about, reason, true)

/** Refuses something a peer sent, with its kind first in the reason (counted per kind for the UI). */
export const refuse = (ctx: PeerContext, from: PeerId | string, kind: string, detail: string): Effect.Effect<void> =>
  reject(ctx, from, `${kind}: ${detail}`, kind)

/** Adds `key` to a set that keeps at most `max` keys (the oldest go first). */
export const remember = (set: Set<string>, key: string, max: number): void => {
  set.add(key)
  if (set.size > max) set.delete(set.values().next().value!)
}

/** Sets `key` to `value` in a map that keeps at most `max` keys (the least recently set go first). */
export const rememberAt = <V>(map: Map<string, V>, key: string, value: V, max: number): void => {
  map.delete(key)
  map.set(key, value)
  if (map.size > max) map.delete(map.keys().next().value!)
}

/**
 * Sets `key` to `at` unless the map holds it (answers whether it was new). Past `max` keys, the
 * oldest that `mayGo` lets go are dropped, down to three quarters of `max` when enough may go
 * (such trims are rare): for maps where a key may still decide something after it is old.
 */
export const noteFirst = (map: Map<string, number>, key: string, at: number, max: number, mayGo: (key: string, at: number) => boolean): boolean => {
  if (map.has(key)) return false
  map.set(key, at)
  if (map.size <= max) return true
  const trimTo = (max * 3) / 4
  for (const [k, firstAt] of map) {
    if (map.size <= trimTo) break
    if (mayGo(k, firstAt)) map.delete(k)
  }
  return true
}

/**
 * Records one event of `key` at `at` and tells whether it stays within `max` per `windowMs`
 * (a sliding window). Keys whose window emptied are dropped, so the map stays small.
 */
export const withinRate = (windows: Map<string, Array<number>>, key: string, at: number, max: number, windowMs: number): boolean => {
  const times = windows.get(key) ?? []
  while (times.length > 0 && times[0]! <= at - windowMs) times.shift()
  if (times.length >= max) return false
  times.push(at)
  windows.set(key, times)
  if (windows.size > 1_000) for (const [k, t] of windows) if (t.length === 0 || t[t.length - 1]! <= at - windowMs) windows.delete(k)
  return true
}

/** A fresh envelope id from this session. */
export const envelopeId = (ctx: PeerContext, at: number): string => {
  ctx.state.messageSeq += 1
  return `${ctx.self.sessionId}.${at.toString(36)}.${ctx.state.messageSeq.toString(36)}`
}
