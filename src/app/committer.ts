/**
 * The leader's committer. It commits the pending queue in one commit per flush:
 * once the oldest uncommitted message is `commitAfterMs` old, on becoming leader
 * (after merging with what is already committed), and when its scope closes.
 * Flushes are serialized. A compare-and-swap loss re-reads what was committed
 * since the batch's oldest message, drops what is already there and retries, so
 * two leaders (a partition) never commit a message twice. Only what a commit
 * actually contained is marked committed: messages that arrive during a flush
 * stay pending for the next one.
 */
import { Effect, Option } from "effect"
import { withoutCommitted, type Message } from "../domain/message.js"
import type { CommitRef, CommittedSlice, RepoRefused } from "../ports/ConversationRepo.js"
import { now, reject, trouble, type PeerContext } from "./context.js"
import { announceCommitted } from "./chat.js"
import { CATCHUP_WINDOW_MS, showCommitted } from "./catch-up.js"

/** Commit time and author time may disagree by this much (clock skew between peers). */
export const CLOCK_SKEW_MARGIN_MS = 60 * 60_000
/** Compare-and-swap losses absorbed in one flush before it gives up until the next. */
export const MAX_COMMIT_ATTEMPTS = 6
/** Longest rate-limit wait a flush sits out itself; a longer one is left to the next tick. */
export const MAX_INLINE_RETRY_WAIT_MS = 60_000
/** Ids of committed messages remembered to deduplicate later batches. */
export const MAX_REMEMBERED_COMMITTED = 50_000

/** What the committer knows of the branch. */
export interface CommitterState {
  /** The head its knowledge was read at: a commit against it conflicts if history moved since. */
  head: Option.Option<CommitRef>
  /** `committed` holds every message committed since this time (as of `head`); none before any read. */
  coveredSince: number | undefined
  readonly committed: Set<string>
  /**
   * Ids written on the way out whose outcome is not known yet (`exit-commit.ts`): a flush
   * leaves them out, so a page that outlives its exit write does not commit them twice.
   */
  readonly exiting: Set<string>
  /** When exit writes last went out (`exit-commit.ts` spaces those of a hidden page). */
  lastExitAt: number | undefined
}

/** A committer that knows nothing yet. */
export const initialCommitter = (): CommitterState => ({ head: Option.none(), coveredSince: undefined, committed: new Set(), exiting: new Set(), lastExitAt: undefined })

/** Takes in what a read of the history since `since` returned. */
export const absorb = (c: CommitterState, slice: CommittedSlice, since: number): void => {
  remember(c, slice.messages.map((m) => m.id))
  c.head = slice.head
  c.coveredSince = c.coveredSince === undefined ? since : Math.min(c.coveredSince, since)
}

/** What a flush did, for the simulator and tests. */
export interface FlushReport {
  readonly committed: ReadonlyArray<Message>
  readonly alreadyCommitted: ReadonlyArray<Message>
  readonly bytes: number
  readonly conflicts: number
}

/** Records ids as committed (bounded: the oldest are forgotten first). */
export const remember = (c: CommitterState, ids: Iterable<string>) => {
  for (const id of ids) c.committed.add(id)
  if (c.committed.size > MAX_REMEMBERED_COMMITTED) {
    const drop = c.committed.size - MAX_REMEMBERED_COMMITTED
    let i = 0
    for (const id of c.committed) {
      if (i++ >= drop) break
      c.committed.delete(id)
    }
  }
}

/** Records a refusal for the UI on the actor: a flush runs in the background and never touches the peer's state itself. */
const note = (ctx: PeerContext, from: string, reason: string): Effect.Effect<void> => ctx.inActor(reject(ctx, from, reason))

/** Logs a failed write of this peer's own on the actor: a trouble, not a refusal (see `trouble`). */
const noteTrouble = (ctx: PeerContext, reason: string): Effect.Effect<void> => ctx.inActor(trouble(ctx, "repository", reason))

/** Reads what was committed since the oldest of `batch` and absorbs it. */
const resync = (ctx: PeerContext, c: CommitterState, batch: ReadonlyArray<Message>) =>
  Effect.gen(function* () {
    const since = Math.max(0, oldestOf(batch) - CLOCK_SKEW_MARGIN_MS)
    const slice = yield* ctx.repo.readSince(since)
    for (const s of slice.skipped.slice(0, 5)) yield* note(ctx, "repository", `skipped while reading history: ${s}`)
    // A fresh read supersedes what an older one covered.
    c.coveredSince = undefined
    absorb(c, slice, since)
    // The branch moved under this leader: what the other writer committed is shown here too.
    yield* ctx.inActor(showCommitted(ctx, slice.messages))
  })

const oldestOf = (batch: ReadonlyArray<Message>): number => Math.min(...batch.map((m) => m.sentAt))

/**
 * Whether the committer must read the history before committing `pending`: when what
 * it knows does not reach back far enough. It need not read again just because it
 * became leader: a commit against a stale head conflicts (if history moved), and the
 * conflict is answered by a read, a merge and a retry.
 */
const mustRead = (c: CommitterState, pending: ReadonlyArray<Message>): boolean =>
  c.coveredSince === undefined || oldestOf(pending) - CLOCK_SKEW_MARGIN_MS < c.coveredSince

/**
 * A write GitHub will never accept as things stand: the leadership step decides (on the
 * actor) whether this session steps down (no push access) or waits (protection, archived,
 * empty; see `stepLeadership`).
 */
const refusedForGood = (ctx: PeerContext, e: RepoRefused) =>
  ctx.inActor(Effect.asVoid(ctx.lead({ _tag: "CommitRefused", reason: e.reason === "permission" ? "permission" : "other", detail: e.detail })))

/** Flushes the pending queue once (serialized with every other flush). */
export const flush = (ctx: PeerContext, c: CommitterState): Effect.Effect<FlushReport> =>
  ctx.flushLock.withPermits(1)(
    Effect.gen(function* () {
      const pending = (yield* ctx.store.pending).filter((m) => !c.exiting.has(m.id))
      const empty: FlushReport = { committed: [], alreadyCommitted: [], bytes: 0, conflicts: 0 }
      if (pending.length === 0) return empty
      if (mustRead(c, pending)) yield* resync(ctx, c, pending)
      let conflicts = 0
      let already: Array<Message> = pending.filter((m) => c.committed.has(m.id))
      let batch = withoutCommitted(pending, c.committed)
      for (let attempt = 0; batch.length > 0 && attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
        const at = yield* now
        const result = yield* Effect.either(ctx.repo.commit({ expectedHead: c.head, messages: batch, at }))
        if (result._tag === "Right") {
          c.head = Option.some(result.right.head)
          remember(c, batch.map((m) => m.id))
          yield* ctx.store.markCommitted([...already, ...batch])
          // Shown saved and the others told on the actor (announceCommitted moves the states); the
          // flush waits for it, so whoever waits on the flush ("save now") sees them saved.
          // (A flush never runs on the actor, so this cannot wait on itself.)
          yield* ctx.onActor(Effect.zipRight(announceCommitted(ctx, [...already, ...batch], result.right.head), Effect.asVoid(ctx.lead({ _tag: "CommitLanded" }))), undefined)
          return { committed: batch, alreadyCommitted: already, bytes: result.right.bytes, conflicts }
        }
        const e = result.left
        if (e._tag === "RepoConflict") {
          conflicts += 1
          yield* resync(ctx, c, batch)
          already = [...already, ...batch.filter((m) => c.committed.has(m.id))]
          batch = withoutCommitted(batch, c.committed)
        } else if (e._tag === "RepoRefused") {
          yield* refusedForGood(ctx, e)
          break
        } else if (e._tag === "RateLimited" && e.retryAfterMs <= MAX_INLINE_RETRY_WAIT_MS) {
          yield* noteTrouble(ctx, `commit rate limited (${e.limit}); retrying in ${e.retryAfterMs} ms`)
          yield* Effect.sleep(e.retryAfterMs)
        } else {
          yield* noteTrouble(ctx, `commit failed: ${e._tag}${"detail" in e ? `: ${e.detail}` : ""}`)
          break
        }
      }
      if (already.length > 0) {
        yield* ctx.store.markCommitted(already)
        yield* ctx.inActor(announceCommitted(ctx, already, Option.getOrElse(c.head, () => "")))
      }
      return { committed: [], alreadyCommitted: already, bytes: 0, conflicts }
    })
  ).pipe(
    Effect.catchAll((e) =>
      Effect.as(noteTrouble(ctx, `flush failed: ${"_tag" in e ? e._tag : String(e)}`), {
        committed: [],
        alreadyCommitted: [],
        bytes: 0,
        conflicts: 0
      } satisfies FlushReport)
    )
  )

/** Pause between two flushes of a closing leader that lost every compare-and-swap of the first. */
export const CLOSING_RETRY_MS = 500

/**
 * A closing leader's flush: it has no next tick, so a flush that gave up on a run of
 * compare-and-swap losses (a conflict storm) is tried again until it lands or the
 * caller's timeout ends it. Left uncommitted, the messages stay in the device stores
 * and are committed by whichever peer next holds them.
 */
export const flushOnClose = (ctx: PeerContext, c: CommitterState): Effect.Effect<FlushReport> =>
  Effect.gen(function* () {
    let report = yield* flush(ctx, c)
    while (report.committed.length === 0 && report.conflicts >= MAX_COMMIT_ATTEMPTS) {
      yield* Effect.sleep(CLOSING_RETRY_MS)
      report = yield* flush(ctx, c)
    }
    return report
  })

/**
 * A branch head this leader's committer did not read or write means another writer
 * committed: another component's leader (two homes between which the mesh never formed, a
 * partition), a closing page's exit write, a previous leader. What they committed in the
 * last catch-up window (plus the commit-time margin) is read, taken into this committer, kept
 * in the device store and shown; catch-up then brings it to this leader's neighbors. Without
 * this, people online together whose mesh could not form never saw each other's messages
 * until they started again, though both sides' messages were committed.
 */
export const checkHistory = (ctx: PeerContext, c: CommitterState): Effect.Effect<void> =>
  ctx.flushLock.withPermits(1)(
    Effect.gen(function* () {
      const head = yield* ctx.repo.head
      if (Option.isNone(head) || (Option.isSome(c.head) && c.head.value === head.value)) return
      const since = Math.max(0, (yield* now) - CATCHUP_WINDOW_MS - CLOCK_SKEW_MARGIN_MS)
      const slice = yield* ctx.repo.readSince(since)
      c.coveredSince = undefined
      absorb(c, slice, since)
      yield* ctx.store.markCommitted(slice.messages)
      yield* ctx.inActor(showCommitted(ctx, slice.messages))
    })
  ).pipe(Effect.catchAll((e) => noteTrouble(ctx, `could not read what others committed: ${"_tag" in e ? e._tag : String(e)}`)))

/** The leader's watch over the branch, every `historyWatchMs` while this session leads. */
export const watchHistory = (ctx: PeerContext, c: CommitterState): Effect.Effect<never> =>
  Effect.forever(Effect.zipRight(Effect.sleep(ctx.config.historyWatchMs), Effect.suspend(() => (ctx.state.leadership.isLeader ? checkHistory(ctx, c) : Effect.void))))
