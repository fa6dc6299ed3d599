/** An open conversation kept up by deltas (`applyDelta`): merged by id, in order, bounded. */
import { describe, expect, it } from "vitest"
import { applyDelta } from "../../src/domain/timeline.js"
import { ConversationId, MessageId, type Message } from "../../src/domain/message.js"
import { SessionId, Username } from "../../src/domain/identity.js"

const general = ConversationId.make("general")
const other = ConversationId.make("other")
const msg = (id: string, sentAt: number, conversation = general): Message => ({
  id: MessageId.make(id),
  conversation,
  author: Username.make("alice"),
  session: SessionId.make("a1"),
  sentAt,
  text: id
})
const ids = (ms: ReadonlyArray<Message>) => ms.map((m) => m.id)

describe("applyDelta", () => {
  it("adds a new message in order, and a message already shown (held and pushed) once", () => {
    const held = applyDelta([], { _tag: "Held", messages: [msg("m1", 1), msg("m3", 3)] }, general, 10)
    const added = applyDelta(held, { _tag: "Added", message: msg("m2", 2) }, general, 10)
    expect(ids(added)).toEqual(["m1", "m2", "m3"])
    expect(ids(applyDelta(added, { _tag: "Added", message: msg("m3", 3) }, general, 10))).toEqual(["m1", "m2", "m3"])
  })

  it("a message pushed before the held ones were read is kept when they come", () => {
    const early = applyDelta([], { _tag: "Added", message: msg("m2", 2) }, general, 10)
    expect(ids(applyDelta(early, { _tag: "Held", messages: [msg("m1", 1)] }, general, 10))).toEqual(["m1", "m2"])
  })

  it("ignores other conversations and keeps only the newest `limit`", () => {
    const shown = applyDelta([], { _tag: "Held", messages: [msg("m1", 1), msg("m2", 2)] }, general, 2)
    expect(applyDelta(shown, { _tag: "Added", message: msg("x", 5, other) }, general, 2)).toBe(shown)
    expect(ids(applyDelta(shown, { _tag: "Added", message: msg("m3", 3) }, general, 2))).toEqual(["m2", "m3"])
  })
})
