/**
 * Commit on the way out, for a page that is being closed or hidden. The leader writes
 * what it holds uncommitted with the repository's exit writes (one request per file
 * that outlives the page), within their budget; the requests are under way before this
 * returns, so the page's `pagehide` handler can call it synchronously. What does not
 * fit, or is refused, stays pending in the device store and is committed by whichever
 * peer next holds it (a successor, or this browser when it comes back). A non-leader
 * writes nothing: it hands its messages to the leader, as on any close.
 *
 * Ids: the files carry the messages as they are (same ids, same layout as a flush), so
 * every reader sees them as committed history, and a successor that still holds them
 * commits against a head from before the exit write, is refused (compare-and-swap),
 * re-reads and drops them: nothing is committed twice.
 */
import { Effect, Option } from "effect"
import { electLeader } from "../domain/election.js"
import { planExitWrites } from "../domain/exit-plan.js"
import { samePeer } from "../domain/identity.js"
import { withoutCommitted, type Message } from "../domain/message.js"
import { announceCommitted } from "./chat.js"
import { remember, type CommitterState } from "./committer.js"
import { now, trouble, type PeerContext } from "./context.js"
import { component, mayLead } from "./mesh.js"

/**
 * Why the page writes: it is being closed (always written), or only hidden (a tab switch),
 * which may come back at once and is spaced by `HIDDEN_EXIT_SPACING_MS`.
 */
export type ExitReason = "closing" | "hidden"

/**
 * Least time between two exit writes for a hidden page: each file is a commit that counts
 * against the 500 writes an hour, and someone switching tabs would otherwise spend them.
 * A page that closes writes at once whatever this says.
 */
export const HIDDEN_EXIT_SPACING_MS = 60_000

/** What an exit commit started. */
export interface ExitCommit {
  /** Messages whose write is under way. */
  readonly carried: number
  /** Messages left pending in the device store (over the budget, or not leading). */
  readonly left: number
  /** Requests under way (one per conversation). */
  readonly files: number
}

/** Whether this peer commits on the way out: it leads, or would lead (still settling in). */
export const commitsOnExit = (ctx: PeerContext): boolean =>
  ctx.state.leadership.isLeader || Option.exists(electLeader(component(ctx).filter(mayLead(ctx))), (l) => samePeer(l, ctx.self))

/**
 * What an exit commit would write now, without writing: the messages held uncommitted,
 * less those already being written on the way out. `first` says which go first.
 */
export const planExit = (ctx: PeerContext, committer: CommitterState, pending: ReadonlyArray<Message>, at: number, first: (m: Message) => boolean) =>
  planExitWrites(
    withoutCommitted(pending, committer.committed).filter((m) => !committer.exiting.has(m.id)),
    at,
    ctx.repo.exitBudget,
    first
  )

/**
 * Starts the exit writes (synchronously, with adapters whose requests outlive the page)
 * and returns what it started and the effect that records their outcomes: written files
 * are marked committed and announced, refused ones are left for the next flush.
 */
export const startExitCommit = (
  ctx: PeerContext,
  committer: CommitterState,
  reason: ExitReason,
  first: (m: Message) => boolean
): Effect.Effect<{ readonly started: ExitCommit; readonly settled: Effect.Effect<void> }> =>
  Effect.gen(function* () {
    const pending = yield* Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>)
    const at = yield* now
    const tooSoon = reason === "hidden" && committer.lastExitAt !== undefined && at - committer.lastExitAt < HIDDEN_EXIT_SPACING_MS
    if (!commitsOnExit(ctx) || tooSoon) return { started: { carried: 0, left: pending.length, files: 0 }, settled: Effect.void }
    const plan = planExit(ctx, committer, pending, at, first)
    if (plan.files.length === 0) return { started: { carried: 0, left: plan.left.length, files: 0 }, settled: Effect.void }
    const carried = [...plan.carriedBy.values()].flat()
    for (const m of carried) committer.exiting.add(m.id)
    committer.lastExitAt = at
    const outcomes = yield* ctx.repo.writeOnExit(plan.files)
    const settled = Effect.gen(function* () {
      for (const o of yield* outcomes) {
        const messages = plan.carriedBy.get(o.path) ?? []
        for (const m of messages) committer.exiting.delete(m.id)
        if (o._tag === "Refused") {
          // Still pending: the next flush (here or at a successor) commits them.
          yield* ctx.inActor(trouble(ctx, "repository", `exit write refused, kept for the next commit: ${o.detail}`))
          continue
        }
        remember(committer, messages.map((m) => m.id))
        yield* Effect.orElse(ctx.store.markCommitted(messages), () => ctx.inActor(trouble(ctx, "store", "could not mark exit-written messages committed")))
        yield* ctx.inActor(announceCommitted(ctx, messages, o.head))
      }
    })
    return { started: { carried: carried.length, left: plan.left.length, files: plan.files.length }, settled }
  })

/**
 * How many messages would wait in the device store if the page closed now: those no
 * other peer holds (`unheld`) that an exit write would not carry, all of them when this
 * peer does not lead or is `online` false (the browser knows it has no network).
 */
export const waitingOnExit = (
  ctx: PeerContext,
  committer: CommitterState,
  online: boolean,
  unheld: (m: Message) => boolean
): Effect.Effect<number> =>
  Effect.gen(function* () {
    const pending = withoutCommitted(yield* Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>), committer.committed).filter(
      (m) => !committer.exiting.has(m.id)
    )
    const atRisk = pending.filter(unheld)
    if (atRisk.length === 0 || !online || !commitsOnExit(ctx)) return atRisk.length
    const plan = planExit(ctx, committer, pending, yield* now, unheld)
    const carried = new Set([...plan.carriedBy.values()].flat().map((m) => m.id))
    return atRisk.filter((m) => !carried.has(m.id)).length
  })
