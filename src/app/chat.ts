/**
 * Chat: conversations, broadcast and direct messages. Every peer keeps every
 * message it holds in its durable pending queue until it sees it committed, and
 * hands what is uncommitted to each new leader (and again if the leader stays
 * silent about it), so a message is lost only if every peer holding it dies
 * before a commit.
 */
import { Effect, PubSub } from "effect"
import { MAX_COMMITTED_IDS, MAX_ENVELOPE_BYTES, MAX_HANDOFF_MESSAGES, type EnvelopeOf, type Recipient } from "../domain/envelope.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { makeMessageId, MAX_MESSAGE_TEXT, type ConversationId, type Message } from "../domain/message.js"
import { envelopeId, now, refuse, reject, withinRate, type PeerContext } from "./context.js"
import { broadcast, openPeers, sendTo } from "./mesh.js"

/** Most chat messages accepted from one peer per window; the rest are refused with a reason. */
export const MAX_CHAT_MESSAGES_PER_WINDOW = 50
/** Window of the chat rate. */
export const CHAT_RATE_WINDOW_MS = 10_000
/** Refused messages tolerated from one peer per window before its connection is cut. */
export const MAX_CHAT_EXCESS_PER_WINDOW = 50

const store = <A, E>(ctx: PeerContext, effect: Effect.Effect<A, E>, fallback: A): Effect.Effect<A> =>
  Effect.catchAll(effect, (e) => Effect.as(reject(ctx, "store", `local store failed: ${String(e)}`), fallback))

/** Sends a chat message to everyone (or, with `to`, to one user's sessions, our own other sessions and the leader). */
export const sendChat = (
  ctx: PeerContext,
  conversation: ConversationId,
  text: string,
  to: Recipient | null
): Effect.Effect<Message> =>
  Effect.gen(function* () {
    const at = yield* now
    ctx.state.messageSeq += 1
    const message: Message = {
      id: makeMessageId(ctx.self.sessionId, at, ctx.state.messageSeq),
      conversation,
      author: ctx.self.username,
      session: ctx.self.sessionId,
      sentAt: at,
      text: text.slice(0, MAX_MESSAGE_TEXT)
    }
    yield* store(ctx, ctx.store.addPending([message]), undefined)
    yield* PubSub.publish(ctx.messages, message)
    const envelope: EnvelopeOf<"chat"> = {
      v: 1,
      id: envelopeId(ctx, at),
      type: "chat",
      from: ctx.self,
      to: null,
      timestamp: at,
      payload: { _tag: "message", message }
    }
    // A direct message still reaches the leader, which must commit it.
    const recipients = openPeers(ctx).filter(
      (p) =>
        to === null ||
        sameUser(p.username, to.username) ||
        sameUser(p.username, ctx.self.username) ||
        (ctx.state.leader !== undefined && samePeer(p, ctx.state.leader))
    )
    yield* Effect.forEach(recipients, (p) => sendTo(ctx, p, envelope), { discard: true })
    return message
  })

/** Hands uncommitted messages (those sent before `olderThan`) to the leader, in bounded envelopes. */
export const handoff = (ctx: PeerContext, leader: PeerId, olderThan: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const pending = (yield* store(ctx, ctx.store.pending, [] as ReadonlyArray<Message>)).filter((m) => m.sentAt < olderThan)
    if (pending.length === 0) return
    const at = yield* now
    ctx.state.lastHandoffAt = at
    for (const messages of handoffChunks(pending)) {
      yield* sendTo(ctx, leader, {
        v: 1,
        id: envelopeId(ctx, at),
        type: "chat",
        from: ctx.self,
        to: { username: leader.username, sessionId: leader.sessionId },
        timestamp: at,
        payload: { _tag: "handoff", messages }
      })
    }
  })

/** Handoff envelopes stay well under the envelope limit, by count and by size. */
const HANDOFF_BYTES = MAX_ENVELOPE_BYTES / 2

/** Splits messages into handoff-sized chunks (a long message's UTF-8 may take three bytes per character). */
export const handoffChunks = (messages: ReadonlyArray<Message>): ReadonlyArray<ReadonlyArray<Message>> => {
  const chunks: Array<Array<Message>> = []
  let chunk: Array<Message> = []
  let bytes = 0
  for (const m of messages) {
    const size = 3 * m.text.length + 512
    if (chunk.length > 0 && (chunk.length >= MAX_HANDOFF_MESSAGES || bytes + size > HANDOFF_BYTES)) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(m)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}

/** Tells every neighbor which messages are now committed, so they stop holding them. */
export const announceCommitted = (ctx: PeerContext, messages: ReadonlyArray<Message>, head: string): Effect.Effect<void> =>
  Effect.forEach(
    Array.from({ length: Math.ceil(messages.length / MAX_COMMITTED_IDS) }, (_, i) =>
      messages.slice(i * MAX_COMMITTED_IDS, (i + 1) * MAX_COMMITTED_IDS)
    ),
    (chunk) =>
      broadcast(ctx, (id, at) => ({
        v: 1,
        id,
        type: "chat",
        from: ctx.self,
        to: null,
        timestamp: at,
        payload: { _tag: "committed", ids: chunk.map((m) => m.id), head }
      })),
    { discard: true }
  )

/**
 * The one way messages relayed by another peer (a hand-off, a catch-up) are accepted: each
 * must be authored by the session that sent it, since nothing else proves its author made it.
 * Without this a member could hand over messages "by alice" and the leader committed them.
 * Messages of other authors that this peer already holds are kept as they are.
 */
export const acceptOthers = (ctx: PeerContext, from: PeerId, messages: ReadonlyArray<Message>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const own = messages.filter((m) => sameUser(m.author, from.username) && m.session === from.sessionId)
    const others = messages.length - own.length
    if (others > 0) yield* refuse(ctx, from, "handoff-author", `${others} handed-off message(s) not authored by the sending session`)
    if (own.length > 0) yield* store(ctx, ctx.store.addPending(own), undefined)
  })

/** Handles a chat envelope from a neighbor. */
export const onChat = (ctx: PeerContext, envelope: EnvelopeOf<"chat">): Effect.Effect<void> =>
  Effect.gen(function* () {
    const p = envelope.payload
    switch (p._tag) {
      case "message": {
        const m = p.message
        const at = yield* now
        const sender = peerKey(envelope.from)
        // A person types a few messages a second at most: past that a peer is flooding.
        if (!withinRate(ctx.state.chatRate, sender, at, MAX_CHAT_MESSAGES_PER_WINDOW, CHAT_RATE_WINDOW_MS)) {
          yield* refuse(ctx, envelope.from, "chat-rate", `message ${m.id} over ${MAX_CHAT_MESSAGES_PER_WINDOW} per ${CHAT_RATE_WINDOW_MS / 1000} s`)
          // Past a threshold the connection is cut, as for garbage frames.
          if (!withinRate(ctx.state.chatExcess, sender, at, MAX_CHAT_EXCESS_PER_WINDOW, CHAT_RATE_WINDOW_MS)) {
            ctx.state.chatExcess.delete(sender)
            yield* refuse(ctx, envelope.from, "flood-cut", "connection cut: chat flood")
            yield* ctx.transport.close(envelope.from)
          }
          return
        }
        // The sender's identity is the connection's, which the transport verified.
        if (!sameUser(m.author, envelope.from.username) || m.session !== envelope.from.sessionId) {
          return yield* refuse(ctx, envelope.from, "spoofed-author", `message ${m.id} claims author ${m.author}/${m.session}`)
        }
        yield* store(ctx, ctx.store.addPending([m]), undefined)
        return yield* PubSub.publish(ctx.messages, m)
      }
      case "handoff":
        // Kept even before this peer acts as leader (it may still be settling in): holding
        // more uncommitted messages is harmless, dropping them could lose them.
        return yield* acceptOthers(ctx, envelope.from, p.messages)
      case "committed": {
        if (ctx.state.leader === undefined || !samePeer(ctx.state.leader, envelope.from)) {
          return yield* reject(ctx, envelope.from, "commit notice from a peer that is not the leader")
        }
        const ids = new Set<string>(p.ids)
        const pending = yield* store(ctx, ctx.store.pending, [] as ReadonlyArray<Message>)
        return yield* store(ctx, ctx.store.markCommitted(pending.filter((m) => ids.has(m.id))), undefined)
      }
    }
  })
