/**
 * Conversations and messages, and the queue merge every peer and the leader use:
 * committed ∪ pending, deduplicated by message id, in one stable total order.
 */
import { Array as Arr, Order, Schema } from "effect"
import { SessionId, Username } from "./identity.js"
import { MessageSignature } from "./message-signature.js"

/** Longest chat message text, in UTF-16 code units. */
export const MAX_MESSAGE_TEXT = 8_000

/**
 * A conversation id: lower-case letters, digits, `-` and `_`, safe as a directory
 * name and never equal to a file of `.messages/` (`general`, `dm--alice--bob`).
 * Up to 96 characters: the direct conversation of two 39-character logins fits.
 */
export const ConversationId = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9_-]{0,95}$/), Schema.brand("ConversationId"))
/** A conversation id. */
export type ConversationId = typeof ConversationId.Type

/** A message id: unique per message, chosen by its author's session. */
export const MessageId = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/), Schema.brand("MessageId"))
/** A message id. */
export type MessageId = typeof MessageId.Type

/** One chat message as stored locally and committed to the repository. */
export const Message = Schema.Struct({
  id: MessageId,
  conversation: ConversationId,
  author: Username,
  session: SessionId,
  /** Epoch ms on the author's clock. */
  sentAt: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  text: Schema.String.pipe(Schema.maxLength(MAX_MESSAGE_TEXT)),
  /** The author session's signature of `signedText` (src/domain/message-signature.ts); absent in older messages. */
  signature: Schema.optional(MessageSignature)
})
/** One chat message. */
export type Message = typeof Message.Type

/** A message id that is unique across sessions: the author's session and its own counter. */
export const makeMessageId = (session: string, sentAt: number, seq: number): MessageId =>
  MessageId.make(`${sentAt.toString(36)}-${session}-${seq.toString(36)}`)

/** The conversation id of the direct messages between two users (order-independent). */
export const directConversation = (a: string, b: string): ConversationId => {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()].sort()
  return ConversationId.make(`dm--${x}--${y}`)
}

const byString: Order.Order<string> = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

/** Stable total order: author time, then id (ids are unique), then the canonical text. */
export const MessageOrder: Order.Order<Message> = Order.combineAll([
  Order.mapInput(Order.number, (m: Message) => m.sentAt),
  Order.mapInput(byString, (m: Message) => m.id),
  Order.mapInput(byString, (m: Message) => canonical(m))
])

/** A canonical encoding, so that two copies of one id always resolve to the same message. */
export const canonical = (m: Message): string =>
  JSON.stringify([m.id, m.conversation, m.author, m.session, m.sentAt, m.text])

/**
 * committed ∪ pending, deduplicated by id, sorted by `MessageOrder`. When two
 * different messages share an id (a hostile or buggy peer), the smaller canonical
 * encoding wins, so the merge stays idempotent, commutative and associative.
 */
export const mergeQueues = (a: ReadonlyArray<Message>, b: ReadonlyArray<Message>): ReadonlyArray<Message> => {
  const byId = new Map<string, Message>()
  for (const m of [...a, ...b]) {
    const seen = byId.get(m.id)
    if (seen === undefined || canonical(m) < canonical(seen)) byId.set(m.id, m)
  }
  return Arr.sort(byId.values(), MessageOrder)
}

/** The messages of `pending` whose ids are not in `committed`. */
export const withoutCommitted = (
  pending: ReadonlyArray<Message>,
  committed: ReadonlySet<string>
): ReadonlyArray<Message> => pending.filter((m) => !committed.has(m.id))
