/**
 * Presence publishing as a pure step: given a state, an event and the time, the next
 * state and the commands. No channel, no mesh, no clock.
 */
import { describe, expect, it } from "@effect/vitest"
import { emptyBudget, githubLimits, record } from "../../src/domain/budget.js"
import { makePeerId } from "../../src/domain/identity.js"
import type { PresenceCallSlot } from "../../src/domain/presence-doc.js"
import {
  initialPublisher,
  PRESENCE_REFUSED_RETRY_MS,
  stepPublish,
  type Look,
  type Publisher,
  type PublishCommand,
  type Scope,
  type Write
} from "../../src/domain/presence-publish.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const REFRESH_MS = 240_000
const T0 = 1_000_000

const look = (over: Partial<Look> = {}): Look => ({ established: false, spreadMs: 1_500, upForMs: 2_000, offerBeingMade: false, signals: 0, calls: 0, ...over })
const scope = (over: Partial<Scope> = {}): Scope => ({ peers: [], lastSeen: [], departed: [], refreshMs: REFRESH_MS, ...over })

/**
 * Runs a publishing round the way the interpreter does: `Due`, then the look and the scope
 * it is shown when the step asks; returns the final state and the commands past the asking.
 */
const round = (s: Publisher, at: number, shown: { look?: Look; scope?: Scope; closing?: boolean } = {}) => {
  const commands: Array<PublishCommand> = []
  const waiting = (shown.look?.signals ?? 0) + (shown.look?.calls ?? 0) + (shown.scope?.departed?.length ?? 0)
  const refresher = (shown.scope?.peers?.length ?? 0) > 0
  let r = stepPublish(s, { _tag: "Due", closing: shown.closing ?? false, waiting, refresher, refreshMs: shown.scope?.refreshMs ?? REFRESH_MS }, at)
  for (;;) {
    const ask = r.commands.find((c) => c._tag === "Look" || c._tag === "Scope")
    commands.push(...r.commands.filter((c) => c !== ask))
    if (ask === undefined) return { state: r.state, commands }
    r =
      ask._tag === "Look"
        ? stepPublish(r.state, { _tag: "Looked", ...(shown.look ?? look()) }, at)
        : stepPublish(r.state, { _tag: "Scoped", firstEntry: ask.firstEntry, waiting: ask.waiting, ...(shown.scope ?? scope()) }, at)
  }
}

const publishOf = (commands: ReadonlyArray<PublishCommand>) => commands.find((c) => c._tag === "Publish")
const write = (over: Partial<Write> = {}): Write => ({ upsert: [], remove: [], signals: [], calls: [], refresh: false, ...over })
const entry = (at: number) => ({ ...alice, lastSeen: at })

/** A session whose first entry is written (at T0). */
const started = (): Publisher => {
  const s = round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 2_000 }) }).state
  return stepPublish(s, { _tag: "Written", write: write({ upsert: [entry(T0)] }), error: undefined }, T0).state
}

describe("presence publishing step", () => {
  it("a session starting with others waits its spread before its first entry, then writes its own entry alone", () => {
    const early = round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 1_000, spreadMs: 1_500 }) })
    expect(early.commands).toEqual([])
    expect(early.state.publishing).toBe(false)
    const due = round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 1_500, spreadMs: 1_500 }) })
    expect(publishOf(due.commands)).toEqual({ _tag: "Publish", upsert: "self", remove: [], refresh: false })
    expect(due.state.publishing).toBe(true)
  })

  it("a joiner of an existing mesh writes its first entry at once, and an offer waiting goes out even before the spread", () => {
    expect(publishOf(round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 10, established: true }) }).commands)?.upsert).toBe("self")
    expect(publishOf(round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 10, signals: 1 }) }).commands)?.upsert).toBe("self")
  })

  it("a first entry waits while an offer through presence is being made, so both go in one write", () => {
    expect(round(initialPublisher(emptyBudget()), T0, { look: look({ upForMs: 5_000, offerBeingMade: true }) }).commands).toEqual([])
  })

  it("nothing is written while a write is in flight, while closing, while rate limited, or before the write slot", () => {
    const inFlight = round(initialPublisher(emptyBudget()), T0).state
    expect(inFlight.publishing).toBe(true)
    expect(round(inFlight, T0 + 5_000).commands).toEqual([])
    expect(round(initialPublisher(emptyBudget()), T0, { closing: true }).commands).toEqual([])
    const limited = stepPublish(initialPublisher(emptyBudget()), { _tag: "ReadFailed", error: { _tag: "RateLimited", limit: "secondary", retryAfterMs: 60_000 } }, T0).state
    expect(limited.rateNotice?.until).toBe(T0 + 60_000)
    expect(round(limited, T0 + 59_999).commands).toEqual([])
    expect(publishOf(round(limited, T0 + 60_000).commands)).toBeDefined()
    // GitHub wants writes spaced: the next may go only a spacing after the last.
    const wrote = { ...initialPublisher(record(emptyBudget(), "write", T0)) }
    expect(stepPublish(wrote, { _tag: "Due", closing: false, waiting: 0, refresher: true, refreshMs: REFRESH_MS }, T0 + githubLimits.minWriteSpacingMs - 1).commands).toEqual([])
    expect(stepPublish(wrote, { _tag: "Due", closing: false, waiting: 0, refresher: true, refreshMs: REFRESH_MS }, T0 + githubLimits.minWriteSpacingMs).commands).toEqual([{ _tag: "Look" }])
  })

  it("once its entry is out, a tick looks at the mesh only when something waits to be written or its refresh may be due", () => {
    // Every tick of every peer once looked at the mesh and the refresh scope to find nothing due.
    const s = started()
    const due = (at: number, waiting: number, refresher = true) => stepPublish(s, { _tag: "Due", closing: false, waiting, refresher, refreshMs: REFRESH_MS }, at).commands
    const soon = T0 + githubLimits.minWriteSpacingMs
    expect(due(soon, 0)).toEqual([])
    expect(due(soon, 1)).toEqual([{ _tag: "Look" }])
    expect(due(T0 + REFRESH_MS / 4 - 1, 0)).toEqual([])
    expect(due(T0 + REFRESH_MS / 4, 0)).toEqual([{ _tag: "Look" }])
    // A session that refreshes no entries (another is the refresher) looks only when something waits.
    expect(due(T0 + 10 * REFRESH_MS, 0, false)).toEqual([])
    expect(due(T0 + 10 * REFRESH_MS, 1, false)).toEqual([{ _tag: "Look" }])
    // A damaged document is repaired at once, and a first entry is not held back.
    expect(stepPublish({ ...s, repairDue: true }, { _tag: "Due", closing: false, waiting: 0, refresher: true, refreshMs: REFRESH_MS }, soon).commands).toEqual([{ _tag: "Look" }])
    expect(stepPublish(initialPublisher(emptyBudget()), { _tag: "Due", closing: false, waiting: 0, refresher: true, refreshMs: REFRESH_MS }, T0).commands).toEqual([{ _tag: "Look" }])
  })

  it("the refresher rewrites the entries it looks after once one is a refresh period old, not before", () => {
    const s = started()
    const members = { peers: [alice, bob] }
    const fresh = round(s, T0 + REFRESH_MS - 1, { scope: scope({ ...members, lastSeen: [T0, T0] }) })
    expect(fresh.commands).toEqual([])
    const stale = round(s, T0 + REFRESH_MS, { scope: scope({ ...members, lastSeen: [T0, T0] }) })
    expect(publishOf(stale.commands)).toEqual({ _tag: "Publish", upsert: [alice, bob], remove: [], refresh: true })
    // A session that is not the refresher (empty scope) writes nothing for a stale entry.
    expect(round(s, T0 + REFRESH_MS, { scope: scope() }).commands).toEqual([])
  })

  // Regression (soak, Discussion seed 536): after a cut each side stops counting the other's
  // entries until they are refreshed after it, so a partition that healed 6 minutes before the end
  // was still split at the end, waiting for a refresh period and the charged reads.
  it("the refresher refreshes soon after a cut (a link lost with no goodbye), not a refresh period later", () => {
    const s = started()
    const members = { peers: [alice, bob], lastSeen: [T0, T0] }
    const cut = scope({ ...members, cutAt: T0 + 10_000 })
    expect(round(s, T0 + REFRESH_MS / 4 - 1, { scope: cut }).commands).toEqual([])
    expect(publishOf(round(s, T0 + REFRESH_MS / 4, { scope: cut }).commands)).toEqual({ _tag: "Publish", upsert: [alice, bob], remove: [], refresh: true })
    // A cut the last write already followed makes nothing due.
    expect(round(s, T0 + REFRESH_MS / 4, { scope: scope({ ...members, cutAt: T0 - 1 }) }).commands).toEqual([])
    // Nor does a cut for a session that is not the refresher.
    expect(round(s, T0 + REFRESH_MS / 4, { scope: scope({ cutAt: T0 + 10_000 }) }).commands).toEqual([])
  })

  it("a damaged document is reported, acted on at once, and rewritten by the refresher at its next write", () => {
    const read = stepPublish(started(), { _tag: "ReadFailed", error: { _tag: "PresenceMalformed", detail: "not JSON" } }, T0 + 5_000)
    expect(read.state.repairDue).toBe(true)
    expect(read.state.problem).toBe("The presence file is damaged; SkyGit is repairing it.")
    expect(read.commands).toEqual([{ _tag: "Report", detail: "presence-unreadable: not JSON", kind: "presence-unreadable" }, { _tag: "Nudge" }])
    const repair = round(read.state, T0 + 6_000, { scope: scope({ peers: [alice, bob], lastSeen: [T0, T0] }) })
    expect(publishOf(repair.commands)).toEqual({ _tag: "Publish", upsert: [alice, bob], remove: [], refresh: true })
    const done = stepPublish(repair.state, { _tag: "Written", write: write({ upsert: [entry(T0 + 6_000)], refresh: true }), error: undefined }, T0 + 6_500)
    expect(done.state.repairDue).toBe(false)
    expect(done.state.lastRefreshAt).toBe(T0 + 6_500)
  })

  it("a permanent refusal is said and blocks writes for ten minutes; a write that lands later clears it", () => {
    const inFlight = round(started(), T0 + 2_000, { look: look({ signals: 1 }) }).state
    const refused = stepPublish(inFlight, { _tag: "Written", write: write(), error: { _tag: "PresenceUnavailable", detail: "no push", permanent: true } }, T0 + 3_000)
    expect(refused.state.problem).toBe("no push")
    expect(refused.commands).toEqual([{ _tag: "Report", detail: "presence write failed: PresenceUnavailable", kind: undefined }])
    expect(round(refused.state, T0 + 3_000 + PRESENCE_REFUSED_RETRY_MS - 1, { look: look({ signals: 1 }) }).commands).toEqual([])
    // Reads that succeed meanwhile do not make it go.
    expect(stepPublish(refused.state, { _tag: "Read", changed: true, skipped: [] }, T0 + 4_000).state.problem).toBe("no push")
    const retry = round(refused.state, T0 + 3_000 + PRESENCE_REFUSED_RETRY_MS, { look: look({ signals: 1 }) })
    expect(publishOf(retry.commands)).toBeDefined()
    const landed = stepPublish(retry.state, { _tag: "Written", write: write(), error: undefined }, T0 + 4_000 + PRESENCE_REFUSED_RETRY_MS)
    expect(landed.state.blocked).toBeUndefined()
    expect(landed.state.problem).toBeUndefined()
  })

  it("a write refused as malformed drops its call slots (they would be refused again); a landed write forgets what it carried", () => {
    const slot = { to: bob } as unknown as PresenceCallSlot
    const w = write({ calls: [slot] })
    const refused = stepPublish(started(), { _tag: "Written", write: w, error: { _tag: "PresenceMalformed", detail: "slot too big" } }, T0 + 1_000)
    expect(refused.commands[0]).toEqual({ _tag: "DropCalls", calls: [slot] })
    expect(refused.state.publishing).toBe(false)
    const landed = stepPublish(started(), { _tag: "Written", write: w, error: undefined }, T0 + 1_000)
    expect(landed.commands).toEqual([{ _tag: "Landed", write: w }])
  })

  it("entries of peers that said goodbye make a write of their own, with nothing else due", () => {
    const r = round(started(), T0 + 30_000, { scope: scope({ peers: [alice], lastSeen: [T0], departed: [bob] }) })
    expect(publishOf(r.commands)).toEqual({ _tag: "Publish", upsert: [], remove: [bob], refresh: false })
  })

  it("a read counts against the budget unless unchanged (a 304 is free), ends an expired rate notice, and reports skipped items once", () => {
    const limited = stepPublish(initialPublisher(emptyBudget()), { _tag: "ReadFailed", error: { _tag: "RateLimited", limit: "primary", retryAfterMs: 1_000 } }, T0).state
    const unchanged = stepPublish(limited, { _tag: "Read", changed: false, skipped: ["entry 3: bad"] }, T0 + 1_000)
    expect(unchanged.state.budget.used).toBe(0)
    expect(unchanged.state.rateNotice).toBeUndefined()
    expect(unchanged.state.problem).toBe("1 unreadable presence item(s) skipped (entry).")
    expect(unchanged.commands).toEqual([])
    const changed = stepPublish(limited, { _tag: "Read", changed: true, skipped: ["entry 3: bad"] }, T0 + 500)
    expect(changed.state.budget.used).toBe(1)
    expect(changed.state.rateNotice).toBeDefined()
    expect(changed.commands).toEqual([{ _tag: "Report", detail: "presence-item: entry 3: bad", kind: "presence-item" }])
  })
})
