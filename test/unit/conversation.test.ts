/** Conversation ids by kind: names people type, ids from peers and folders, and paging keys. */
import { describe, expect, it } from "vitest"
import { Either, Option } from "effect"
import { historyKey, layoutBatch, pageKeys } from "../../src/domain/commit-layout.js"
import { involves, kindOf, namedConversation, otherUser, parseConversationId, titleOf } from "../../src/domain/conversation.js"
import { ConversationId, directConversation } from "../../src/domain/message.js"
import { message } from "../support/fixtures.js"

const right = <A>(e: Either.Either<A, string>): A => Either.getOrThrowWith(e, (l) => new Error(l))

describe("conversation names", () => {
  it("a typed name becomes a safe id", () => {
    expect(right(namedConversation("Release 2.0"))).toBe("release-2-0")
    expect(right(namedConversation("  #design_review "))).toBe("design_review")
    expect(right(namedConversation("Ünïcode ok"))).toBe("n-code-ok")
  })

  it("hostile or empty names are refused with a reason", () => {
    for (const bad of ["", "   ", "../..", "/", "%%", "dm--alice--bob", "dm-x", "x".repeat(65)]) {
      expect(Either.isLeft(namedConversation(bad)), bad).toBe(true)
    }
  })

  it("a name never yields a path outside its conversation folder", () => {
    for (const name of ["../../etc/passwd", "..\\..\\x", ".messages", "presence.json", "a/b/c", "general/../../x"]) {
      const id = namedConversation(name)
      if (Either.isLeft(id)) continue
      const [file] = layoutBatch([message("m", 1, "t", id.right)], 1)
      expect(file!.path.split("/")[1]).toBe(id.right)
      expect(file!.path).not.toContain("..")
    }
  })

  it("ids from outside must be valid conversation ids of a known kind", () => {
    expect(Either.isRight(parseConversationId("general"))).toBe(true)
    expect(Either.isRight(parseConversationId("dm--alice--bob"))).toBe(true)
    for (const bad of ["..", "../x", "a/b", "presence.json", "Shouting", "dm--bob--alice", "dm--alice", "dm--a--b--c", "x".repeat(97), "x".repeat(100_000), 42, null]) {
      expect(Either.isLeft(parseConversationId(bad)), String(bad).slice(0, 20)).toBe(true)
    }
  })

  it("direct conversations know their two users", () => {
    const dm = directConversation("Bob", "alice")
    expect(Option.getOrThrow(kindOf(dm))._tag).toBe("direct")
    expect(involves(dm, "ALICE")).toBe(true)
    expect(involves(dm, "carol")).toBe(false)
    expect(involves(ConversationId.make("release"), "carol")).toBe(true)
    expect(Option.getOrThrow(otherUser(dm, "alice"))).toBe("bob")
    expect(titleOf(dm, "bob")).toBe("@ alice")
    expect(titleOf(ConversationId.make("release"), "bob")).toBe("# release")
  })
})

describe("history pages", () => {
  const keys = ["2026-01-01/a", "2026-01-01/b", "2026-02-03/c", "2026-03-04/d", "2026-03-04/e"]
  it("takes the newest keys before the cursor and says whether older ones remain", () => {
    expect(pageKeys(keys, Option.none(), 2)).toEqual({ taken: ["2026-03-04/e", "2026-03-04/d"], more: true })
    expect(pageKeys(keys, Option.some("2026-03-04/d"), 2)).toEqual({ taken: ["2026-02-03/c", "2026-01-01/b"], more: true })
    expect(pageKeys(keys, Option.some("2026-01-01/b"), 2)).toEqual({ taken: ["2026-01-01/a"], more: false })
    expect(historyKey("2026-01-01", "x.jsonl")).toBe("2026-01-01/x.jsonl")
  })
})
