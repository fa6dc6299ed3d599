/**
 * The simulator with `--github hub`: the real Octokit adapters against an in-process hub
 * in virtual time. Nothing is lost or duplicated, SkyGit only commits on its branch with
 * `[skip ci]`, the requests are real ones the hub counted, and runs are reproducible.
 */
import { describe, expect, it } from "vitest"
import { Clock, Effect } from "effect"
import { DEFAULT_BRANCH, makeHubSimulation, runHubSimulation, SIM_REPOSITORY, SKYGIT_BRANCH } from "../../src/sim/hub-backend.js"
import { simulate, type SimOptions } from "../../src/sim/simulate.js"
import { ExternalWork, runVirtual, runVirtualAsync, runVirtualAsyncOrThrow } from "../../src/sim/virtual-time.js"

const short: SimOptions = { peers: 3, minutes: 15, presence: "file", seed: 7, history: 0, faults: [] }

describe("simulator on the hub", () => {
  it("file presence: nothing lost or duplicated, commits only on skygit, every one with [skip ci]", async () => {
    const work = new ExternalWork()
    const { report, skygit, main } = await runVirtualAsyncOrThrow(
      Effect.gen(function* () {
        const sim = yield* makeHubSimulation({ users: ["user000", "user001", "user002"], presence: "file", minutes: short.minutes, work })
        const base = yield* simulate({ ...short, backend: sim.backend, figures: sim.figures })
        const report = yield* sim.report(base)
        const skygit = yield* Effect.promise(() => work.track(() => sim.hub.git.log(SIM_REPOSITORY, SKYGIT_BRANCH)))
        const main = yield* Effect.promise(() => work.track(() => sim.hub.git.log(SIM_REPOSITORY, DEFAULT_BRANCH)))
        return { report, skygit, main }
      }),
      { work }
    )
    expect(report.messagesSent).toBeGreaterThan(0)
    expect(report.messagesLost).toBe(0)
    expect(report.duplicatesCommitted).toBe(0)
    expect(report.messagesCommitted).toBe(report.messagesSent)
    // Real requests, counted by the hub.
    expect(report.github.requests).toBeGreaterThan(0)
    expect(report.github.notModified).toBeGreaterThan(0)
    expect(report.github.writes).toBeGreaterThan(0)
    expect(report.perPeerPerHour.requests).toBeGreaterThan(0)
    expect(report.repoWritesPerHour).toBeGreaterThan(0)
    expect(report.commitBytes.p50).toBeGreaterThan(0)
    // Only SkyGit's branch moved: the default branch still has its seed commit alone.
    expect(main).toHaveLength(1)
    expect(report.hub.commits.defaultBranch).toBe(0)
    const own = skygit.filter((c) => c.paths.some((p) => p.startsWith(".messages/")))
    expect(own.length).toBe(report.hub.commits.skygit)
    expect(report.hub.commits.presence).toBeGreaterThan(0)
    expect(report.hub.commits.conversations).toBeGreaterThan(0)
    for (const c of own) expect(c.message).toContain("[skip ci]")
    expect(report.hub.commitsWithoutSkipCi).toBe(0)
    expect(report.hub.secondaryLimitHits).toBe(0)
    expect(report.github.conflicts).toBeGreaterThanOrEqual(report.hub.presenceConflicts)
  }, 60_000)

  it("Discussion presence: one comment per user, edited, no commit for presence", async () => {
    const report = await runHubSimulation({ ...short, presence: "discussion" })
    expect(report.messagesLost).toBe(0)
    expect(report.duplicatesCommitted).toBe(0)
    expect(report.hub.commits.presence).toBe(0)
    expect(report.hub.commits.defaultBranch).toBe(0)
    expect(report.hub.discussion.discussionsCreated).toBe(1)
    expect(report.hub.discussion.maxCommentsAddedPerUser).toBe(1)
    expect(report.hub.discussion.commentEdits).toBeGreaterThan(0)
    expect(report.github.requests).toBeGreaterThan(0)
  }, 60_000)

  it("the same options give the same report, byte for byte", async () => {
    const options: SimOptions = { ...short, minutes: 6 }
    const a = JSON.stringify(await runHubSimulation(options))
    const b = JSON.stringify(await runHubSimulation(options))
    expect(a).toBe(b)
  }, 60_000)

  it("the async driver reports a deadlock instead of hanging", async () => {
    const exit = await runVirtualAsync(Effect.never)
    expect(exit._tag).toBe("Failure")
  })

  it("virtual time moves in whole milliseconds, as a real clock reads", () => {
    const times = runVirtual(
      Effect.forEach([0.4, 123.4, 1], (ms) => Effect.zipRight(Effect.sleep(ms), Clock.currentTimeMillis))
    )
    const start = Date.UTC(2026, 0, 1)
    expect(times).toMatchObject({ _tag: "Success", value: [start + 1, start + 125, start + 126] })
  })

  it("the driver stops a run that waits for ever while another fiber keeps time moving", () => {
    const ticking = Effect.forever(Effect.sleep("1 second"))
    const exit = runVirtual(Effect.zipRight(Effect.forkDaemon(ticking), Effect.never), { limitMs: 60_000 })
    expect(exit._tag).toBe("Failure")
    expect(String(exit._tag === "Failure" ? exit.cause : "")).toContain("still running after 60000 ms")
    // Within its limit a run ends as usual.
    expect(runVirtual(Effect.as(Effect.sleep("59 seconds"), "done"), { limitMs: 60_000 })).toMatchObject({ _tag: "Success", value: "done" })
  })
})
