/**
 * Leadership and commit scheduling of one session, as a pure step: from what happened
 * (the clock with the mesh's view of who leads, a message taken into the pending queue,
 * the pending queue read, a commit that landed or was refused, "save now") to the next
 * state and the commands the peer's interpreter (`src/app/leader.ts`) carries out.
 * Time is a parameter; nothing here reads a clock or the device store.
 *
 * The leader learns of pending messages by event: `oldestPending` is a lower bound of the
 * oldest pending message's `sentAt` (every message taken in lowers it; a commit does not
 * raise it). Only when that bound is due does the leader read the queue (`ReadPending`),
 * which gives the exact oldest; so a tick costs nothing while nothing is due, and a due
 * message is never missed. A member hands the leader what it left uncommitted too long only
 * when the bound says there may be some; the hand-off's read of the queue makes it exact.
 */
import { actsAsLeader } from "./mesh-view.js"
import { peerKey, samePeer, type PeerId } from "./identity.js"

/** How long a leader refused for good (protection, archived, empty) waits before trying again. */
export const REFUSED_RETRY_MS = 10 * 60_000
/** Least time between two commits a peer's "save now" may cause on the leader. */
export const SAVE_NOW_MIN_GAP_MS = 5_000

/** The timings leadership depends on (from the peer's configuration). */
export interface LeadershipConfig {
  /** A joiner waits this long to reach everyone online before it may lead a partial mesh. */
  readonly graceMs: number
  /** A new smallest peer waits this long before it leads, so the old leader has stepped down. */
  readonly settleMs: number
  /** The leader commits once the oldest pending message is this old. */
  readonly commitAfterMs: number
  /** A member hands what the leader left uncommitted this long to it again. */
  readonly handoffResendMs: number
}

/** What one session knows and decided about leading. */
export interface Leadership {
  readonly self: PeerId
  readonly startedAt: number
  readonly config: LeadershipConfig
  /** The leader of this session's component, as last seen (possibly this session). */
  readonly leader: PeerId | undefined
  readonly isLeader: boolean
  /** Since when this session has been eligible to lead without interruption. */
  readonly eligibleSince: number | undefined
  /** Since when this leader has had a smaller peer in its component that was not heard leading yet. */
  readonly outrankedSince: number | undefined
  /** Whether this session may push (GitHub's `permissions.push`); false never leads. */
  readonly canPush: boolean
  /** Why history cannot be saved for now (a permanent refusal), and when the leader may try again. */
  readonly historyProblem: string | undefined
  readonly historyRetryAt: number
  /** The leader this session last handed its pending messages to (by peer key), and when it last handed any. */
  readonly handedTo: string | undefined
  readonly lastHandoffAt: number
  /** When a member's "save now" last made this leader commit. */
  readonly lastSaveNowAt: number
  /**
   * A lower bound of the oldest pending message's `sentAt`, undefined when the queue is known
   * empty; -Infinity until the queue was first read (a restarted device may hold messages).
   */
  readonly oldestPending: number | undefined
}

/** Who may lead, as the mesh sees it: read only when the leader is this session. */
export interface Coverage {
  /** The members of the component that may hold a role and may push. */
  readonly component: ReadonlyArray<PeerId>
  /** Those online that show signs of life, may hold a role and may push. */
  readonly online: ReadonlyArray<PeerId>
  /** Whether a read of the presence channel has answered yet: until then `online` is unknown, not empty. */
  readonly onlineKnown: boolean
  /** Whether another member of the component says it acts as leader (this session would take over). */
  readonly inherits: boolean
}

/** What can happen to leadership. */
export type LeadershipEvent =
  /**
   * The clock, with the mesh's view: the component's leader, whether the link to it is open,
   * and (only when the leader is this session) what it must cover before it may lead.
   */
  | {
      readonly _tag: "Tick"
      readonly leader: PeerId | undefined
      readonly leaderOpen: boolean
      /** Whether the leader (another session) says it acts as leader. */
      readonly leaderLeads: boolean
      readonly coverage: Coverage | undefined
    }
  /** Messages were taken into the pending queue (sent here or accepted from a neighbor). */
  | { readonly _tag: "PendingAdded"; readonly sentAt: ReadonlyArray<number> }
  /** The pending queue was read: its oldest message's `sentAt`, or undefined when empty. */
  | { readonly _tag: "PendingRead"; readonly oldest: number | undefined }
  /** A hand-off went out (it carried at least one message). */
  | { readonly _tag: "HandedOff" }
  /** A commit landed. */
  | { readonly _tag: "CommitLanded" }
  /** GitHub refused a commit for good: no push access (`permission`), or protection, archived, empty. */
  | { readonly _tag: "CommitRefused"; readonly reason: "permission" | "other"; readonly detail: string }
  /** Whether this session may push, as the repository says. */
  | { readonly _tag: "PushKnown"; readonly canPush: boolean }
  /** A neighbor asked the leader to save now; `member`: it is in this session's component. */
  | { readonly _tag: "SaveNowAsked"; readonly member: boolean }
  /** The user pressed "save now"; `leaderOpen`: the link to the leader is open. */
  | { readonly _tag: "SaveNowPressed"; readonly leaderOpen: boolean }
  /** The session leaves; `presumptive`: it is the smallest of its component that may lead (perhaps still settling in). */
  | { readonly _tag: "Leaving"; readonly presumptive: boolean }

/** What the interpreter must do. */
export type LeadershipCommand =
  /** Commit the pending queue in the background (flushes are serialized). */
  | { readonly _tag: "Flush" }
  /** Commit now and report to the user who pressed "save now". */
  | { readonly _tag: "FlushNow" }
  /** Commit on the way out, retrying a conflict storm until the caller's timeout. */
  | { readonly _tag: "FlushOnClose" }
  /** Read the pending queue and answer with `PendingRead`. */
  | { readonly _tag: "ReadPending" }
  /** Hand the pending messages sent before `olderThan` to the leader (answer `PendingRead`, and `HandedOff` if any went). */
  | { readonly _tag: "Handoff"; readonly leader: PeerId; readonly olderThan: number }
  /** Ask the leader to save now. */
  | { readonly _tag: "AskLeader"; readonly leader: PeerId }
  /** Nobody can save now: no leader is reachable. */
  | { readonly _tag: "NoLeader" }
  /** Tell the neighbors soon (a heartbeat at the next tick) that this session cannot push. */
  | { readonly _tag: "BeatSoon" }
  /** Record a refusal for the user (counted under `kind`). */
  | { readonly _tag: "Report"; readonly detail: string; readonly kind: string }

/** The result of one step. */
export interface LeadershipStep {
  readonly state: Leadership
  readonly commands: ReadonlyArray<LeadershipCommand>
}

/** A session that has just started: it does not lead, may push until told otherwise, and has not read its queue. */
export const initialLeadership = (self: PeerId, startedAt: number, config: LeadershipConfig): Leadership => ({
  self,
  startedAt,
  config,
  leader: undefined,
  isLeader: false,
  eligibleSince: undefined,
  outrankedSince: undefined,
  canPush: true,
  historyProblem: undefined,
  historyRetryAt: 0,
  handedTo: undefined,
  lastHandoffAt: 0,
  lastSaveNowAt: 0,
  oldestPending: Number.NEGATIVE_INFINITY
})

const done = (state: Leadership, ...commands: ReadonlyArray<LeadershipCommand>): LeadershipStep => ({ state, commands })

/** Whether the pending message sent at `oldest` is old enough that the leader must commit now. */
export const commitDue = (oldest: number | undefined, at: number, commitAfterMs: number): boolean =>
  oldest !== undefined && at - oldest >= commitAfterMs

/** Whether the leader waits after a permanent refusal (it tries again at `historyRetryAt`). */
const held = (s: Leadership, at: number): boolean => at < s.historyRetryAt

const tick = (s: Leadership, e: Extract<LeadershipEvent, { _tag: "Tick" }>, at: number): LeadershipStep => {
  const { leader } = e
  // Only the component's smallest peer can act as leader: the rest need not look at coverage.
  // One that leads already leads on while it stays the smallest.
  const eligible =
    leader !== undefined &&
    samePeer(leader, s.self) &&
    e.coverage !== undefined &&
    (s.isLeader ||
      actsAsLeader({
        self: s.self,
        component: e.coverage.component,
        online: e.coverage.online,
        onlineKnown: e.coverage.onlineKnown,
        inherits: e.coverage.inherits,
        upForMs: at - s.startedAt,
        graceMs: s.config.graceMs
      }))
  const eligibleSince = eligible ? (s.eligibleSince ?? at) : undefined
  // A leader outranked by a smaller peer leads on until it hears that peer lead, for at most a
  // grace and a settle time: the successor may be waiting to cover everyone online, and the
  // component is not left without a leader meanwhile.
  const outranked = s.isLeader && s.canPush && leader !== undefined && !samePeer(leader, s.self) && !e.leaderLeads
  const outrankedSince = outranked ? (s.outrankedSince ?? at) : undefined
  const lingers = outranked && at - outrankedSince! < s.config.graceMs + s.config.settleMs
  const leads = lingers || (eligible && (s.isLeader || at - eligibleSince! >= s.config.settleMs))
  // Most ticks change nothing: the state is kept as it is rather than copied.
  const next: Leadership =
    leader === s.leader && eligibleSince === s.eligibleSince && outrankedSince === s.outrankedSince ? s : { ...s, leader, eligibleSince, outrankedSince }
  if (leads && !s.isLeader) {
    // On becoming leader it commits what it holds at once (unless GitHub refused it for good lately),
    // and says so soon: a leader it takes over from leads on until it hears.
    const state = { ...next, isLeader: true }
    return held(state, at) ? done(state, { _tag: "BeatSoon" }) : done(state, { _tag: "Flush" }, { _tag: "BeatSoon" })
  }
  if (!leads && s.isLeader) return leaderless(next, e, at)
  if (s.isLeader) return held(next, at) || !commitDue(next.oldestPending, at, s.config.commitAfterMs) ? done(next) : done(next, { _tag: "ReadPending" })
  return leaderless(next, e, at)
}

/** A member's part: each new leader gets everything it holds, then only what the leader left uncommitted too long. */
const leaderless = (s: Leadership, e: Extract<LeadershipEvent, { _tag: "Tick" }>, at: number): LeadershipStep => {
  const state = s.isLeader ? { ...s, isLeader: false } : s
  const leader = e.leader
  if (leader === undefined || samePeer(leader, s.self) || !e.leaderOpen) return done(state)
  if (state.handedTo !== peerKey(leader)) return done({ ...state, handedTo: peerKey(leader) }, { _tag: "Handoff", leader, olderThan: at + 1 })
  // Only when the queue may hold a message older than that: the read of the queue costs, every tick.
  const olderThan = at - s.config.commitAfterMs
  return at - state.lastHandoffAt >= s.config.handoffResendMs && state.oldestPending !== undefined && state.oldestPending < olderThan
    ? done(state, { _tag: "Handoff", leader, olderThan })
    : done(state)
}

/** One step of leadership: the next state and what to do, in order. */
export const stepLeadership = (s: Leadership, e: LeadershipEvent, at: number): LeadershipStep => {
  switch (e._tag) {
    case "Tick":
      return tick(s, e, at)
    case "PendingAdded": {
      let oldest = s.oldestPending
      for (const t of e.sentAt) oldest = oldest === undefined ? t : Math.min(oldest, t)
      return done(oldest === s.oldestPending ? s : { ...s, oldestPending: oldest })
    }
    case "PendingRead": {
      const state = { ...s, oldestPending: e.oldest }
      return s.isLeader && !held(s, at) && commitDue(e.oldest, at, s.config.commitAfterMs) ? done(state, { _tag: "Flush" }) : done(state)
    }
    case "HandedOff":
      return done({ ...s, lastHandoffAt: at })
    case "CommitLanded":
      return done(s.historyProblem === undefined ? s : { ...s, historyProblem: undefined })
    case "CommitRefused":
      if (e.reason === "permission") {
        // It steps down for good; its next heartbeat says it cannot push, so the others elect someone who can.
        return done({ ...s, canPush: false, isLeader: false }, { _tag: "BeatSoon" }, { _tag: "Report", detail: `Stepping down as leader: ${e.detail}`, kind: "history" })
      }
      // Every leader would be refused alike: said once, tried again after REFUSED_RETRY_MS rather than in a storm.
      return done(
        { ...s, historyProblem: e.detail, historyRetryAt: at + REFUSED_RETRY_MS },
        ...(s.historyProblem === e.detail ? [] : [{ _tag: "Report", detail: e.detail, kind: "history" } as const])
      )
    case "PushKnown":
      // A session that cannot push drops out of the election at the next tick.
      return done(e.canPush === s.canPush ? s : { ...s, canPush: e.canPush })
    case "SaveNowAsked":
      if (!s.isLeader || !e.member || at - s.lastSaveNowAt < SAVE_NOW_MIN_GAP_MS) return done(s)
      return done({ ...s, lastSaveNowAt: at }, { _tag: "Flush" })
    case "SaveNowPressed":
      if (s.isLeader) return done(s, { _tag: "FlushNow" })
      if (s.leader === undefined || samePeer(s.leader, s.self) || !e.leaderOpen) return done(s, { _tag: "NoLeader" })
      return done(s, { _tag: "AskLeader", leader: s.leader })
    case "Leaving":
      // Whoever leads, or would lead, commits on the way out; a member hands everything to the leader.
      if (s.isLeader || e.presumptive) return done(s, { _tag: "FlushOnClose" })
      return s.leader === undefined ? done(s) : done(s, { _tag: "Handoff", leader: s.leader, olderThan: Number.MAX_SAFE_INTEGER })
  }
}
