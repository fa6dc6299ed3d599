/** The LocalStore port's contract, run against every store adapter. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { ConversationId } from "../../src/domain/message.js"
import type { LocalStoreService } from "../../src/ports/LocalStore.js"
import { message } from "../support/fixtures.js"

/** What a store adapter under test provides: open (and reopen) one store. */
export interface LocalStoreFixture {
  readonly open: Effect.Effect<LocalStoreService, unknown, Scope.Scope>
}

const general = ConversationId.make("general")

/** Runs the LocalStore contract against one adapter. */
export const localStoreContract = (name: string, makeFixture: Effect.Effect<LocalStoreFixture, unknown, Scope.Scope>) =>
  describe(`LocalStore contract: ${name}`, () => {
    it.scopedLive("pending is ordered and idempotent by id", () =>
      Effect.gen(function* () {
        const store = yield* (yield* makeFixture).open
        yield* store.addPending([message("b", 2), message("a", 1)])
        yield* store.addPending([message("a", 1)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["a", "b"])
      })
    )

    it.scopedLive("committed messages leave pending, stay in history, and are not queued again", () =>
      Effect.gen(function* () {
        const store = yield* (yield* makeFixture).open
        yield* store.addPending([message("a", 1), message("b", 2)])
        yield* store.markCommitted([message("a", 1)])
        yield* store.addPending([message("a", 1)])
        expect((yield* store.pending).map((m) => m.id)).toEqual(["b"])
        expect((yield* store.history(general, 10)).map((m) => m.id)).toEqual(["a", "b"])
        expect((yield* store.history(general, 1)).map((m) => m.id)).toEqual(["b"])
      })
    )

    it.scopedLive("each read of pending sees every write before it", () =>
      Effect.gen(function* () {
        const store = yield* (yield* makeFixture).open
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
    )

    it.scopedLive("what was stored survives reopening", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const first = yield* f.open
        yield* first.addPending([message("a", 1, "emoji 🎉 and 日本語")])
        yield* first.markCommitted([message("c", 3)])
        const again = yield* f.open
        expect(yield* again.pending).toEqual([message("a", 1, "emoji 🎉 and 日本語")])
        yield* again.addPending([message("c", 3)])
        expect((yield* again.pending).map((m) => m.id)).toEqual(["a"])
      })
    )
  })
