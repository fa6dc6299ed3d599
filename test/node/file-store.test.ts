/** The durable file LocalStore: the port's contract, restart, and recovery from a damaged journal. */
import { mkdtempSync, readdirSync, readFileSync, appendFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { JOURNAL_FILE, makeFileStore } from "../../src/adapters/storage/file-store.js"
import { ConversationId } from "../../src/domain/message.js"
import { localStoreContract } from "../contract/local-store.contract.js"
import { message } from "../support/fixtures.js"

const freshDir = () => mkdtempSync(join(tmpdir(), "skygit-store-"))
const general = ConversationId.make("general")

localStoreContract(
  "file",
  Effect.sync(() => {
    const dir = freshDir()
    return { open: Effect.map(makeFileStore(dir), (f) => f.store) }
  })
)

describe("file LocalStore on disk", () => {
  it.scopedLive("keeps pending and committed messages across a closed and reopened scope", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      const first = yield* Scope.make()
      const a = yield* Scope.extend(makeFileStore(dir), first)
      yield* a.store.addPending([message("a", 1), message("b", 2, "ünïcødé ✓")])
      yield* a.store.markCommitted([message("a", 1)])
      yield* Scope.close(first, Exit.void)
      const b = yield* makeFileStore(dir)
      expect((yield* b.store.pending).map((m) => m.id)).toEqual(["b"])
      expect((yield* b.store.history(general, 10)).map((m) => m.text)).toEqual(["text a", "ünïcødé ✓"])
      expect(b.recovery.skipped).toEqual([])
    })
  )

  it.scopedLive("a torn last line and a garbage line are skipped, the rest is kept and the original is kept aside", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      const first = yield* Scope.make()
      const a = yield* Scope.extend(makeFileStore(dir), first)
      yield* a.store.addPending([message("a", 1)])
      yield* a.store.addPending([message("b", 2)])
      yield* Scope.close(first, Exit.void)
      const journal = join(dir, JOURNAL_FILE)
      const lines = readFileSync(journal, "utf8").split("\n")
      // Garbage in the middle, then a line cut short as a crash mid-write would leave it.
      writeFileSync(journal, [lines[0], "{ not json", lines[1], ""].join("\n"))
      appendFileSync(journal, JSON.stringify({ op: "add", messages: [message("c", 3)] }).slice(0, 30))
      const b = yield* makeFileStore(dir)
      expect((yield* b.store.pending).map((m) => m.id)).toEqual(["a", "b"])
      expect(b.recovery.skipped.length).toBe(2)
      expect(b.recovery.backup).toBeDefined()
      expect(readdirSync(dir).some((f) => f.startsWith(`${JOURNAL_FILE}.corrupt-`))).toBe(true)
      // After recovery the store works and reopens cleanly.
      yield* b.store.addPending([message("d", 4)])
      const c = yield* makeFileStore(dir)
      expect((yield* c.store.pending).map((m) => m.id)).toEqual(["a", "b", "d"])
      expect(c.recovery.skipped).toEqual([])
    })
  )

  it.scopedLive("a directory that cannot hold the journal is a StoreError with a reason", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      writeFileSync(join(dir, "file"), "x")
      const error = yield* Effect.flip(makeFileStore(join(dir, "file")))
      expect(error._tag).toBe("StoreError")
      expect(error.detail).toMatch(/cannot create/)
    })
  )
})
