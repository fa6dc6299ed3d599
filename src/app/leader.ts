/**
 * Leadership on the app's one step interpreter (`interpreter.ts`, for `src/domain/leadership.ts`):
 * it asks the mesh who leads, steps the session's `Leadership` with each event, and carries out
 * the commands (a flush forked in the background, a read of the pending queue, a hand-off, a
 * heartbeat soon, a refusal recorded). Commands that a caller waits on (a flush for "save
 * now", the flush on the way out) are handed back to it. Every step runs on the actor.
 */
import { Effect } from "effect"
import { peerKey, samePeer, type PeerId } from "../domain/identity.js"
import { stepLeadership, type Coverage, type Leadership, type LeadershipCommand, type LeadershipConfig, type LeadershipEvent } from "../domain/leadership.js"
import type { Message } from "../domain/message.js"
import { handoff } from "./chat.js"
import { flush, type CommitterState } from "./committer.js"
import type { PeerConfig } from "./config.js"
import { reject, type LeadershipOutcome, type PeerContext } from "./context.js"
import { stepAndRun, type Machine } from "./interpreter.js"
import { leaderOf, livePeers, mayLead, roleComponent, roleHolders } from "./mesh.js"

/** The leadership timings of a peer's configuration (the grace widened by how long a presence answer may take). */
export const leadershipConfig = (config: PeerConfig, answerWindowMs: number): LeadershipConfig => ({
  graceMs: config.leaderGraceMs + answerWindowMs,
  settleMs: config.leaderSettleMs,
  commitAfterMs: config.commitAfterMs,
  handoffResendMs: config.handoffResendMs
})

/** The oldest `sentAt` of `messages`, or undefined when there are none. */
const oldestOf = (messages: ReadonlyArray<Message>): number | undefined => {
  let oldest: number | undefined
  for (const m of messages) if (oldest === undefined || m.sentAt < oldest) oldest = m.sentAt
  return oldest
}

type Outcome = LeadershipOutcome

/** The interpreter of one peer's leadership; `committer` is the flushes' knowledge of the branch. */
export const makeLead = (ctx: PeerContext, committer: CommitterState): PeerContext["lead"] => {
  /** Carries out one command; what it returns is fed back into the step. */
  const run = (cmd: Exclude<LeadershipCommand, Outcome>): Effect.Effect<ReadonlyArray<LeadershipEvent>> => {
    switch (cmd._tag) {
      case "Flush":
        return Effect.as(ctx.fork(flush(ctx, committer)), [])
      case "ReadPending":
        return Effect.map(Effect.orElseSucceed(ctx.store.pending, () => [] as ReadonlyArray<Message>), (pending) => [
          { _tag: "PendingRead", oldest: oldestOf(pending) }
        ])
      case "Handoff":
        // The hand-off read the whole queue: that makes the bound exact, so a member reads it again only once it is due.
        return Effect.map(handoff(ctx, cmd.leader, cmd.olderThan), ({ sent, pending }): ReadonlyArray<LeadershipEvent> => [
          { _tag: "PendingRead", oldest: oldestOf(pending) },
          ...(sent > 0 ? [{ _tag: "HandedOff" } as const] : [])
        ])
      case "BeatSoon":
        return Effect.sync(() => {
          ctx.state.lastBeatAt = 0
          return []
        })
      case "Report":
        return Effect.as(reject(ctx, "repository", cmd.detail, cmd.kind), [])
    }
  }
  const machine: Machine<Leadership, LeadershipEvent, LeadershipCommand, Outcome> = {
    get: () => ctx.state.leadership,
    set: (state) => void (ctx.state.leadership = state),
    step: stepLeadership,
    isOutcome: (cmd): cmd is Outcome => cmd._tag === "FlushNow" || cmd._tag === "FlushOnClose" || cmd._tag === "NoLeader" || cmd._tag === "AskLeader",
    run
  }
  // Every tick and every message taken in steps once; most steps command nothing.
  return (event) => stepAndRun(machine, event)
}

/** Whether `peer`'s last heartbeat over a link open now said it acts as leader. */
const heardLeading = (ctx: PeerContext, peer: PeerId): boolean => {
  const key = peerKey(peer)
  return ctx.state.leading.has(key) && ctx.state.links.get(key)?.state === "open"
}

/** The clock's event: the mesh's leader, whether it is reachable, and (when it is this session) what it must cover. */
export const tickEvent = (ctx: PeerContext, at: number): LeadershipEvent => {
  const leader = leaderOf(ctx, at)
  const self = leader !== undefined && samePeer(leader, ctx.self)
  const component = self ? roleComponent(ctx, at).filter(mayLead(ctx)) : []
  const coverage: Coverage | undefined = self
    ? {
        component,
        // A silent entry past its grace is not waited for either, nor one that cannot push.
        online: roleHolders(ctx, livePeers(ctx, at), at).filter(mayLead(ctx)),
        onlineKnown: ctx.state.presenceRead,
        inherits: component.some((p) => !samePeer(p, ctx.self) && heardLeading(ctx, p))
      }
    : undefined
  const leaderOpen = leader !== undefined && !self && ctx.state.links.get(peerKey(leader))?.state === "open"
  return { _tag: "Tick", leader, leaderOpen, leaderLeads: leaderOpen && heardLeading(ctx, leader), coverage }
}

/** Whether the link to the last known leader is open (for "save now"). */
export const leaderOpen = (ctx: PeerContext): boolean => {
  const leader = ctx.state.leadership.leader
  return leader !== undefined && ctx.state.links.get(peerKey(leader))?.state === "open"
}
