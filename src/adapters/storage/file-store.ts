/**
 * LocalStore on disk, for headless Node peers: an append-only JSON-lines journal
 * (`journal.jsonl`) replayed into the memory store's state on open. Each change is
 * one line appended before it is applied, so a killed process keeps everything it
 * acknowledged. The journal is compacted into a snapshot written atomically (temp
 * file, fsync, rename). Lines that cannot be read (a torn last line, a hand-edited
 * file) are skipped: the original file is kept aside as `journal.jsonl.corrupt-<ms>`
 * before compaction, so nothing readable is lost and nothing unreadable is destroyed.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, copyFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Layer, Schema, type Scope } from "effect"
import { Message } from "../../domain/message.js"
import { LocalStore, StoreError, type LocalStoreService } from "../../ports/LocalStore.js"
import { emptyStoreState, makeMemoryStore, type MemoryStoreState } from "../memory/local-store.js"

/** The journal's file name inside the store directory. */
export const JOURNAL_FILE = "journal.jsonl"
/** The lock file naming the process that owns the directory. */
export const LOCK_FILE = "lock"
/** Appended lines after which the journal is rewritten as a snapshot. */
export const COMPACT_AFTER_APPENDS = 2_000
/** Messages per snapshot line: keeps lines short enough to read back one at a time. */
export const SNAPSHOT_LINE_MESSAGES = 500

/** One journal line: messages added to the pending queue, or seen committed. */
const JournalLine = Schema.Struct({ op: Schema.Literal("add", "commit"), messages: Schema.Array(Schema.Unknown) })
const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(JournalLine))
const decodeMessage = Schema.decodeUnknownEither(Message)

/** What opening the store found on disk. */
export interface FileStoreRecovery {
  /** Journal lines read and applied. */
  readonly lines: number
  /** Lines or messages that could not be read, each with a reason. */
  readonly skipped: ReadonlyArray<string>
  /** Where the unreadable original was kept, when there was one. */
  readonly backup: string | undefined
}

/** A file store and what its opening recovered. */
export interface FileStore {
  readonly store: LocalStoreService
  readonly recovery: FileStoreRecovery
}

const fail = (detail: string, cause?: unknown) =>
  new StoreError({ detail: cause === undefined ? detail : `${detail}: ${cause instanceof Error ? cause.message : String(cause)}`, ...(cause === undefined ? {} : { cause }) })

const attempt = <A>(detail: string, f: () => A): Effect.Effect<A, StoreError> => Effect.try({ try: f, catch: (e) => fail(detail, e) })

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Takes the directory for this process; another live process holding it is an error, a dead one's lock is stale. */
const lock = (dir: string): Effect.Effect<void, StoreError, Scope.Scope> =>
  Effect.acquireRelease(
    attempt(`cannot lock ${dir}`, () => {
      const path = join(dir, LOCK_FILE)
      let holder = Number.NaN
      try {
        holder = Number(readFileSync(path, "utf8").trim())
      } catch {
        // No lock file: free.
      }
      // The same process may open its store twice (reopen after a simulated restart).
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) throw new Error(`in use by process ${holder}`)
      writeFileSync(path, `${process.pid}\n`)
      return path
    }),
    (path) =>
      Effect.sync(() => {
        try {
          if (Number(readFileSync(path, "utf8").trim()) === process.pid) unlinkSync(path)
        } catch {
          // Already gone: nothing to release.
        }
      })
  ).pipe(Effect.asVoid)

/** Reads the journal into `state`, collecting what could not be read. */
const replay = (text: string, state: MemoryStoreState): { lines: number; skipped: Array<string> } => {
  const memory = makeMemoryStore(state)
  const skipped: Array<string> = []
  let lines = 0
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return
    const line = decodeLine(raw)
    if (Either.isLeft(line)) return void skipped.push(`line ${i + 1}: not a journal entry`)
    const messages: Array<Message> = []
    for (const m of line.right.messages) {
      const decoded = decodeMessage(m)
      if (Either.isRight(decoded)) messages.push(decoded.right)
      else skipped.push(`line ${i + 1}: a message that is not valid`)
    }
    lines += 1
    // The memory store's operations are synchronous and cannot fail.
    Effect.runSync(line.right.op === "add" ? memory.addPending(messages) : memory.markCommitted(messages))
  })
  return { lines, skipped }
}

/** The snapshot of `state` as journal text: committed history first, then the pending queue. */
const snapshotText = (state: MemoryStoreState): string => {
  const lines: Array<string> = []
  const push = (op: "add" | "commit", messages: ReadonlyArray<Message>) => {
    for (let i = 0; i < messages.length; i += SNAPSHOT_LINE_MESSAGES) lines.push(JSON.stringify({ op, messages: messages.slice(i, i + SNAPSHOT_LINE_MESSAGES) }))
  }
  const committed = Array.from(state.history.values()).flatMap((c) => Array.from(c.values())).filter((m) => !state.pending.has(m.id))
  push("commit", committed)
  push("add", Array.from(state.pending.values()))
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}

/** Writes `text` to `path` atomically: a crash leaves the old file or the new one, never half of one. */
const writeAtomically = (path: string, text: string): void => {
  const temp = `${path}.tmp-${process.pid}`
  const fd = openSync(temp, "w")
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
}

/** Opens (creating if needed) the store in `dir`; the journal's file closes with the scope. */
export const makeFileStore = (dir: string): Effect.Effect<FileStore, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const path = join(dir, JOURNAL_FILE)
    yield* attempt(`cannot create ${dir}`, () => mkdirSync(dir, { recursive: true }))
    yield* lock(dir)
    const text = yield* attempt(`cannot read ${path}`, () => {
      try {
        return readFileSync(path, "utf8")
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return ""
        throw e
      }
    })
    const state = emptyStoreState()
    const { lines, skipped } = replay(text, state)
    let backup: string | undefined
    if (skipped.length > 0) {
      backup = `${path}.corrupt-${Date.now()}`
      yield* attempt(`cannot keep the unreadable journal aside`, () => copyFileSync(path, backup!))
      yield* Effect.logWarning(`local store ${dir}: ${skipped.length} unreadable item(s) skipped; original kept at ${backup}`)
    }
    // Start every session from a compact snapshot: bounded replay time, and no torn tail to append after.
    yield* attempt(`cannot write ${path}`, () => writeAtomically(path, snapshotText(state)))
    const journal = { fd: -1 }
    yield* Effect.acquireRelease(
      attempt(`cannot open ${path}`, () => void (journal.fd = openSync(path, "a"))),
      () => Effect.sync(() => closeSync(journal.fd))
    )
    let appended = 0
    const memory = makeMemoryStore(state)
    const gate = yield* Effect.makeSemaphore(1)

    const compact = attempt(`cannot compact ${path}`, () => {
      writeAtomically(path, snapshotText(state))
      closeSync(journal.fd)
      journal.fd = openSync(path, "a")
      appended = 0
    })

    /** Journals a change, then applies it: what is acknowledged is on disk. Answers what `apply` answers (`none` for no messages). */
    const change = <A>(op: "add" | "commit", messages: ReadonlyArray<Message>, apply: Effect.Effect<A, StoreError>, none: A) =>
      messages.length === 0
        ? Effect.succeed(none)
        : gate.withPermits(1)(
            Effect.gen(function* () {
              yield* attempt(`cannot append to ${path}`, () => writeSync(journal.fd, `${JSON.stringify({ op, messages })}\n`))
              const result = yield* apply
              appended += 1
              if (appended >= COMPACT_AFTER_APPENDS) yield* compact
              return result
            })
          )

    const store: LocalStoreService = {
      pending: memory.pending,
      addPending: (messages) => {
        const fresh = messages.filter((m) => !state.committed.has(m.id))
        return change("add", fresh, memory.addPending(fresh), [] as ReadonlyArray<Message>)
      },
      markCommitted: (messages) => change("commit", messages, memory.markCommitted(messages), undefined),
      history: memory.history
    }
    return { store, recovery: { lines, skipped, backup } }
  })

/** Layer: a durable LocalStore in directory `dir` (one process per directory). */
export const layerFileStore = (dir: string): Layer.Layer<LocalStore, StoreError> =>
  Layer.scoped(LocalStore, Effect.map(makeFileStore(dir), (f) => f.store))
