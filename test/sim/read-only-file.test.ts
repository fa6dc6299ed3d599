/**
 * A user who may read but not push, in the file form of presence, on the hub with
 * `read-only:alice` through the real Octokit adapters, in virtual time (issue 9): she is told
 * plainly why nobody can find her and what to ask for, and SkyGit does not send her refused
 * writes in a storm (none at all: the permission is read first); a pusher's presence works.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { readOnlyFilePresence } from "../../src/adapters/github/refusals.js"
import { PRESENCE_REFUSED_RETRY_MS } from "../../src/app/presence-loop.js"
import { Mesh } from "../../src/sim/harness.js"
import { makeHubSimulation, SIM_REPOSITORY } from "../../src/sim/hub-backend.js"
import { ExternalWork, runVirtualAsyncOrThrow } from "../../src/sim/virtual-time.js"

const MINUTES = 30

describe("read-only user in the file form (hub, read-only:alice)", () => {
  it("is told in plain words that file-form presence needs push access, and sends no write", async () => {
    const work = new ExternalWork()
    const outcome = await runVirtualAsyncOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* makeHubSimulation({ users: ["alice", "bob"], presence: "file", minutes: MINUTES, work, faults: ["read-only:alice"] })
          const alice: Array<string> = []
          const bob: Array<string> = []
          sim.hub.onExchange((e) => {
            const line = `${e.method} ${new URL(e.url).pathname} ${e.status}`
            const auth = e.requestHeaders["authorization"] ?? ""
            if (auth.endsWith(sim.hub.tokenOf("alice"))) alice.push(line)
            if (auth.endsWith(sim.hub.tokenOf("bob"))) bob.push(line)
          })
          const mesh = yield* Mesh.make({ presence: "file", backend: sim.backend })
          const a = yield* mesh.start("alice")
          const b = yield* mesh.start("bob")
          yield* Effect.sleep(`${MINUTES} minutes`)
          return { alice, bob, aliceView: yield* a.handle.view, bobView: yield* b.handle.view, rejections: a.handle.state.rejections.map((r) => r.reason) }
        })
      ),
      { work }
    )
    const [owner, repo] = SIM_REPOSITORY.split("/") as [string, string]
    expect(outcome.aliceView.presenceProblem).toBe(readOnlyFilePresence(owner, repo))
    expect(outcome.aliceView.presenceProblem).toMatch(/^You can read .* but not push; file-form presence needs push access/)
    // No write at all, refused or not: the permission is read before writing.
    const writes = outcome.alice.filter((r) => !r.startsWith("GET ") && !r.startsWith("POST /graphql"))
    expect(writes).toEqual([])
    // The permission is read again once per retry period, not every tick (plus the first reads of presence and history).
    const repoReads = outcome.alice.filter((r) => r === `GET /repos/${SIM_REPOSITORY} 200`).length
    expect(repoReads).toBeLessThanOrEqual(Math.ceil((MINUTES * 60_000) / PRESENCE_REFUSED_RETRY_MS) + 3)
    // Said in a bounded number of refusals, not one per tick.
    expect(outcome.rejections.filter((r) => r.includes("presence write failed")).length).toBeLessThanOrEqual(Math.ceil((MINUTES * 60_000) / PRESENCE_REFUSED_RETRY_MS) + 1)
    // bob publishes and sees no such problem.
    expect(outcome.bobView.presenceProblem).toBeUndefined()
    expect(outcome.bob).toContain(`PUT /repos/${SIM_REPOSITORY}/contents/.messages%2Fpresence.json 200`)
  }, 120_000)
})
