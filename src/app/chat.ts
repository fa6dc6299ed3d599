/**
 * Chat: conversations, broadcast and direct messages. Every peer keeps every
 * message it holds in its durable pending queue until it sees it committed, and
 * hands what is uncommitted to each new leader (and again if the leader stays
 * silent about it), so a message is lost only if every peer holding it dies
 * before a commit.
 */
import { Effect, Option, PubSub } from "effect"
import { MAX_COMMITTED_IDS, MAX_ENVELOPE_BYTES, MAX_HANDOFF_MESSAGES, MAX_HELD_IDS, type EnvelopeOf, type Recipient } from "../domain/envelope.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../domain/identity.js"
import { involves, kindOf } from "../domain/conversation.js"
import { makeMessageId, MAX_MESSAGE_TEXT, type ConversationId, type Message } from "../domain/message.js"
import { checkAuthor, signedText } from "../domain/message-signature.js"
import { acknowledgesHeld } from "../domain/delivery.js"
import { envelopeId, now, refuse, reject, trouble, withinRate, type PeerContext } from "./context.js"
import { advance, advanceAll, savedAt } from "./message-state.js"
import { broadcast, component, openPeers, sendChatTo, sendTo } from "./mesh.js"
import { onSummary } from "./catch-up.js"

/** Most chat messages accepted from one peer per window; the rest are refused with a reason. */
export const MAX_CHAT_MESSAGES_PER_WINDOW = 50
/** Window of the chat rate. */
export const CHAT_RATE_WINDOW_MS = 10_000
/**
 * Most catch-up summaries answered per neighbor per minute. A link sends one when it opens and
 * one more when a late history load brought messages (with its reply): each answer can carry the
 * whole catch-up window, so a neighbor repeating summaries is refused past this.
 */
export const MAX_SUMMARIES_PER_MINUTE = 6

/** Refused messages tolerated from one peer per window before its connection is cut. */
export const MAX_CHAT_EXCESS_PER_WINDOW = 50

const store = <A, E>(ctx: PeerContext, effect: Effect.Effect<A, E>, fallback: A): Effect.Effect<A> =>
  Effect.catchAll(effect, (e) => Effect.as(trouble(ctx, "store", `local store failed: ${String(e)}`), fallback))

/**
 * The message with its author session's signature, so that anyone may relay it; unsigned
 * (taken only from a session of its author's user, as older messages) when signing fails.
 */
const signed = (ctx: PeerContext, message: Message): Effect.Effect<Message> => {
  const signer = ctx.signer
  if (signer === undefined) return Effect.succeed(message)
  return signer.sign(signedText(message)).pipe(
    Effect.map((signature): Message => ({ ...message, signature })),
    Effect.catchAll((e) => Effect.as(Effect.logWarning(`message ${message.id} not signed: ${e.detail}`), message))
  )
}

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
    const message = yield* signed(ctx, {
      id: makeMessageId(ctx.self.sessionId, at, ctx.state.messageSeq),
      conversation,
      author: ctx.self.username,
      session: ctx.self.sessionId,
      sentAt: at,
      text: text.slice(0, MAX_MESSAGE_TEXT)
    })
    yield* store(ctx, ctx.store.addPending([message]), undefined)
    yield* ctx.lead({ _tag: "PendingAdded", sentAt: [message.sentAt] })
    remember(ctx, [message])
    yield* advance(ctx, message.id, { _tag: "sending" })
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
        (ctx.state.leadership.leader !== undefined && samePeer(p, ctx.state.leadership.leader))
    )
    yield* Effect.forEach(recipients, (p) => sendTo(ctx, p, envelope), { discard: true })
    return message
  })

/**
 * Hands uncommitted messages (those sent before `olderThan`) to the leader, in bounded envelopes;
 * answers how many went, and the whole pending queue it read.
 */
export const handoff = (
  ctx: PeerContext,
  leader: PeerId,
  olderThan: number
): Effect.Effect<{ readonly sent: number; readonly pending: ReadonlyArray<Message> }> =>
  Effect.gen(function* () {
    const pending = yield* store(ctx, ctx.store.pending, [] as ReadonlyArray<Message>)
    const due = pending.filter((m) => m.sentAt < olderThan)
    for (const messages of handoffChunks(due)) yield* sendChatTo(ctx, leader, { _tag: "handoff", messages })
    return { sent: due.length, pending }
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
  Effect.zipRight(
    advanceAll(ctx, messages.map((m) => m.id), savedAt(ctx, head)),
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
  )

/** Most messages remembered as recently held, for catch-up summaries and to show each arrival once. */
export const MAX_RECENT_MESSAGES = 2_000

/** Remembers messages as recently held (bounded, oldest forgotten first). */
export const remember = (ctx: PeerContext, messages: ReadonlyArray<Message>): void => {
  const recent = ctx.state.recent
  for (const m of messages) {
    recent.delete(m.id)
    recent.set(m.id, m)
  }
  while (recent.size > MAX_RECENT_MESSAGES) recent.delete(recent.keys().next().value!)
}

/**
 * The one way messages of other sessions are taken in, whatever brought them: a new
 * message (`direct`: its author must be the sender, whose identity the transport
 * verified), a hand-off or catch-up (others' messages, relayed). Each is kept in the
 * pending queue until seen committed (holding more is harmless, dropping could lose
 * it), shown at once if new to this session, and acknowledged to its author when the
 * author sent it, so the author sees it delivered.
 */
export const acceptMessages = (
  ctx: PeerContext,
  from: PeerId,
  messages: ReadonlyArray<Message>,
  how: "direct" | "handoff" | "catchup"
): Effect.Effect<void> =>
  Effect.gen(function* () {
    // Nobody may put words in another's mouth (and in git): a new message comes from its author's
    // session; a relayed one from a session of its author's user, or with its author session's signature.
    let accepted: Array<Message> = []
    const unchecked: Array<string> = []
    for (const m of messages) {
      const check = checkAuthor(m, from, how)
      if (check._tag === "accept") accepted.push(m)
      else if (check._tag === "refuse" && how === "direct") yield* refuse(ctx, from, check.kind, check.detail)
      else if (check._tag === "refuse") unchecked.push(m.id)
      else {
        const problem = yield* signatureProblem(ctx, m, check.signature)
        if (problem === undefined) accepted.push(m)
        else yield* refuse(ctx, from, problem.kind, `${how} message ${m.id} of ${m.author}/${m.session}: ${problem.detail}`)
      }
    }
    // One reason for all unsigned ones of an envelope: a hand-off may carry hundreds.
    if (unchecked.length > 0) {
      yield* refuse(ctx, from, "relayed-author", `${unchecked.length} ${how} message(s) of other users without a signature (first ${unchecked[0]})`)
    }
    // A direct conversation holds only its two users' messages, whoever passes them on.
    const outsiders = accepted.filter((m) => !involves(m.conversation, m.author))
    for (const m of outsiders) yield* reject(ctx, from, `message ${m.id} in ${m.conversation}, a conversation its author is not in`)
    if (outsiders.length > 0) accepted = accepted.filter((m) => !outsiders.includes(m))
    if (accepted.length === 0) return
    // What the device did not hold, and this session has not shown, is new to the page.
    const added = yield* store(ctx, ctx.store.addPending(accepted), accepted)
    const fresh = added.filter((m) => !ctx.state.recent.has(m.id))
    // The leader learns of what it must commit here, not by scanning the queue every tick.
    yield* ctx.lead({ _tag: "PendingAdded", sentAt: accepted.map((m) => m.sentAt) })
    remember(ctx, accepted)
    // Another session holds each of these (the sender, and the author), so each is at least delivered.
    yield* advanceAll(ctx, accepted.map((m) => m.id), { _tag: "delivered" })
    for (const m of fresh) yield* PubSub.publish(ctx.messages, m)
    // Its author learns that another session holds each: from every recipient of a hand-off or catch-up
    // (sent to this session alone), and from a few of its neighbors for a message sent to everyone.
    const neighbors = ctx.state.reports.get(peerKey(from))?.neighbors
    const theirs = accepted.filter(
      (m) =>
        m.session === from.sessionId &&
        sameUser(m.author, from.username) &&
        (how !== "direct" || acknowledgesHeld(ctx.self, m.conversation, neighbors))
    )
    for (let i = 0; i < theirs.length; i += MAX_HELD_IDS) {
      yield* sendChatTo(ctx, from, { _tag: "held", ids: theirs.slice(i, i + MAX_HELD_IDS).map((m) => m.id) })
    }
  })

/** Why a relayed message's signature is not taken, or undefined when it verifies against a key its author's session published. */
const signatureProblem = (
  ctx: PeerContext,
  m: Message,
  signature: string
): Effect.Effect<{ readonly kind: "relayed-unknown-key" | "relayed-bad-signature"; readonly detail: string } | undefined> =>
  Effect.gen(function* () {
    const author = peerKey({ username: m.author, sessionId: m.session })
    const keys = ctx.state.signingKeys.get(author) ?? []
    if (keys.length === 0) return { kind: "relayed-unknown-key", detail: "its session published no signing key this peer knows" }
    if (ctx.signer === undefined) return { kind: "relayed-unknown-key", detail: "this peer cannot check signatures" }
    const text = signedText(m)
    for (const key of keys) if (yield* ctx.signer.verify(key, text, signature)) return undefined
    return { kind: "relayed-bad-signature", detail: "its signature does not verify" }
  })

/** Handles a chat envelope from a neighbor. */
export const onChat = (ctx: PeerContext, envelope: EnvelopeOf<"chat">): Effect.Effect<void> =>
  Effect.gen(function* () {
    const p = envelope.payload
    switch (p._tag) {
      case "message": {
        const at = yield* now
        const sender = peerKey(envelope.from)
        // A person types a few messages a second at most: past that a peer is flooding.
        if (!withinRate(ctx.state.chatRate, sender, at, MAX_CHAT_MESSAGES_PER_WINDOW, CHAT_RATE_WINDOW_MS)) {
          yield* refuse(ctx, envelope.from, "chat-rate", `message ${p.message.id} over ${MAX_CHAT_MESSAGES_PER_WINDOW} per ${CHAT_RATE_WINDOW_MS / 1000} s`)
          // Past a threshold the connection is cut, as for garbage frames.
          if (!withinRate(ctx.state.chatExcess, sender, at, MAX_CHAT_EXCESS_PER_WINDOW, CHAT_RATE_WINDOW_MS)) {
            ctx.state.chatExcess.delete(sender)
            yield* refuse(ctx, envelope.from, "flood-cut", "connection cut: chat flood")
            yield* ctx.transport.close(envelope.from)
          }
          return
        }
        return yield* acceptMessages(ctx, envelope.from, [p.message], "direct")
      }
      case "handoff":
        // Kept even before this peer acts as leader (it may still be settling in).
        return yield* acceptMessages(ctx, envelope.from, p.messages, "handoff")
      case "catchup":
        return yield* acceptMessages(ctx, envelope.from, p.messages, "catchup")
      case "held":
        // Only the author's own messages move: an acknowledgement of others' ids changes nothing here.
        return yield* advanceAll(
          ctx,
          p.ids.filter((id) => ctx.state.messageStates.get(id)?._tag === "sending"),
          { _tag: "delivered" }
        )
      case "saveNow":
        // A leader commits in the background, at most once per SAVE_NOW_MIN_GAP_MS (the asker sees the commit notice).
        yield* ctx.lead({ _tag: "SaveNowAsked", member: component(ctx).some((q) => samePeer(q, envelope.from)) })
        return
      case "summary":
        if (!withinRate(ctx.state.summaryRate, peerKey(envelope.from), yield* now, MAX_SUMMARIES_PER_MINUTE, 60_000)) {
          return yield* refuse(ctx, envelope.from, "summary-rate", `more than ${MAX_SUMMARIES_PER_MINUTE} catch-up summaries in a minute`)
        }
        return yield* onSummary(ctx, envelope.from, p.since, p.ids, p.ask === true)
      case "committed": {
        const leader = ctx.state.leadership.leader
        if (leader === undefined || !samePeer(leader, envelope.from)) {
          return yield* reject(ctx, envelope.from, "commit notice from a peer that is not the leader")
        }
        const ids = new Set<string>(p.ids)
        const pending = yield* store(ctx, ctx.store.pending, [] as ReadonlyArray<Message>)
        yield* store(ctx, ctx.store.markCommitted(pending.filter((m) => ids.has(m.id))), undefined)
        return yield* advanceAll(ctx, p.ids, savedAt(ctx, p.head))
      }
      case "typing":
      case "topic": {
        const kind = kindOf(p.conversation)
        // Typing is accepted only in a conversation both sides are in; only named conversations are announced.
        const fits =
          Option.isSome(kind) &&
          (p._tag === "typing" ? involves(p.conversation, envelope.from.username) && involves(p.conversation, ctx.self.username) : kind.value._tag === "named")
        if (!fits) return yield* reject(ctx, envelope.from, `${p._tag} notice for ${p.conversation}, which does not fit`)
        const at = yield* now
        return yield* PubSub.publish(ctx.activity, { _tag: p._tag, conversation: p.conversation, from: envelope.from, at })
      }
    }
  })

/**
 * Tells those in a conversation that this user types (`typing`) or started it (`topic`):
 * a direct conversation's other user only, everyone open otherwise. Nothing is stored.
 */
export const sendActivity = (ctx: PeerContext, kind: "typing" | "topic", conversation: ConversationId): Effect.Effect<void> =>
  broadcast(ctx, (id, at) => ({
    v: 1,
    id,
    type: "chat",
    from: ctx.self,
    to: Option.match(kindOf(conversation), {
      onNone: () => null,
      onSome: (k) => (k._tag === "direct" ? { username: sameUser(k.users[0], ctx.self.username) ? k.users[1] : k.users[0] } : null)
    }),
    timestamp: at,
    payload: kind === "typing" ? { _tag: "typing", conversation } : { _tag: "topic", conversation }
  }))
