/**
 * The ConversationRepo port's contract: a function of a fixture, so the memory
 * adapter and the GitHub adapter over the local hub run the same suite.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option, type Scope } from "effect"
import { ConversationId, type Message } from "../../src/domain/message.js"
import { MAX_PAGE_REQUESTS, PAGE_FILES, type ConversationRepoService, type HistoryCursor } from "../../src/ports/ConversationRepo.js"
import { layoutBatch } from "../../src/domain/commit-layout.js"
import { message } from "../support/fixtures.js"

/** What a conversation repository adapter under test provides. */
export interface ConversationRepoFixture {
  /** A client of `user` on the one repository of this fixture. */
  readonly client: (user: string) => Effect.Effect<ConversationRepoService, unknown, Scope.Scope>
  /** Commits a raw file on the SkyGit branch, bypassing the adapter (corrupt input). */
  readonly writeRaw: (path: string, content: string) => Effect.Effect<void, unknown, Scope.Scope>
  /** How many commits the SkyGit branch holds. */
  readonly commitCount: Effect.Effect<number, unknown, Scope.Scope>
  /** Requests made to the backend so far, by every client of this fixture. */
  readonly requests: Effect.Effect<number, unknown, Scope.Scope>
}

/** Runs the ConversationRepo contract against one adapter. */
export const conversationRepoContract = (name: string, makeFixture: Effect.Effect<ConversationRepoFixture, unknown, Scope.Scope>) =>
  describe(`ConversationRepo contract: ${name}`, () => {
    it.scopedLive("an empty repository has no head and no messages", () =>
      Effect.gen(function* () {
        const repo = yield* (yield* makeFixture).client("alice")
        expect(Option.isNone(yield* repo.head)).toBe(true)
        const slice = yield* repo.readSince(0)
        expect(slice.messages).toEqual([])
      })
    )

    it.scopedLive("a batch over several conversations is one commit, read back intact in UTF-8", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const before = yield* f.commitCount
        const now = yield* Clock.currentTimeMillis
        const batch = [
          message("m1", now - 3, "héllo 👋 wörld", "general"),
          message("m2", now - 2, "你好，世界 🚀", "random"),
          message("m3", now - 1, "ok", "general")
        ]
        const result = yield* alice.commit({ expectedHead: Option.none(), messages: batch, at: now })
        expect(yield* f.commitCount).toBe(before + 1)
        expect(result.paths.length).toBe(2)
        const slice = yield* bob.readSince(now - 60_000)
        expect(slice.messages).toEqual(batch)
        expect(Option.getOrNull(slice.head)).toBe(result.head)
        expect(Option.getOrNull(yield* bob.head)).toBe(result.head)
      })
    )

    it.scopedLive("a commit against a stale head is refused and writes nothing", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        const first = yield* alice.commit({ expectedHead: Option.none(), messages: [message("a", now)], at: now })
        const lost = yield* Effect.exit(bob.commit({ expectedHead: Option.none(), messages: [message("b", now)], at: now + 1 }))
        expect(Exit.isFailure(lost)).toBe(true)
        expect(JSON.stringify(lost)).toContain("RepoConflict")
        const slice = yield* bob.readSince(0)
        expect(slice.messages.map((m) => m.id)).toEqual(["a"])
        // Re-read, merge, retry: against the head it read, bob's commit lands.
        const retry = yield* bob.commit({ expectedHead: Option.some(first.head), messages: [message("b", now)], at: now + 2 })
        expect(retry.head).not.toBe(first.head)
        expect((yield* alice.readSince(0)).messages.map((m) => m.id)).toEqual(["a", "b"])
      })
    )

    it.scopedLive("readSince returns only what was committed at or after the point", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        const one = yield* alice.commit({ expectedHead: Option.none(), messages: [message("old", now - 10)], at: now - 5 * 60_000 })
        yield* alice.commit({ expectedHead: Option.some(one.head), messages: [message("new", now)], at: now })
        expect((yield* alice.readSince(now - 60_000)).messages.map((m) => m.id)).toEqual(["new"])
        expect((yield* alice.readSince(0)).messages.map((m) => m.id)).toEqual(["old", "new"])
      })
    )

    it.scopedLive("the bytes of a commit do not grow with history", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        const batchOf = (prefix: string) => Array.from({ length: 5 }, (_, i) => message(`${prefix}-${i}`, now + i, "same text"))
        const first = yield* alice.commit({ expectedHead: Option.none(), messages: batchOf("a"), at: now })
        let head = first.head
        for (let k = 0; k < 4; k++) {
          const many = Array.from({ length: 200 }, (_, i) => message(`h${k}-${i}`, now + i, "history"))
          head = (yield* alice.commit({ expectedHead: Option.some(head), messages: many, at: now + 1 + k })).head
        }
        const late = yield* alice.commit({ expectedHead: Option.some(head), messages: batchOf("b"), at: now + 10 })
        expect(late.bytes).toBe(first.bytes)
      })
    )

    it.scopedLive("a corrupt file is skipped with a reason and the rest is read", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        yield* alice.commit({ expectedHead: Option.none(), messages: [message("good", now)], at: now })
        const day = new Date(now).toISOString().slice(0, 10)
        yield* f.writeRaw(`.messages/general/${day}/${String(now + 1).padStart(13, "0")}-0000beef.jsonl`, '{"id": broken\n')
        const slice = yield* alice.readSince(0)
        expect(slice.messages.map((m) => m.id)).toEqual(["good"])
        expect(slice.skipped.length).toBeGreaterThan(0)
      })
    )

    it.scopedLive("history pages back across days and months, each page within its request bound", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        const DAY = 86_400_000
        // 15 flushes over about 100 days (several a day on some days), plus traffic in another conversation.
        const at = [100, 99.5, 70, 69, 40.4, 40.2, 40, 33, 20, 10, 5, 2.3, 2, 1, 0.01].map((d) => Math.round(now - d * DAY))
        let head = Option.none<string>()
        const sent: Array<Message> = []
        for (const [i, t] of at.entries()) {
          const m = message(`p${String(i).padStart(2, "0")}`, t - 1_000, `page ${i}`, "release")
          sent.push(m)
          const other = message(`o${i}`, t - 500, "elsewhere", "general")
          head = Option.some((yield* alice.commit({ expectedHead: head, messages: [m, other], at: t })).head)
        }
        const conversation = ConversationId.make("release")
        const got: Array<Message> = []
        let cursor = Option.none<HistoryCursor>()
        let pages = 0
        for (;;) {
          const before = yield* f.requests
          const page = yield* bob.readPage(conversation, cursor)
          expect((yield* f.requests) - before).toBeLessThanOrEqual(MAX_PAGE_REQUESTS)
          expect(page.messages.length).toBeLessThanOrEqual(PAGE_FILES)
          expect(page.messages.every((m) => m.conversation === "release")).toBe(true)
          got.unshift(...page.messages)
          pages += 1
          if (Option.isNone(page.older)) break
          cursor = page.older
          expect(pages).toBeLessThan(10)
        }
        expect(pages).toBe(Math.ceil(at.length / PAGE_FILES))
        expect(got.map((m) => m.id)).toEqual(sent.map((m) => m.id))
        // The first page is the newest.
        const first = yield* bob.readPage(conversation, Option.none())
        expect(first.messages.at(-1)!.id).toBe("p14")
      })
    )

    it.scopedLive("an unknown conversation has an empty first page", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        yield* alice.commit({ expectedHead: Option.none(), messages: [message("g", now)], at: now })
        const page = yield* alice.readPage(ConversationId.make("nobody-here"), Option.none())
        expect(page.messages).toEqual([])
        expect(Option.isNone(page.older)).toBe(true)
      })
    )

    it.scopedLive("conversations lists the folders that are valid conversation ids, and nothing else", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        yield* alice.commit({
          expectedHead: Option.none(),
          messages: [message("a", now, "x", "general"), message("b", now, "x", "release-2"), message("c", now, "x", "dm--alice--bob")],
          at: now
        })
        const day = new Date(now).toISOString().slice(0, 10)
        const name = `${String(now + 1).padStart(13, "0")}-0000beef.jsonl`
        // Hand-made folders no SkyGit client would write: upper case, a direct id out of order.
        yield* f.writeRaw(`.messages/Shouting/${day}/${name}`, "")
        yield* f.writeRaw(`.messages/dm--zed--alice/${day}/${name}`, "")
        expect(yield* alice.conversations).toEqual(["dm--alice--bob", "general", "release-2"])
      })
    )
  
    it.scopedLive("files written on the way out are read back as history, and a commit from before them conflicts", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        const first = yield* alice.commit({ expectedHead: Option.none(), messages: [message("m0", now - 5)], at: now - 1 })
        const exiting = [message("m1", now - 3, "bye 👋", "general"), message("m2", now - 2, "über", "random"), message("m3", now - 1, "ok", "general")]
        const files = layoutBatch(exiting, now)
        const before = yield* f.commitCount
        const outcomes = yield* yield* alice.writeOnExit(files)
        expect(outcomes.map((o) => [o._tag, o.path])).toEqual(files.map((file) => ["Written", file.path]))
        expect(outcomes.every((o) => o._tag === "Written" && o.head !== "")).toBe(true)
        // One commit per file (a contents API PUT each).
        expect(yield* f.commitCount).toBe(before + files.length)
        expect((yield* bob.readSince(now - 60_000)).messages.map((m) => m.id)).toEqual(["m0", "m1", "m2", "m3"])
        // A leader that still holds m1 and commits against the head it knew is told to re-read: no duplicate.
        const stale = yield* Effect.exit(bob.commit({ expectedHead: Option.some(first.head), messages: [exiting[0]!], at: now + 1 }))
        expect(JSON.stringify(stale)).toContain("RepoConflict")
        expect((yield* bob.readSince(0)).messages.map((m) => m.id)).toEqual(["m0", "m1", "m2", "m3"])
      })
    )

    it.scopedLive("a file written on the way out never overwrites: the same path again is refused", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        yield* alice.commit({ expectedHead: Option.none(), messages: [message("m0", now - 5)], at: now - 1 })
        const files = layoutBatch([message("m1", now - 3)], now)
        expect((yield* yield* alice.writeOnExit(files)).map((o) => o._tag)).toEqual(["Written"])
        const again = yield* yield* alice.writeOnExit(files)
        expect(again.map((o) => o._tag)).toEqual(["Refused"])
        expect((yield* alice.readSince(0)).messages.map((m) => m.id)).toEqual(["m0", "m1"])
      })
    )

    it.scopedLive("the exit budget is a keepalive budget: under 64 KiB, and each request costs at least its content", () =>
      Effect.gen(function* () {
        const repo = yield* (yield* makeFixture).client("alice")
        expect(repo.exitBudget.totalBytes).toBeGreaterThan(0)
        expect(repo.exitBudget.totalBytes).toBeLessThanOrEqual(64 * 1024)
        expect(repo.exitBudget.requestBytes(".messages/general/2026-01-01/x.jsonl", 3000)).toBeGreaterThanOrEqual(4000)
      })
    )
  })
