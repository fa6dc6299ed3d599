/** Test data shared by unit, contract and simulation tests. */
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { ConversationId, MessageId, type Message } from "../../src/domain/message.js"
import type { CallSignal } from "../../src/domain/call-signal.js"
import type { PresenceCallSlot, PresenceEntry, PresenceSignal } from "../../src/domain/presence-doc.js"

/** A peer of `user` with session `session`. */
export const peer = (user: string, session = "s1"): PeerId => makePeerId(user, session)

/** A chat message with sensible defaults. */
export const message = (id: string, sentAt: number, text = `text ${id}`, conversation = "general", author = "alice"): Message => ({
  id: MessageId.make(id),
  conversation: ConversationId.make(conversation),
  author: makePeerId(author, "s1").username,
  session: makePeerId(author, "s1").sessionId,
  sentAt,
  text
})

/** A presence entry of `p` last seen at `lastSeen`. */
export const entry = (p: PeerId, lastSeen: number, fingerprint?: string): PresenceEntry => ({
  username: p.username,
  sessionId: p.sessionId,
  lastSeen,
  ...(fingerprint === undefined ? {} : { fingerprint })
})

/** A signaling slot from `from` to `to`. */
export const signal = (from: PeerId, to: PeerId, at: number, attempt = "a1", type: "offer" | "answer" = "offer"): PresenceSignal => ({
  from,
  to,
  attempt,
  description: { type, sdp: `v=0 ${attempt}` },
  at
})

/** A call slot from `from` to `to` written at `at`, carrying `signals` (id and time default from the position). */
export const callSlot = (
  from: PeerId,
  to: PeerId,
  at: number,
  signals: ReadonlyArray<CallSignal | { readonly id: string; readonly at: number; readonly signal: CallSignal }>
): PresenceCallSlot => ({
  from,
  to,
  at,
  signals: signals.map((s, i) => ("signal" in s ? s : { id: `${from.sessionId}.call.${i}`, at, signal: s }))
})
