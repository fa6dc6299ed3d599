/**
 * FastCheck arbitraries for the domain's values. Small alphabets on purpose: two
 * peers with one login in different case, or two messages with one id, must come
 * up often, because those are the cases the domain has to resolve.
 */
import { FastCheck as fc } from "effect"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { ConversationId, MessageId, type Message } from "../../src/domain/message.js"

/** A valid GitHub login: alphanumeric runs joined by single hyphens, at most 39 characters. */
export const arbGeneratedLogin: fc.Arbitrary<string> = fc
  .array(fc.stringMatching(/^[A-Za-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join("-"))
  .filter((s) => s.length <= 39)

/** A login, often one of a few that differ only in case. */
export const arbLogin: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("alice", "Alice", "ALICE", "bob", "Bob", "carol", "a-b", "a1", "zed"),
  arbGeneratedLogin
)

/** A session id, often one of a few. */
export const arbSession: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("s1", "s2", "S1", "tab-a", "tab_b"),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
)

/** A peer. */
export const arbPeer: fc.Arbitrary<PeerId> = fc.tuple(arbLogin, arbSession).map(([u, s]) => makePeerId(u, s))

/** Text with ASCII, CJK, emoji (surrogate pairs), quotes, backslashes and newlines. */
export const arbText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom("😀", "👩‍👩‍👧", "漢字", "日本語", "한국어", "é", "\n", "\r\n", "\"", "\\", "\u0000", "\u2028"),
      fc.fullUnicodeString({ maxLength: 4 })
    ),
    { maxLength: 6 }
  )
  .map((xs) => xs.join(""))

/** A message. Ids, times and conversations come from small sets so duplicates and ties happen. */
export const arbMessage: fc.Arbitrary<Message> = fc
  .record({
    id: fc.oneof(fc.constantFrom("m1", "m2", "m3", "m4", "m5"), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,16}$/)),
    conversation: fc.constantFrom("general", "random", "dm--alice--bob"),
    author: arbLogin,
    session: arbSession,
    sentAt: fc.integer({ min: 0, max: 20 }),
    text: arbText
  })
  .map(({ id, conversation, author, session, sentAt, text }) => {
    const p = makePeerId(author, session)
    return {
      id: MessageId.make(id),
      conversation: ConversationId.make(conversation),
      author: p.username,
      session: p.sessionId,
      sentAt,
      text
    }
  })

/** A queue of messages (possibly with repeated ids). */
export const arbQueue: fc.Arbitrary<ReadonlyArray<Message>> = fc.array(arbMessage, { maxLength: 12 })

/** A JSON value that survives `JSON.stringify` / `JSON.parse` unchanged (no -0, no undefined). */
export const arbJson: fc.Arbitrary<unknown> = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
