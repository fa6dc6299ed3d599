/**
 * The one compare-and-swap retry of presence publishing, shared by the GitHub adapter and
 * the simulator's in-memory GitHub, so the simulator reproduces the real retry: a writer
 * that lost the race (409/422 on GitHub, a changed sha in memory) re-reads, merges its
 * change into the latest document and writes again after a jittered, capped backoff.
 */
import { Duration, Effect, Schedule } from "effect"
import { PresenceConflict } from "../ports/Presence.js"

/** Compare-and-swap losses one publish absorbs before it reports PresenceConflict. */
export const MAX_PUBLISH_ATTEMPTS = 8
/** First wait after a loss; doubles, with jitter, so racing writers spread out. */
export const CAS_RETRY_BASE_MS = 50
/** Longest wait between two attempts: a storm of losses still ends within seconds. */
export const CAS_RETRY_MAX_MS = 800

/** A compare-and-swap loss, internal to the retry loop: the attempt re-read before failing with it. */
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
export const publishByCas = <E, R>(attempt: Effect.Effect<void, E | Lost, R>, path: string): Effect.Effect<void, Exclude<E, Lost> | PresenceConflict, R> =>
  attempt.pipe(
    Effect.retry({ schedule: casRetry, while: (e) => e instanceof Lost }),
    Effect.catchIf(
      (e): e is Lost => e instanceof Lost,
      () => Effect.fail(new PresenceConflict({ detail: `lost ${MAX_PUBLISH_ATTEMPTS} compare-and-swap races on ${path} in a row` }))
    )
  ) as Effect.Effect<void, Exclude<E, Lost> | PresenceConflict, R>
