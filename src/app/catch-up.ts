/**
 * Catch-up when a link opens: the two peers reconcile what one holds that the other
 * lacks, messages not yet committed and recent ones. Each side sends a summary (the
 * ids it holds of its window: every pending message plus what it held in the last
 * `CATCHUP_WINDOW_MS`, at most `MAX_SUMMARY_IDS`), and answers the other's summary
 * with what that summary lacks, in hand-off-sized envelopes. What arrives goes
 * through `acceptMessages`, like any message of another session, and is shown at
 * once. A direct conversation's messages go only to its two users. The same covers
 * a message sent before the mesh formed, a partition that heals and a peer that
 * restarts from its device store (its pending queue is its window).
 */
import { Effect, PubSub } from "effect"
import { MAX_SUMMARY_IDS } from "../domain/envelope.js"
import { involves } from "../domain/conversation.js"
import { peerKey, type PeerId } from "../domain/identity.js"
import { MessageOrder, type Message } from "../domain/message.js"
import { handoffChunks, remember } from "./chat.js"
import { now, trouble, type PeerContext } from "./context.js"
import { onChannel, openPeers, sendChatTo } from "./mesh.js"
import type { ChannelEvent } from "../ports/PeerTransport.js"
import { Array as Arr } from "effect"

/** How far back catch-up looks beyond the pending queue: recent history a peer may have missed. */
export const CATCHUP_WINDOW_MS = 30 * 60_000

/** Whether `user` may receive `m`: anyone for a group conversation, only its two users for a direct one. */
export const visibleTo = (m: Message, user: string): boolean => involves(m.conversation, user)

/** Every pending message and what was held since `since`, newest first, one copy per id. */
const windowOf = (ctx: PeerContext, since: number): Effect.Effect<ReadonlyArray<Message>> =>
  Effect.map(
    Effect.catchAll(ctx.store.pending, (e) => Effect.as(trouble(ctx, "store", `local store failed: ${String(e)}`), [] as ReadonlyArray<Message>)),
    (pending) => {
      const byId = new Map<string, Message>()
      for (const m of pending) byId.set(m.id, m)
      for (const m of ctx.state.recent.values()) if (m.sentAt >= since) byId.set(m.id, m)
      return Arr.reverse(Arr.sort(byId.values(), MessageOrder))
    }
  )

/**
 * Sends `peer` the summary of what this peer holds of its window (a link to it just opened);
 * `ask`: and asks for its summary back (this peer came to hold more since the link opened).
 */
export const sendSummary = (ctx: PeerContext, peer: PeerId, ask = false): Effect.Effect<void> =>
  Effect.gen(function* () {
    const at = yield* now
    const window = (yield* windowOf(ctx, at - CATCHUP_WINDOW_MS)).filter((m) => visibleTo(m, peer.username))
    const listed = window.slice(0, MAX_SUMMARY_IDS)
    // A window longer than a summary lists its newest ids, and says so by starting where they start.
    const since = window.length > MAX_SUMMARY_IDS ? listed.at(-1)!.sentAt : Math.max(0, at - CATCHUP_WINDOW_MS)
    yield* sendChatTo(ctx, peer, { _tag: "summary", since, ids: listed.map((m) => m.id), ...(ask ? { ask } : {}) })
  })

/**
 * A connection's event, then catch-up: a link that opened on the attempt the mesh holds (a first
 * contact, or a connection back from an ICE restart) gets this peer's summary. A late "open" of an
 * attempt the mesh already failed or replaced sends none: its link is not open, or not on it.
 */
export const onChannelEvent = (ctx: PeerContext, event: ChannelEvent): Effect.Effect<void> =>
  Effect.zipRight(
    onChannel(ctx, event),
    Effect.suspend(() => {
      const link = ctx.state.links.get(peerKey(event.peer))
      return event.state === "open" && link?.state === "open" && link.attempt === event.attempt ? sendSummary(ctx, event.peer) : Effect.void
    })
  )

/**
 * Answers a neighbor's summary with what it lacks of this peer's window (and may see), and with
 * this peer's own summary when asked. A reply never asks: two peers cannot keep each other busy.
 */
export const onSummary = (ctx: PeerContext, from: PeerId, since: number, ids: ReadonlyArray<string>, ask = false): Effect.Effect<void> =>
  Effect.gen(function* () {
    const at = yield* now
    const theirs = new Set(ids)
    const pending = new Set((yield* Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>)).map((m) => m.id))
    // Uncommitted messages go whatever their age; held history only from where the summary starts.
    const missing = (yield* windowOf(ctx, Math.max(since, at - CATCHUP_WINDOW_MS)))
      .filter((m) => !theirs.has(m.id) && visibleTo(m, from.username) && (pending.has(m.id) || m.sentAt >= since))
      .reverse()
    for (const messages of handoffChunks(missing)) yield* sendChatTo(ctx, from, { _tag: "catchup", messages })
    if (ask) yield* sendSummary(ctx, from)
  })

/**
 * After this peer came to hold messages its neighbors may lack (a history load that got through
 * after its links opened), it runs catch-up again with each open neighbor: its summary, asking
 * for theirs, whose answer carries what they lack.
 */
export const resummarize = (ctx: PeerContext): Effect.Effect<void> =>
  Effect.forEach(openPeers(ctx), (peer) => sendSummary(ctx, peer, true), { discard: true })

/**
 * Shows what a read of the committed history brought that this session has not seen (sent
 * within its catch-up window), and runs catch-up again with its neighbors, who may lack it
 * too. History loaded late at the start (soak, file seed 9100) and what another component's
 * leader committed (two homes whose mesh never formed) both come this way.
 */
export const showCommitted = (ctx: PeerContext, messages: ReadonlyArray<Message>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const since = ctx.state.startedAt - CATCHUP_WINDOW_MS
    const unseen = messages.filter((m) => m.sentAt >= since && !ctx.state.recent.has(m.id))
    if (unseen.length === 0) return Effect.void
    remember(ctx, unseen)
    return Effect.zipRight(Effect.forEach(unseen, (m) => PubSub.publish(ctx.messages, m), { discard: true }), resummarize(ctx))
  })
