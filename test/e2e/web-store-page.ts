/**
 * Page for web-store.test.ts: runs the LocalStore contract's cases
 * (test/contract/local-store.contract.ts) against the IndexedDB store in Chromium and
 * reports what it observed; the test compares that with the contract's expectations.
 * "Reopen" closes the database and opens it again, as a new tab would.
 */
import { Effect, Exit, Scope } from "effect"
import { makeIndexedDbStore, MESSAGES_STORE } from "../../src/adapters/storage/indexeddb.js"
import { ConversationId, type Message } from "../../src/domain/message.js"
import type { LocalStoreService } from "../../src/ports/LocalStore.js"
import { message } from "../support/fixtures.js"

const general = ConversationId.make("general")
const ids = (ms: ReadonlyArray<Message>) => ms.map((m) => m.id as string)

/** Runs `f` on the store named `name`, closing the database afterwards. */
const withStore = async <A>(name: string, f: (s: LocalStoreService) => Effect.Effect<A, unknown>): Promise<A> => {
  const scope = Effect.runSync(Scope.make())
  try {
    return await Effect.runPromise(Scope.extend(Effect.flatMap(makeIndexedDbStore(indexedDB, name), (o) => f(o.store)), scope))
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const api = {
  /** pending is ordered and idempotent by id. */
  ordered: (name: string) =>
    withStore(name, (s) =>
      Effect.gen(function* () {
        yield* s.addPending([message("b", 2), message("a", 1)])
        yield* s.addPending([message("a", 1)])
        return ids(yield* s.pending)
      })
    ),
  /** committed messages leave pending, stay in history, and are not queued again. */
  committed: (name: string) =>
    withStore(name, (s) =>
      Effect.gen(function* () {
        yield* s.addPending([message("a", 1), message("b", 2)])
        yield* s.markCommitted([message("a", 1)])
        yield* s.addPending([message("a", 1)])
        return { pending: ids(yield* s.pending), history: ids(yield* s.history(general, 10)), last: ids(yield* s.history(general, 1)) }
      })
    ),
  /** what was stored survives reopening. */
  reopen: async (name: string) => {
    await withStore(name, (s) =>
      Effect.zipRight(s.addPending([message("a", 1, "emoji 🎉 and 日本語")]), s.markCommitted([message("c", 3)]))
    )
    return withStore(name, (s) =>
      Effect.gen(function* () {
        const pending = yield* s.pending
        yield* s.addPending([message("c", 3)])
        return { pending, expected: [message("a", 1, "emoji 🎉 and 日本語")], after: ids(yield* s.pending), history: ids(yield* s.history(general, 10)) }
      })
    )
  },
  /** A record that is not a message is skipped on open, and the rest is still read. */
  corrupt: async (name: string) => {
    await withStore(name, (s) => s.addPending([message("a", 1)]))
    await new Promise<void>((ok, fail) => {
      const open = indexedDB.open(name)
      open.onerror = () => fail(open.error)
      open.onsuccess = () => {
        const tx = open.result.transaction(MESSAGES_STORE, "readwrite")
        tx.objectStore(MESSAGES_STORE).put({ id: "junk", message: { nope: true }, committed: false })
        tx.oncomplete = () => {
          open.result.close()
          ok()
        }
        tx.onerror = () => fail(tx.error)
      }
    })
    return withStore(name, (s) => Effect.map(s.pending, ids))
  }
}

/** The page's test API. */
export type StorePage = typeof api

declare global {
  interface Window {
    storeContract: StorePage
  }
}

window.storeContract = api
