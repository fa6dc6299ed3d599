/**
 * Commit layout: one new file per conversation per flush, paths that parse back,
 * UTF-8 text end to end, corrupt lines skipped with reasons, and a flush whose
 * bytes depend on its own batch only (O(k) whatever the history).
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Option, Schema } from "effect"
import {
  byteLength,
  committedSince,
  conversationDir,
  dayMayHold,
  dayOf,
  layoutBatch,
  MESSAGES_ROOT,
  parseFile,
  parsePath,
  PRESENCE_PATH
} from "../../src/domain/commit-layout.js"
import { ConversationId, mergeQueues, Message, MessageOrder, type Message as Msg } from "../../src/domain/message.js"
import { message } from "../support/fixtures.js"
import { arbMessage } from "./arbitraries.js"

const AT = Date.UTC(2024, 4, 17, 12, 30, 0, 123)
const enc = new TextEncoder()
const dec = new TextDecoder("utf-8", { fatal: true })
/** What a file's text becomes after a trip through the repository as UTF-8 bytes. */
const throughBytes = (text: string) => dec.decode(enc.encode(text))
const sortedByConversation = (ms: ReadonlyArray<Msg>) =>
  [...ms].sort((a, b) => (a.conversation < b.conversation ? -1 : a.conversation > b.conversation ? 1 : MessageOrder(a, b)))

describe("layoutBatch", () => {
  const batch = [
    message("b", 20, "second", "general"),
    message("a", 10, "first", "general"),
    message("r", 15, "elsewhere", "random"),
    message("d", 12, "private", "dm--alice--bob")
  ]

  it("writes one new file per conversation, in path order, under .messages/<conversation>/<day>/", () => {
    const files = layoutBatch(batch, AT)
    expect(files).toHaveLength(3)
    expect(files.map((f) => f.path)).toEqual([...files.map((f) => f.path)].sort())
    expect(files.map((f) => f.path.split("/").slice(0, 3).join("/"))).toEqual([
      ".messages/dm--alice--bob/2024-05-17",
      ".messages/general/2024-05-17",
      ".messages/random/2024-05-17"
    ])
    for (const f of files) expect(f.path).toMatch(/^\.messages\/[a-z0-9_-]+\/\d{4}-\d{2}-\d{2}\/\d{13}-[0-9a-f]{8}\.jsonl$/)
  })

  it("puts one JSON message per line, in MessageOrder, ending with a newline", () => {
    const general = layoutBatch(batch, AT).find((f) => f.path.startsWith(".messages/general/"))!
    expect(general.content.endsWith("\n")).toBe(true)
    const lines = general.content.trimEnd().split("\n")
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["a", "b"])
  })

  it("writes nothing for an empty batch", () => {
    expect(layoutBatch([], AT)).toEqual([])
  })

  it("names two different batches of one conversation at one instant differently", () => {
    const one = layoutBatch([message("a", 1)], AT)[0]!.path
    const two = layoutBatch([message("b", 1)], AT)[0]!.path
    expect(one).not.toBe(two)
    // ...and a batch the same way whatever the order it was handed in.
    expect(layoutBatch([...batch].reverse(), AT)).toEqual(layoutBatch(batch, AT))
  })

  it("stores only the message's schema fields", () => {
    const withExtra = { ...message("a", 1), secret: "not for the repo" } as Msg
    expect(layoutBatch([withExtra], AT)[0]!.content).not.toContain("secret")
  })
})

describe("paths", () => {
  it("parse back to conversation, day and commit time", () => {
    for (const f of layoutBatch([message("a", 1, "x", "general"), message("b", 1, "y", "random")], AT)) {
      const where = Option.getOrThrow(parsePath(f.path))
      expect(f.path.startsWith(`${conversationDir(ConversationId.make(where.conversation))}/`)).toBe(true)
      expect(where.day).toBe("2024-05-17")
      expect(where.committedAt).toBe(AT)
    }
  })

  it.prop("parse back for any batch and any commit time up to year 2286", [fc.array(arbMessage, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 9_999_999_999_999 })], ([ms, at]) => {
    const files = layoutBatch(ms, at)
    expect(files).toHaveLength(new Set(ms.map((m) => m.conversation)).size)
    for (const f of files) {
      const where = Option.getOrThrow(parsePath(f.path))
      expect(where.committedAt).toBe(at)
      expect(where.day).toBe(dayOf(at))
    }
  })

  it("are not recognised for anything else SkyGit or anyone keeps in the repository", () => {
    for (const path of [
      PRESENCE_PATH,
      "README.md",
      ".messages/general/2024-05-17",
      ".messages/general/2024-05-17/notes.txt",
      ".messages/general/2024-05-17/123-abcdef01.jsonl",
      ".messages/general/17-05-2024/1715949000123-abcdef01.jsonl",
      ".messages/general/2024-05-17/1715949000123-ABCDEF01.jsonl",
      ".messages/general/extra/2024-05-17/1715949000123-abcdef01.jsonl",
      "other/general/2024-05-17/1715949000123-abcdef01.jsonl"
    ]) {
      expect(Option.isNone(parsePath(path)), path).toBe(true)
    }
  })

  it("answer 'committed since t' from the name alone", () => {
    const path = layoutBatch([message("a", 1)], AT)[0]!.path
    expect(committedSince(path, AT)).toBe(true)
    expect(committedSince(path, AT - 1)).toBe(true)
    expect(committedSince(path, AT + 1)).toBe(false)
    expect(committedSince(PRESENCE_PATH, 0)).toBe(false)
    expect(dayMayHold("2024-05-17", AT)).toBe(true)
    expect(dayMayHold("2024-05-18", AT)).toBe(true)
    expect(dayMayHold("2024-05-16", AT)).toBe(false)
  })
})

describe("parseFile", () => {
  it.prop("reads back every message of a batch, through UTF-8 bytes", [fc.array(arbMessage, { maxLength: 12 })], ([ms]) => {
    const read = layoutBatch(ms, AT).flatMap((f) => {
      const { messages, skipped } = parseFile(f.path, throughBytes(f.content))
      expect(skipped).toEqual([])
      return messages
    })
    expect(read).toEqual(sortedByConversation(ms))
  })

  it("keeps emoji, CJK, RTL, combining marks and lone surrogates exactly", () => {
    const texts = ["😀👩‍👩‍👧🏳️‍🌈", "漢字かな한국어", "مرحبا שלום", "e\u0301", "x\ud800y", "line\nbreak \"quoted\" \\ \u2028"]
    const ms = texts.map((t, i) => message(`t${i}`, i, t))
    const [file] = layoutBatch(ms, AT)
    // Raw UTF-8, not escaped: the CJK takes 3 bytes a character in the file.
    expect(file!.content).toContain("漢字かな한국어")
    expect(parseFile(file!.path, throughBytes(file!.content)).messages.map((m) => m.text)).toEqual(texts)
  })

  it("skips corrupt lines with a reason naming the line, and keeps the rest", () => {
    const [file] = layoutBatch([message("a", 1), message("b", 2)], AT)
    const [first, second] = file!.content.trimEnd().split("\n")
    const content = [
      first,
      "not json",
      "{}",
      second!.slice(0, 20),
      JSON.stringify({ ...JSON.parse(second!), sentAt: -5 }),
      JSON.stringify(Schema.encodeSync(Message)(message("x", 3, "hi", "random"))),
      "",
      second
    ].join("\r\n")
    const { messages, skipped } = parseFile(file!.path, content)
    expect(messages.map((m) => m.id)).toEqual(["a", "b"])
    expect(skipped).toHaveLength(5)
    expect(skipped.map((s) => s.split(": ")[0])).toEqual([2, 3, 4, 5, 6].map((n) => `${file!.path}:${n}`))
    expect(skipped[4]).toContain("message of random in the folder of general")
  })

  it("reads nothing from a path that is not a message file, and says so", () => {
    const { messages, skipped } = parseFile(PRESENCE_PATH, layoutBatch([message("a", 1)], AT)[0]!.content)
    expect(messages).toEqual([])
    expect(skipped).toHaveLength(1)
    expect(skipped[0]).toContain("not a message file")
  })
})

describe("cost of a flush", () => {
  /** A message whose encoded size does not depend on `i` (fixed-width id and time). */
  const fixedWidth = (i: number) => message(`m${String(i).padStart(6, "0")}`, 1_700_000_000_000 + i, "hello 👋")
  const bytesOf = (ms: ReadonlyArray<Msg>) => layoutBatch(ms, AT).reduce((n, f) => n + byteLength(f.content), 0)

  it("takes only the batch and the commit time: no history is an input", () => {
    expect(layoutBatch.length).toBe(2)
  })

  it.prop("writes exactly the bytes of its own messages, one line each", [fc.array(arbMessage, { maxLength: 12 })], ([ms]) => {
    const perMessage = ms.reduce((n, m) => n + byteLength(JSON.stringify(Schema.encodeSync(Message)(m))) + 1, 0)
    expect(bytesOf(ms)).toBe(perMessage)
  })

  it("grows linearly in k", () => {
    const one = bytesOf([fixedWidth(0)])
    for (const k of [1, 10, 100, 1_000]) {
      expect(bytesOf(Array.from({ length: k }, (_, i) => fixedWidth(i)))).toBe(k * one)
    }
  })

  it("writes the same new files after 100 or 100,000 committed messages, and rewrites none of them", () => {
    const repoAfter = (history: number) => {
      const old = Array.from({ length: history }, (_, i) => message(`h${i}`, i, "old"))
      return new Set(layoutBatch(old, AT - 86_400_000).map((f) => f.path))
    }
    const small = repoAfter(100)
    const large = repoAfter(100_000)
    const k = 5
    const batch = Array.from({ length: k }, (_, i) => fixedWidth(i))
    const flush = layoutBatch(batch, AT)
    for (const f of flush) {
      expect(small.has(f.path)).toBe(false)
      expect(large.has(f.path)).toBe(false)
    }
    expect(bytesOf(batch)).toBe(k * bytesOf([fixedWidth(0)]))
    // Merged with any history, the batch's own messages still lay out to the same files.
    const merged = mergeQueues(Array.from({ length: 100 }, (_, i) => message(`h${i}`, i, "old")), batch)
    expect(layoutBatch(merged.filter((m) => batch.some((b) => b.id === m.id)), AT)).toEqual(flush)
  })
})

describe("root", () => {
  it("keeps everything under .messages", () => {
    expect(MESSAGES_ROOT).toBe(".messages")
    expect(PRESENCE_PATH.startsWith(`${MESSAGES_ROOT}/`)).toBe(true)
  })
})
