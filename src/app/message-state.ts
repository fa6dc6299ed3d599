/**
 * Where each message stands, as the peer's view shows it: sending (no other peer
 * holds it), delivered (at least one other peer does: it acknowledged, or the
 * message came from another peer), saved (committed, with the commit's sha and a
 * link to it when the repository gives one). A state only moves forward.
 */
import { Effect, PubSub } from "effect"
import { sameUser } from "../domain/identity.js"
import type { Message, MessageId } from "../domain/message.js"
import type { PeerContext } from "./context.js"

/** Where one message stands. */
export type MessageState =
  | { readonly _tag: "sending" }
  | { readonly _tag: "delivered" }
  | {
      readonly _tag: "saved"
      /** A commit whose history holds the message (unknown for history loaded at start). */
      readonly sha: string | undefined
      /** A page showing that commit, on GitHub or the local hub, when known. */
      readonly url: string | undefined
    }

/** A message's new state, as the peer pushes it to the UI. */
export interface MessageStatus {
  readonly id: MessageId
  readonly state: MessageState
}

/** Most message states a peer remembers; older ones fall back to what the device store says. */
export const MAX_TRACKED_STATES = 5_000

const rank = (s: MessageState): number => (s._tag === "sending" ? 0 : s._tag === "delivered" ? 1 : s.sha === undefined ? 2 : 3)

/** Moves `id` forward to `state` (never back) and tells the UI; an unchanged state is not pushed again. */
export const advance = (ctx: PeerContext, id: MessageId, state: MessageState): Effect.Effect<void> =>
  Effect.suspend(() => {
    const states = ctx.state.messageStates
    const before = states.get(id)
    if (before !== undefined && rank(before) >= rank(state)) return Effect.void
    states.delete(id)
    states.set(id, state)
    if (states.size > MAX_TRACKED_STATES) states.delete(states.keys().next().value!)
    return PubSub.publish(ctx.statuses, { id, state })
  })

/** Moves every id of `ids` forward to `state`. */
export const advanceAll = (ctx: PeerContext, ids: Iterable<MessageId>, state: MessageState): Effect.Effect<void> =>
  Effect.forEach(ids, (id) => advance(ctx, id, state), { discard: true })

/** The saved state of a commit. */
export const savedAt = (ctx: PeerContext, sha: string | undefined): MessageState => ({
  _tag: "saved",
  sha: sha === "" ? undefined : sha,
  url: sha === undefined || sha === "" ? undefined : ctx.repo.commitUrl?.(sha)
})

/**
 * The state of a message this device holds (from `history` or the `messages` stream):
 * what this session tracked, else what the device store says: pending, one's own is
 * still sending and another's is held by its author and by us; not pending, it was
 * seen committed (every message is pending until then), commit unknown.
 */
export const stateOf = (ctx: PeerContext, message: Message): Effect.Effect<MessageState> =>
  Effect.suspend(() => {
    const tracked = ctx.state.messageStates.get(message.id)
    if (tracked !== undefined) return Effect.succeed(tracked)
    return Effect.map(Effect.orElseSucceed(ctx.store.pending, () => []), (pending): MessageState => {
      if (!pending.some((p) => p.id === message.id)) return { _tag: "saved", sha: undefined, url: undefined }
      return message.session === ctx.self.sessionId && sameUser(message.author, ctx.self.username) ? { _tag: "sending" } : { _tag: "delivered" }
    })
  })
