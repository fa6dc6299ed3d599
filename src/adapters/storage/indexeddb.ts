/**
 * LocalStore in a browser's IndexedDB: one database per user and repository, one record
 * per message id (`{ id, message, committed }`). Opening reads every record into the
 * memory store's state; each change is written in one transaction and applied only once
 * that transaction has completed, so what the store acknowledged survives a closed tab.
 * Records that do not decode (another version, a hand edit) are skipped, not deleted.
 */
import { Effect, Either, Layer, Schema, type Scope } from "effect"
import { canonical, Message } from "../../domain/message.js"
import { LocalStore, StoreError, type LocalStoreService } from "../../ports/LocalStore.js"
import { emptyStoreState, makeMemoryStore, type MemoryStoreState } from "../memory/local-store.js"

/** Schema version of the database; bump with an upgrade step when records change shape. */
export const DB_VERSION = 1
/** The object store holding every message record. */
export const MESSAGES_STORE = "messages"

/** One stored record. */
interface MessageRecord {
  readonly id: string
  readonly message: unknown
  readonly committed: boolean
}

const decodeMessage = Schema.decodeUnknownEither(Message)

/** What opening the store found. */
export interface IndexedDbStore {
  readonly store: LocalStoreService
  /** Records that could not be read, each with a reason. */
  readonly skipped: ReadonlyArray<string>
}

const fail = (detail: string, cause?: unknown) =>
  new StoreError({ detail: cause === undefined ? detail : `${detail}: ${cause instanceof Error ? cause.message : String(cause)}`, ...(cause === undefined ? {} : { cause }) })

const openDb = (factory: IDBFactory, name: string): Effect.Effect<IDBDatabase, StoreError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<IDBDatabase, StoreError>((resume) => {
      const request = factory.open(name, DB_VERSION)
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(MESSAGES_STORE)) request.result.createObjectStore(MESSAGES_STORE, { keyPath: "id" })
      }
      request.onsuccess = () => resume(Effect.succeed(request.result))
      request.onerror = () => resume(Effect.fail(fail(`cannot open IndexedDB ${name}`, request.error)))
      request.onblocked = () => resume(Effect.fail(fail(`IndexedDB ${name} is blocked by another tab holding an older version`)))
    }),
    (db) => Effect.sync(() => db.close())
  )

const readAll = (db: IDBDatabase): Effect.Effect<ReadonlyArray<MessageRecord>, StoreError> =>
  Effect.async((resume) => {
    const request = db.transaction(MESSAGES_STORE, "readonly").objectStore(MESSAGES_STORE).getAll()
    request.onsuccess = () => resume(Effect.succeed(request.result as ReadonlyArray<MessageRecord>))
    request.onerror = () => resume(Effect.fail(fail("cannot read the local store", request.error)))
  })

/** Writes records in one transaction; succeeds once it has committed. */
const writeAll = (db: IDBDatabase, records: ReadonlyArray<MessageRecord>): Effect.Effect<void, StoreError> =>
  records.length === 0
    ? Effect.void
    : Effect.async((resume) => {
        let tx: IDBTransaction
        try {
          tx = db.transaction(MESSAGES_STORE, "readwrite")
          const store = tx.objectStore(MESSAGES_STORE)
          for (const r of records) store.put(r)
        } catch (e) {
          return resume(Effect.fail(fail("cannot write the local store", e)))
        }
        tx.oncomplete = () => resume(Effect.void)
        tx.onerror = () => resume(Effect.fail(fail("cannot write the local store", tx.error)))
        tx.onabort = () => resume(Effect.fail(fail("a write to the local store was aborted (quota?)", tx.error)))
      })

/** Replays stored records into `state`. */
const replay = (records: ReadonlyArray<MessageRecord>, state: MemoryStoreState): Array<string> => {
  const memory = makeMemoryStore(state)
  const skipped: Array<string> = []
  const pending: Array<Message> = []
  const committed: Array<Message> = []
  for (const r of records) {
    const decoded = decodeMessage(r.message)
    if (Either.isLeft(decoded)) skipped.push(`record ${String(r.id)}: not a valid message`)
    else (r.committed === true ? committed : pending).push(decoded.right)
  }
  // The memory store's operations are synchronous and cannot fail.
  Effect.runSync(Effect.zipRight(memory.markCommitted(committed), memory.addPending(pending)))
  return skipped
}

/** Opens (creating if needed) database `name` with `factory` (the page's `indexedDB`); it closes with the scope. */
export const makeIndexedDbStore = (factory: IDBFactory, name: string): Effect.Effect<IndexedDbStore, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const db = yield* openDb(factory, name)
    const state = emptyStoreState()
    const skipped = replay(yield* readAll(db), state)
    if (skipped.length > 0) yield* Effect.logWarning(`local store ${name}: ${skipped.length} unreadable record(s) skipped`)
    const memory = makeMemoryStore(state)
    const gate = yield* Effect.makeSemaphore(1)
    /** The copy the memory store will keep for `m`'s id: the smaller canonical encoding wins. */
    const kept = (m: Message): Message => {
      const seen = state.pending.get(m.id) ?? state.history.get(m.conversation)?.get(m.id)
      return seen === undefined || canonical(m) < canonical(seen) ? m : seen
    }
    /** Writes first, then applies: what is acknowledged is on disk. */
    const change = <A>(messages: ReadonlyArray<Message>, committed: boolean, apply: (fresh: ReadonlyArray<Message>) => Effect.Effect<A, StoreError>) =>
      gate.withPermits(1)(
        Effect.suspend(() => {
          // Ids already seen committed are not queued again.
          const fresh = committed ? messages : messages.filter((m) => !state.committed.has(m.id))
          const records = fresh.map((m) => ({ id: m.id, message: kept(m), committed }))
          return Effect.zipRight(writeAll(db, records), apply(fresh))
        })
      )

    const store: LocalStoreService = {
      pending: memory.pending,
      addPending: (messages) => change(messages, false, memory.addPending),
      markCommitted: (messages) => change(messages, true, memory.markCommitted),
      history: memory.history
    }
    return { store, skipped }
  })

/** Layer: a durable LocalStore in IndexedDB database `name`. */
export const layerIndexedDbStore = (factory: IDBFactory, name: string): Layer.Layer<LocalStore, StoreError> =>
  Layer.scoped(LocalStore, Effect.map(makeIndexedDbStore(factory, name), (s) => s.store))
