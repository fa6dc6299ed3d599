/**
 * The one presence strategy: a compare-and-swap and merge loop over a small versioned store
 * (read a versioned document; write only if the version still matches). All four presence
 * adapters (file and Discussion form, on GitHub and on the simulator's in-memory GitHub) are
 * such a store plus this loop, so they share one merge (`applyChange`), one "already there"
 * check (`holds`), one refusal of unreadable changes and one retry policy: a writer that lost
 * the race re-reads, merges its change into the latest document and writes again after a
 * jittered, capped backoff on Effect's Clock and Random (the simulator stays deterministic).
 *
 * What a version is, per store:
 *   - file form: the presence file's blob sha (GitHub answers a stale sha 409, a missing one 422);
 *   - Discussion form: this user's own comment (its id), since each user writes only their own
 *     comment; GraphQL has no conditional edit, so the write "matches" while that comment still
 *     exists: an edit of a comment deleted since is a loss, and the next attempt reads again
 *     (and finds the comment another tab of the user may have added) instead of adding blindly.
 */
import { Duration, Effect, Schedule } from "effect"
import { applyChange, changeProblem, emptyDocument, holds, type PresenceChange, type PresenceDocument } from "../domain/presence-doc.js"
import { PresenceConflict, PresenceMalformed, type PresenceError, type PresenceSnapshot } from "../ports/Presence.js"

/** Compare-and-swap losses one publish absorbs before it reports PresenceConflict. */
export const MAX_PUBLISH_ATTEMPTS = 8
/** First wait after a loss; doubles, with jitter, so racing writers spread out. */
export const CAS_RETRY_BASE_MS = 50
/** Longest wait between two attempts: a storm of losses still ends within seconds. */
export const CAS_RETRY_MAX_MS = 800

/** A compare-and-swap loss, internal to the retry loop: the store re-read (or will) before failing with it. */
export class Lost {
  readonly _tag = "Lost"
}

/** The retry policy after a loss (a Schedule, so virtual time and TestClock drive it; jitter uses Effect's Random). */
export const casRetry = Schedule.exponential(CAS_RETRY_BASE_MS).pipe(
  Schedule.modifyDelay((d) => Duration.min(d, Duration.millis(CAS_RETRY_MAX_MS))),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(MAX_PUBLISH_ATTEMPTS - 1))
)

/** Runs `attempt` again after every loss, by `casRetry`; past the last attempt the loss is a PresenceConflict on `path`. */
export const publishByCas = <E, R>(attempt: Effect.Effect<void, E | Lost, R>, path: string): Effect.Effect<void, Exclude<E, Lost> | PresenceConflict, R> => {
  const isLost = (e: E | Lost): e is Lost => e instanceof Lost
  return Effect.retry(attempt, { schedule: casRetry, while: isLost }).pipe(
    Effect.catchIf(isLost, () => Effect.fail(new PresenceConflict({ detail: `lost ${MAX_PUBLISH_ATTEMPTS} compare-and-swap races on ${path} in a row` })))
  )
}

/** One version of the stored document, as a writer is about to write over it. */
export interface Versioned<V> {
  /** The version the write goes over; undefined when nothing is stored yet. */
  readonly version: V | undefined
  /**
   * The document the change is merged into: what that version holds or, over a version that
   * cannot be read, the last good document this client read (the repair keeps what it can).
   */
  readonly document: PresenceDocument
  /** False when the stored version is unreadable: it must be replaced even if the change is already held. */
  readonly intact: boolean
}

/** The small backend the one loop runs over: a versioned presence document. */
export interface VersionedStore<V> {
  /** Where the document lives, for the PresenceConflict message. */
  readonly path: string
  /** Checks made once per publish, before any attempt (e.g. push access); default none. */
  readonly prepare?: Effect.Effect<void, PresenceError>
  /**
   * The version to write over. A store reads it (conditionally where the host allows) or
   * answers from what its last read or write saw; it may fail Lost when it had to spend the
   * attempt (it created a missing branch), and the loop then tries again.
   */
  readonly current: Effect.Effect<Versioned<V>, PresenceError | Lost>
  /**
   * Writes `next(now)` (the change merged into `over.document` at the store's write time) only
   * if the stored version is still `over.version`; fails Lost when another writer changed it
   * first, having re-read or marked itself to re-read at the next `current`.
   */
  readonly write: (over: Versioned<V>, next: (now: number) => PresenceDocument) => Effect.Effect<void, PresenceError | Lost>
}

/**
 * The publish of every presence adapter: refuses an unreadable change before any request,
 * then reads the version, skips a change the intact document already holds, merges and
 * writes over that version; a loss retries by `casRetry`.
 */
export const publishVia =
  <V>(store: VersionedStore<V>) =>
  (change: PresenceChange): Effect.Effect<void, PresenceError> => {
    const problem = changeProblem(change)
    if (problem !== undefined) return Effect.fail(new PresenceMalformed({ detail: `change refused: ${problem}` }))
    const attempt = Effect.flatMap(store.current, (over) =>
      over.intact && over.version !== undefined && holds(over.document, change)
        ? Effect.void
        : store.write(over, (now) => applyChange(over.document, change, now))
    )
    const loop = publishByCas(attempt, store.path)
    return store.prepare === undefined ? loop : Effect.zipRight(store.prepare, loop)
  }

/**
 * A read that reports as news what a write of this client fetched or made: a write reads the
 * version it writes over, and the poll that follows must not take "not modified" for
 * "nothing changed".
 */
export const reportingWrites = <E>(read: Effect.Effect<PresenceSnapshot, E>): Effect.Effect<PresenceSnapshot, E> => {
  let delivered: PresenceDocument = emptyDocument
  return Effect.map(read, (snap) => {
    const before = delivered
    delivered = snap.document
    return { ...snap, changed: snap.changed || before !== snap.document }
  })
}
