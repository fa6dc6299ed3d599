/**
 * Page for web-store.test.ts: runs the LocalStore contract's own cases
 * (test/contract/local-store.cases.ts, the same module the memory and file stores run
 * under vitest) against the IndexedDB store in Chromium, and reports each outcome.
 * Plus one IndexedDB-only case: a damaged record is skipped.
 */
import { Effect, Exit, Scope } from "effect"
import { makeIndexedDbStore, MESSAGES_STORE } from "../../src/adapters/storage/indexeddb.js"
import type { Message } from "../../src/domain/message.js"
import type { LocalStoreService } from "../../src/ports/LocalStore.js"
import { localStoreCases, type Expect } from "../contract/local-store.cases.js"
import { message } from "../support/fixtures.js"

/** Deep equality of plain data (what the cases compare), key order aside. */
const equal = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  return ka.length === kb.length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

const expect: Expect = (actual) => ({
  toEqual: (expected) => {
    if (!equal(actual, expected)) throw new Error(`expected ${JSON.stringify(actual)} to equal ${JSON.stringify(expected)}`)
  }
})

/** What one case did in the page. */
export type CaseOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string }

/** Runs `effect` in a scope closed afterwards (the databases it opened are closed). */
const scoped = async <A>(effect: Effect.Effect<A, unknown, Scope.Scope>): Promise<A> => {
  const scope = Effect.runSync(Scope.make())
  try {
    return await Effect.runPromise(Scope.extend(effect, scope))
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const openStore = (name: string): Effect.Effect<LocalStoreService, unknown, Scope.Scope> => Effect.map(makeIndexedDbStore(indexedDB, name), (o) => o.store)

const api = {
  /** Runs the contract case called `name` on a fresh database `db`. */
  runCase: async (name: string, db: string): Promise<CaseOutcome> => {
    const c = localStoreCases.find((x) => x.name === name)
    if (c === undefined) return { ok: false, error: `no such case: ${name}` }
    try {
      await scoped(c.run({ open: openStore(db) }, expect))
      return { ok: true }
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) }
    }
  },
  /** IndexedDB only: a record that is not a message is skipped on open, and the rest is still read. */
  corrupt: async (name: string): Promise<ReadonlyArray<string>> => {
    await scoped(Effect.flatMap(openStore(name), (s) => s.addPending([message("a", 1)])))
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
    return scoped(Effect.flatMap(openStore(name), (s) => Effect.map(s.pending, (ms: ReadonlyArray<Message>) => ms.map((m) => m.id as string))))
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
