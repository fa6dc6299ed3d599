/**
 * Leadership and commit scheduling as a pure step: given a state, an event and the time,
 * the next state and the commands. No peer, no clock, no store.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import {
  initialLeadership,
  REFUSED_RETRY_MS,
  SAVE_NOW_MIN_GAP_MS,
  stepLeadership,
  type Leadership,
  type LeadershipCommand,
  type LeadershipConfig,
  type LeadershipEvent
} from "../../src/domain/leadership.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")
const MINUTE = 60_000
const config: LeadershipConfig = { graceMs: MINUTE, settleMs: 3_000, commitAfterMs: 8 * MINUTE, handoffResendMs: 2 * MINUTE }

/** A tick as the mesh sees it: `leader` leads the component `members`, and `online` are alive. */
const tick = (
  leader: PeerId | undefined,
  members: ReadonlyArray<PeerId>,
  options: { online?: ReadonlyArray<PeerId>; leaderOpen?: boolean; leaderLeads?: boolean; inherits?: boolean; self?: PeerId } = {}
): LeadershipEvent => ({
  _tag: "Tick",
  leader,
  leaderOpen: options.leaderOpen ?? true,
  leaderLeads: options.leaderLeads ?? false,
  coverage:
    leader !== undefined && leader === (options.self ?? alice)
      ? { component: members, online: options.online ?? members, onlineKnown: true, inherits: options.inherits ?? false }
      : undefined
})

/** Runs events in order (each at its time), returning the last state and every command with its time. */
const run = (state: Leadership, events: ReadonlyArray<readonly [number, LeadershipEvent]>) => {
  const commands: Array<readonly [number, LeadershipCommand]> = []
  for (const [at, e] of events) {
    const r = stepLeadership(state, e, at)
    state = r.state
    for (const c of r.commands) commands.push([at, c])
  }
  return { state, commands }
}

const tags = (commands: ReadonlyArray<readonly [number, LeadershipCommand]>) => commands.map(([, c]) => c._tag)

/** Alice, started at 0, the smallest of a mesh covering everyone, leading since 3 s. */
const leading = (): Leadership => {
  const r = run(initialLeadership(alice, 0, config), [
    [1_000, tick(alice, [alice, bob])],
    [4_000, tick(alice, [alice, bob])],
    [4_000, { _tag: "PendingRead", oldest: undefined }]
  ])
  expect(r.state.isLeader).toBe(true)
  return r.state
}

describe("leadership step", () => {
  it("the smallest peer leads only after the settle time, and commits what it holds on taking over", () => {
    const r = run(initialLeadership(alice, 0, config), [
      [1_000, tick(alice, [alice, bob])],
      [2_000, tick(alice, [alice, bob])],
      [4_000, tick(alice, [alice, bob])]
    ])
    expect(r.state.isLeader).toBe(true)
    // It says so at its next heartbeat's chance, not a period later.
    expect(r.commands).toEqual([[4_000, { _tag: "Flush" }], [4_000, { _tag: "BeatSoon" }]])
  })

  it("a joiner that does not yet reach everyone online waits for the grace period before leading", () => {
    const cover = { online: [alice, bob, carol] }
    const early = run(initialLeadership(alice, 0, config), [
      [1_000, tick(alice, [alice, bob], cover)],
      [30_000, tick(alice, [alice, bob], cover)]
    ])
    expect(early.state.isLeader).toBe(false)
    const late = run(early.state, [
      [MINUTE, tick(alice, [alice, bob], cover)],
      [MINUTE + 3_000, tick(alice, [alice, bob], cover)]
    ])
    expect(late.state.isLeader).toBe(true)
  })

  it("a smaller newcomer to a component with a leader acting takes over after the settle time, without the grace", () => {
    // Carol's entry (a crashed tab, say) keeps coverage short; bob was leading the component.
    const cover = { online: [alice, bob, carol], inherits: true }
    const r = run(initialLeadership(alice, 0, config), [
      [1_000, tick(alice, [alice, bob], cover)],
      [4_000, tick(alice, [alice, bob], cover)]
    ])
    expect(r.state.isLeader).toBe(true)
    // Once bob steps down (no longer heard leading), alice leads on.
    expect(run(r.state, [[5_000, tick(alice, [alice, bob], { online: [alice, bob, carol] })]]).state.isLeader).toBe(true)
  })

  it("a peer that cannot push never leads, and a leader refused for lack of push access steps down at once", () => {
    const readOnly = run(initialLeadership(alice, 0, config), [[0, { _tag: "PushKnown", canPush: false }]]).state
    expect(readOnly.canPush).toBe(false)
    // The mesh elects among those that may push: this session is never its leader.
    const r = run(readOnly, [[10_000, tick(bob, [alice, bob])], [20_000, tick(bob, [alice, bob])]])
    expect(r.state.isLeader).toBe(false)
    const refused = stepLeadership(leading(), { _tag: "CommitRefused", reason: "permission", detail: "no push" }, 5_000)
    expect(refused.state.isLeader).toBe(false)
    expect(refused.state.canPush).toBe(false)
    expect(refused.commands.map((c) => c._tag)).toEqual(["BeatSoon", "Report"])
  })

  it("a leader that receives a pending message schedules a commit within the commit delay, and not before", () => {
    let s = leading()
    s = stepLeadership(s, { _tag: "PendingAdded", sentAt: [10_000] }, 10_000).state
    const before = run(s, [[10_000 + config.commitAfterMs - 1_000, tick(alice, [alice, bob])]])
    expect(tags(before.commands)).toEqual([])
    const due = run(before.state, [[10_000 + config.commitAfterMs, tick(alice, [alice, bob])]])
    // It reads the queue for the exact oldest, and commits when that one is due.
    expect(tags(due.commands)).toEqual(["ReadPending"])
    const read = stepLeadership(due.state, { _tag: "PendingRead", oldest: 10_000 }, 10_000 + config.commitAfterMs)
    expect(read.commands).toEqual([{ _tag: "Flush" }])
  })

  it("a leader does not read its queue on a tick while nothing it was told of is due", () => {
    const r = run(leading(), Array.from({ length: 100 }, (_, i) => [5_000 + i * 1_000, tick(alice, [alice, bob])] as const))
    expect(r.commands).toEqual([])
  })

  it("a queue read that finds the oldest message younger than the bound moves the bound and commits nothing", () => {
    let s = leading()
    s = stepLeadership(s, { _tag: "PendingAdded", sentAt: [5_000] }, 5_000).state
    const at = 5_000 + config.commitAfterMs
    // The old message was committed meanwhile: the queue's oldest is now younger.
    const read = stepLeadership(s, { _tag: "PendingRead", oldest: at - 1_000 }, at)
    expect(read.commands).toEqual([])
    expect(read.state.oldestPending).toBe(at - 1_000)
    expect(tags(run(read.state, [[at + 500, tick(alice, [alice, bob])]]).commands)).toEqual([])
    expect(tags(run(read.state, [[at - 1_000 + config.commitAfterMs, tick(alice, [alice, bob])]]).commands)).toEqual(["ReadPending"])
  })

  it("a restarted session reads its queue once before trusting the bound (its device may hold messages)", () => {
    const s = initialLeadership(alice, 0, config)
    const r = run(s, [[1_000, tick(alice, [alice])], [4_000, tick(alice, [alice])], [5_000, tick(alice, [alice])]])
    expect(tags(r.commands)).toEqual(["Flush", "BeatSoon", "ReadPending"])
  })

  it("a refusal for good (protection) is said once and the leader waits ten minutes before trying again", () => {
    let s = leading()
    const first = stepLeadership(s, { _tag: "CommitRefused", reason: "other", detail: "protected branch" }, 10_000)
    expect(first.commands).toEqual([{ _tag: "Report", detail: "protected branch", kind: "history" }])
    expect(first.state.historyProblem).toBe("protected branch")
    const again = stepLeadership(first.state, { _tag: "CommitRefused", reason: "other", detail: "protected branch" }, 11_000)
    expect(again.commands).toEqual([])
    s = stepLeadership(again.state, { _tag: "PendingAdded", sentAt: [0] }, 11_000).state
    expect(tags(run(s, [[11_000 + REFUSED_RETRY_MS - 1, tick(alice, [alice, bob])]]).commands)).toEqual([])
    expect(tags(run(s, [[11_000 + REFUSED_RETRY_MS, tick(alice, [alice, bob])]]).commands)).toEqual(["ReadPending"])
    expect(stepLeadership(s, { _tag: "CommitLanded" }, 12_000).state.historyProblem).toBeUndefined()
  })

  it("a member hands everything to each new leader once it is reachable, then only what stays uncommitted too long", () => {
    const bobs = initialLeadership(bob, 0, config)
    const r = run(bobs, [
      [1_000, tick(alice, [alice, bob], { self: bob, leaderOpen: false })],
      [2_000, tick(alice, [alice, bob], { self: bob })],
      [3_000, { _tag: "HandedOff" }],
      [4_000, tick(alice, [alice, bob], { self: bob })],
      [3_000 + config.handoffResendMs, tick(alice, [alice, bob], { self: bob })]
    ])
    expect(r.commands).toEqual([
      [2_000, { _tag: "Handoff", leader: alice, olderThan: 2_001 }],
      [3_000 + config.handoffResendMs, { _tag: "Handoff", leader: alice, olderThan: 3_000 + config.handoffResendMs - config.commitAfterMs }]
    ])
  })

  it("a member reads its queue for a hand-off only when it may hold a message the leader left uncommitted too long", () => {
    // Every member once read (and sorted) its whole queue every tick for hand-offs that found nothing to send.
    const t0 = 2_000
    const due = (sentAt: number) => sentAt + config.commitAfterMs + 1
    const r = run(initialLeadership(bob, 0, config), [
      [t0, tick(alice, [alice, bob], { self: bob })],
      // The first hand-off's read found the queue empty: nothing to hand on, at any resend time.
      [t0, { _tag: "PendingRead", oldest: undefined }],
      [t0 + config.handoffResendMs, tick(alice, [alice, bob], { self: bob })],
      [t0 + 3 * config.handoffResendMs, tick(alice, [alice, bob], { self: bob })],
      // A message arrives: it is handed on once it is older than the leader's commit delay.
      [t0 + 3 * config.handoffResendMs, { _tag: "PendingAdded", sentAt: [30 * MINUTE] }],
      [due(30 * MINUTE) - 2, tick(alice, [alice, bob], { self: bob })],
      [due(30 * MINUTE), tick(alice, [alice, bob], { self: bob })],
      // That read found it committed meanwhile (the queue is empty again).
      [due(30 * MINUTE), { _tag: "PendingRead", oldest: undefined }],
      [due(30 * MINUTE) + config.handoffResendMs, tick(alice, [alice, bob], { self: bob })]
    ])
    expect(r.commands).toEqual([
      [t0, { _tag: "Handoff", leader: alice, olderThan: t0 + 1 }],
      [due(30 * MINUTE), { _tag: "Handoff", leader: alice, olderThan: due(30 * MINUTE) - config.commitAfterMs }]
    ])
  })

  it("a leader that stops being the smallest leads on until it hears the new one lead, then hands off like any member", () => {
    const s = stepLeadership(leading(), { _tag: "PendingAdded", sentAt: [5_000] }, 5_000).state
    const due = 5_000 + config.commitAfterMs
    const r = run(s, [
      [due - 10_000, tick(carol, [alice, bob, carol])],
      // Still leading: a due commit is still its to make.
      [due, tick(carol, [alice, bob, carol])]
    ])
    expect(r.state.isLeader).toBe(true)
    expect(tags(r.commands)).toEqual(["ReadPending"])
    const heard = run(r.state, [[due + 1, tick(carol, [alice, bob, carol], { leaderLeads: true })]])
    expect(heard.state.isLeader).toBe(false)
    expect(heard.commands).toEqual([[due + 1, { _tag: "Handoff", leader: carol, olderThan: due + 2 }]])
  })

  it("an outranked leader that never hears the new one lead steps down after a grace and a settle time", () => {
    const bound = config.graceMs + config.settleMs
    const r = run(leading(), [
      [10_000, tick(carol, [alice, bob, carol])],
      [10_000 + bound - 1, tick(carol, [alice, bob, carol])]
    ])
    expect(r.state.isLeader).toBe(true)
    expect(run(r.state, [[10_000 + bound, tick(carol, [alice, bob, carol])]]).state.isLeader).toBe(false)
    // A leader that can no longer push does not lead on.
    const refused = stepLeadership(leading(), { _tag: "PushKnown", canPush: false }, 10_000).state
    expect(run(refused, [[10_001, tick(carol, [alice, bob, carol])]]).state.isLeader).toBe(false)
  })

  it("save now: a leader commits at once; a member asks a reachable leader; otherwise nobody can", () => {
    expect(stepLeadership(leading(), { _tag: "SaveNowPressed", leaderOpen: false }, 5_000).commands).toEqual([{ _tag: "FlushNow" }])
    const member = run(initialLeadership(bob, 0, config), [[1_000, tick(alice, [alice, bob], { self: bob, leaderOpen: false })]]).state
    expect(stepLeadership(member, { _tag: "SaveNowPressed", leaderOpen: true }, 2_000).commands).toEqual([{ _tag: "AskLeader", leader: alice }])
    expect(stepLeadership(member, { _tag: "SaveNowPressed", leaderOpen: false }, 2_000).commands).toEqual([{ _tag: "NoLeader" }])
    expect(stepLeadership(initialLeadership(bob, 0, config), { _tag: "SaveNowPressed", leaderOpen: true }, 2_000).commands).toEqual([{ _tag: "NoLeader" }])
  })

  it("a member's save now makes the leader commit at most once per gap, and only for its component", () => {
    const r = run(leading(), [
      [10_000, { _tag: "SaveNowAsked", member: false }],
      [10_000, { _tag: "SaveNowAsked", member: true }],
      [10_000 + SAVE_NOW_MIN_GAP_MS - 1, { _tag: "SaveNowAsked", member: true }],
      [10_000 + SAVE_NOW_MIN_GAP_MS, { _tag: "SaveNowAsked", member: true }]
    ])
    expect(r.commands).toEqual([[10_000, { _tag: "Flush" }], [10_000 + SAVE_NOW_MIN_GAP_MS, { _tag: "Flush" }]])
    expect(stepLeadership(initialLeadership(bob, 0, config), { _tag: "SaveNowAsked", member: true }, 10_000).commands).toEqual([])
  })

  it("on leaving, a leader (or the one about to lead) flushes and a member hands everything to the leader", () => {
    expect(stepLeadership(leading(), { _tag: "Leaving", presumptive: false }, 9_000).commands).toEqual([{ _tag: "FlushOnClose" }])
    expect(stepLeadership(initialLeadership(alice, 0, config), { _tag: "Leaving", presumptive: true }, 9_000).commands).toEqual([{ _tag: "FlushOnClose" }])
    const member = run(initialLeadership(bob, 0, config), [[1_000, tick(alice, [alice, bob], { self: bob })]]).state
    expect(stepLeadership(member, { _tag: "Leaving", presumptive: false }, 9_000).commands).toEqual([
      { _tag: "Handoff", leader: alice, olderThan: Number.MAX_SAFE_INTEGER }
    ])
  })

  it.prop(
    "the bound never misses a due message: whenever one pending message is due, the leader's tick reads or commits",
    [fc.array(fc.integer({ min: 0, max: 20 * MINUTE }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 30 * MINUTE })],
    ([sentAts, at]) => {
      let s = leading()
      for (const t of sentAts) s = stepLeadership(s, { _tag: "PendingAdded", sentAt: [t] }, t).state
      const due = sentAts.some((t) => at - t >= config.commitAfterMs)
      const cmds = stepLeadership(s, tick(alice, [alice, bob]), at).commands
      expect(cmds.some((c) => c._tag === "ReadPending")).toBe(due)
    }
  )
})
