/**
 * Messages and the queue merge (committed ∪ pending): idempotent, commutative,
 * associative, deduplicated by id, sorted by MessageOrder, and stable when two
 * different messages claim one id.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import {
  canonical,
  ConversationId,
  directConversation,
  makeMessageId,
  mergeQueues,
  Message,
  MessageId,
  MessageOrder,
  withoutCommitted
} from "../../src/domain/message.js"
import { message } from "../support/fixtures.js"
import { arbGeneratedLogin, arbMessage, arbQueue } from "./arbitraries.js"

const ids = (ms: ReadonlyArray<Message>) => ms.map((m) => m.id)
const isSorted = (ms: ReadonlyArray<Message>) => ms.every((m, i) => i === 0 || MessageOrder(ms[i - 1]!, m) <= 0)
const validConversation = (s: string) => Either.isRight(Schema.decodeUnknownEither(ConversationId)(s))

describe("mergeQueues", () => {
  it("unions committed and pending, drops repeats and sorts by author time", () => {
    const committed = [message("a", 10), message("b", 20)]
    const pending = [message("c", 15), message("b", 20), message("d", 5)]
    expect(ids(mergeQueues(committed, pending))).toEqual(["d", "a", "c", "b"])
  })

  it("orders equal author times by id", () => {
    expect(ids(mergeQueues([message("z", 7), message("a", 7)], [message("m", 7)]))).toEqual(["a", "m", "z"])
  })

  it("resolves two different messages with one id to the same one, whichever side holds which", () => {
    const honest = message("dup", 10, "hello")
    const forged = message("dup", 10, "HELLO from someone else")
    const ab = mergeQueues([honest], [forged])
    const ba = mergeQueues([forged], [honest])
    expect(ab).toHaveLength(1)
    expect(ab).toEqual(ba)
    expect(mergeQueues([honest, forged], [])).toEqual(ab)
    expect(mergeQueues([], [forged, honest])).toEqual(ab)
    // The winner is the copy with the smaller canonical encoding.
    expect(canonical(ab[0]!)).toBe([canonical(honest), canonical(forged)].sort()[0])
  })

  it("resolves a shared id the same way even when the copies differ in author time", () => {
    const early = message("dup", 1, "b")
    const late = message("dup", 2, "a")
    expect(mergeQueues([early], [late])).toEqual(mergeQueues([late], [early]))
    expect(mergeQueues([early], [late])).toHaveLength(1)
  })

  it("merges empty queues to an empty queue", () => {
    expect(mergeQueues([], [])).toEqual([])
  })

  it.prop("is idempotent", [arbQueue, arbQueue], ([a, b]) => {
    const ab = mergeQueues(a, b)
    expect(mergeQueues(ab, ab)).toEqual(ab)
    expect(mergeQueues(ab, [])).toEqual(ab)
    expect(mergeQueues(ab, a)).toEqual(ab)
    expect(mergeQueues(a, a)).toEqual(mergeQueues(a, []))
  })

  it.prop("is commutative", [arbQueue, arbQueue], ([a, b]) => {
    expect(mergeQueues(a, b)).toEqual(mergeQueues(b, a))
  })

  it.prop("is associative", [arbQueue, arbQueue, arbQueue], ([a, b, c]) => {
    expect(mergeQueues(a, mergeQueues(b, c))).toEqual(mergeQueues(mergeQueues(a, b), c))
  })

  it.prop("does not depend on the order inside a queue", [arbQueue.chain((q) => fc.tuple(fc.constant(q), fc.shuffledSubarray([...q], { minLength: q.length })))], ([[q, shuffled]]) => {
    expect(mergeQueues(q, [])).toEqual(mergeQueues(shuffled, []))
  })

  it.prop("holds each id of either side exactly once, sorted by MessageOrder", [arbQueue, arbQueue], ([a, b]) => {
    const merged = mergeQueues(a, b)
    expect(new Set(ids(merged)).size).toBe(merged.length)
    expect(new Set(ids(merged))).toEqual(new Set([...ids(a), ...ids(b)]))
    expect(isSorted(merged)).toBe(true)
    // Nothing is invented: every result is one of the inputs, and of its id the smallest canonical copy.
    for (const m of merged) {
      const copies = [...a, ...b].filter((x) => x.id === m.id).map(canonical).sort()
      expect(canonical(m)).toBe(copies[0])
    }
  })
})

describe("MessageOrder", () => {
  it.prop("is a total order: zero only for identical messages, antisymmetric", [arbMessage, arbMessage], ([a, b]) => {
    expect(MessageOrder(a, b) === 0).toBe(canonical(a) === canonical(b))
    expect(MessageOrder(a, b)).toBe(-MessageOrder(b, a) || 0)
  })
})

describe("withoutCommitted", () => {
  it("keeps pending messages whose ids are not committed, in their order", () => {
    const pending = [message("a", 1), message("b", 2), message("c", 3)]
    expect(ids(withoutCommitted(pending, new Set(["b", "x"])))).toEqual(["a", "c"])
    expect(withoutCommitted(pending, new Set())).toEqual(pending)
  })
})

describe("makeMessageId", () => {
  it.prop(
    "builds a valid id, distinct for distinct (session, time, seq)",
    [fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.integer({ min: 0, max: 2 ** 45 }), fc.nat(), fc.nat()],
    ([session, sentAt, seq, other]) => {
      const id = makeMessageId(session, sentAt, seq)
      expect(Either.isRight(Schema.decodeUnknownEither(MessageId)(id))).toBe(true)
      if (other !== seq) expect(makeMessageId(session, sentAt, other)).not.toBe(id)
    }
  )
})

describe("directConversation", () => {
  it("is the same for both participants, whatever the case of their logins", () => {
    expect(directConversation("Bob", "alice")).toBe("dm--alice--bob")
    expect(directConversation("alice", "BOB")).toBe("dm--alice--bob")
  })

  it.prop("is a valid conversation id for logins of ordinary length", [arbGeneratedLogin.filter((s) => s.length <= 20), arbGeneratedLogin.filter((s) => s.length <= 20)], ([a, b]) => {
    const c = directConversation(a, b)
    expect(validConversation(c)).toBe(true)
    expect(c).toBe(directConversation(b, a))
  })

  // Regression: "dm--" + two 39-character logins + "--" is 84 characters; ConversationId
  // allowed 80, so directConversation threw for two long (legal) logins.
  it("does not throw for two 39-character logins (GitHub's maximum)", () => {
    const c = directConversation("a".repeat(39), "b".repeat(39))
    expect(validConversation(c)).toBe(true)
  })
})

describe("Message schema", () => {
  it("rejects text longer than MAX_MESSAGE_TEXT and negative or fractional times", () => {
    const ok = Schema.encodeSync(Message)(message("a", 1))
    const decode = Schema.decodeUnknownEither(Message)
    expect(Either.isRight(decode(ok))).toBe(true)
    expect(Either.isLeft(decode({ ...ok, text: "x".repeat(8_001) }))).toBe(true)
    expect(Either.isLeft(decode({ ...ok, sentAt: -1 }))).toBe(true)
    expect(Either.isLeft(decode({ ...ok, sentAt: 1.5 }))).toBe(true)
    expect(Either.isLeft(decode({ ...ok, conversation: "General" }))).toBe(true)
    expect(Either.isLeft(decode({ ...ok, id: "has space" }))).toBe(true)
  })
})
