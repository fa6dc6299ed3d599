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
import type { CommitRef } from "../ports/ConversationRepo.js"
import { now, reject, type PeerContext } from "./context.js"
import { announceCommitted } from "./chat.js"

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
  head: Option.Option<CommitRef>
  /** Whether `committed` covers everything since the oldest pending message. */
  synced: boolean
  readonly committed: Set<string>
}

/** A committer that knows nothing yet. */
export const initialCommitter = (): CommitterState => ({ head: Option.none(), synced: false, committed: new Set() })

/** What a flush did, for the simulator and tests. */
export interface FlushReport {
  readonly committed: ReadonlyArray<Message>
  readonly alreadyCommitted: ReadonlyArray<Message>
  readonly bytes: number
  readonly conflicts: number
}

const remember = (c: CommitterState, ids: Iterable<string>) => {
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

/** Reads what was committed since the oldest of `batch` and absorbs it. */
const resync = (ctx: PeerContext, c: CommitterState, batch: ReadonlyArray<Message>) =>
  Effect.gen(function* () {
    const oldest = Math.min(...batch.map((m) => m.sentAt))
    const slice = yield* ctx.repo.readSince(Math.max(0, oldest - CLOCK_SKEW_MARGIN_MS))
    for (const s of slice.skipped.slice(0, 5)) yield* reject(ctx, "repository", `skipped while reading history: ${s}`)
    remember(c, slice.messages.map((m) => m.id))
    c.head = slice.head
    c.synced = true
  })

/** Flushes the pending queue once (serialized with every other flush). */
export const flush = (ctx: PeerContext, c: CommitterState): Effect.Effect<FlushReport> =>
  ctx.flushLock.withPermits(1)(
    Effect.gen(function* () {
      const pending = yield* ctx.store.pending
      const empty: FlushReport = { committed: [], alreadyCommitted: [], bytes: 0, conflicts: 0 }
      if (pending.length === 0) return empty
      if (!c.synced) yield* resync(ctx, c, pending)
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
          yield* ctx.inActor(announceCommitted(ctx, [...already, ...batch], result.right.head))
          return { committed: batch, alreadyCommitted: already, bytes: result.right.bytes, conflicts }
        }
        const e = result.left
        if (e._tag === "RepoConflict") {
          conflicts += 1
          yield* resync(ctx, c, batch)
          already = [...already, ...batch.filter((m) => c.committed.has(m.id))]
          batch = withoutCommitted(batch, c.committed)
        } else if (e._tag === "RepoRateLimited" && e.retryAfterMs <= MAX_INLINE_RETRY_WAIT_MS) {
          yield* reject(ctx, "repository", `commit rate limited (${e.limit}); retrying in ${e.retryAfterMs} ms`)
          yield* Effect.sleep(e.retryAfterMs)
        } else {
          yield* reject(ctx, "repository", `commit failed: ${e._tag}${"detail" in e ? `: ${e.detail}` : ""}`)
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
      Effect.as(reject(ctx, "repository", `flush failed: ${"_tag" in e ? e._tag : String(e)}`), {
        committed: [],
        alreadyCommitted: [],
        bytes: 0,
        conflicts: 0
      } satisfies FlushReport)
    )
  )

/** Whether the oldest pending message is old enough that the leader must commit now. */
export const flushDue = (pending: ReadonlyArray<Message>, at: number, commitAfterMs: number): boolean =>
  pending.some((m) => at - m.sentAt >= commitAfterMs)
