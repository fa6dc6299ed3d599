/**
 * The LocalStore port's contract cases, free of the test runner: `local-store.contract.ts`
 * runs them under vitest (memory and file stores), and the Chromium page
 * (`test/e2e/web-store-page.ts`) runs the very same cases against IndexedDB.
 */
import { Effect, type Scope } from "effect"
import { ConversationId } from "../../src/domain/message.js"
import type { LocalStoreService } from "../../src/ports/LocalStore.js"
import { message } from "../support/fixtures.js"

/** What a store adapter under test provides: open (and reopen) one store. */
export interface LocalStoreFixture {
  readonly open: Effect.Effect<LocalStoreService, unknown, Scope.Scope>
}

/** The one assertion the cases make; vitest's `expect` is one, the page brings its own. */
export type Expect = (actual: unknown) => { toEqual: (expected: unknown) => void }

/** One case: its name and what it checks. */
export interface LocalStoreCase {
  readonly name: string
  readonly run: (fixture: LocalStoreFixture, expect: Expect) => Effect.Effect<void, unknown, Scope.Scope>
}

const general = ConversationId.make("general")

/** Every case of the LocalStore contract. */
export const localStoreCases: ReadonlyArray<LocalStoreCase> = [
  {
    name: "pending is ordered and idempotent by id",
    run: (f, expect) =>
      Effect.gen(function* () {
        const store = yield* f.open
        yield* store.addPending([message("b", 2), message("a", 1)])
        yield* store.addPending([message("a", 1)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["a", "b"])
      })
  },
  {
    name: "adding answers the messages new to the store, each once",
    run: (f, expect) =>
      Effect.gen(function* () {
        const store = yield* f.open
        expect((yield* store.addPending([message("b", 2), message("a", 1), message("b", 2)])).map((m) => m.id)).toEqual(["b", "a"])
        expect((yield* store.addPending([message("a", 1), message("c", 3)])).map((m) => m.id)).toEqual(["c"])
        yield* store.markCommitted([message("c", 3)])
        expect(yield* store.addPending([message("c", 3)])).toEqual([])
        expect(yield* store.addPending([])).toEqual([])
      })
  },
  {
    name: "committed messages leave pending, stay in history, and are not queued again",
    run: (f, expect) =>
      Effect.gen(function* () {
        const store = yield* f.open
        yield* store.addPending([message("a", 1), message("b", 2)])
        yield* store.markCommitted([message("a", 1)])
        yield* store.addPending([message("a", 1)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["b"])
        expect((yield* store.history(general, 10)).map((m) => m.id)).toEqual(["a", "b"])
        expect((yield* store.history(general, 1)).map((m) => m.id)).toEqual(["b"])
      })
  },
  {
    name: "each read of pending sees every write before it",
    run: (f, expect) =>
      Effect.gen(function* () {
        const store = yield* f.open
        expect(yield* store.pending).toEqual([])
        yield* store.addPending([message("b", 2)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["b"])
        yield* store.addPending([message("a", 1)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["a", "b"])
        yield* store.markCommitted([message("b", 2)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["a"])
        yield* store.markCommitted([message("a", 1)])
        expect(yield* store.pending).toEqual([])
      })
  },
  {
    name: "what was stored survives reopening",
    run: (f, expect) =>
      Effect.gen(function* () {
        const first = yield* f.open
        yield* first.addPending([message("a", 1, "emoji 🎉 and 日本語")])
        yield* first.markCommitted([message("c", 3)])
        const again = yield* f.open
        expect(yield* again.pending).toEqual([message("a", 1, "emoji 🎉 and 日本語")])
        yield* again.addPending([message("c", 3)])
        expect((yield* again.pending).map((m) => m.id)).toEqual(["a"])
      })
  }
]
