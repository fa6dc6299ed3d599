/**
 * A user who may read but not push, in the file form of presence, on the hub with
 * `read-only:alice` through the real Octokit adapters, in virtual time (issue 9): she joins
 * through the lobby (the presence Discussion), sends no write GitHub would refuse, and is
 * connected to bob; what the lobby costs bob, the pusher, stays within its reading pace.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { LOBBY_FAST_MS, LOBBY_KNOCK_FAST_FOR_MS, LOBBY_ANSWER_FAST_FOR_MS, LOBBY_SLOW_MS } from "../../src/adapters/presence-lobby.js"
import { Mesh } from "../../src/sim/harness.js"
import { makeHubSimulation, SIM_REPOSITORY } from "../../src/sim/hub-backend.js"
import { ExternalWork, runVirtualAsyncOrThrow } from "../../src/sim/virtual-time.js"

const MINUTES = 30

const run = (users: ReadonlyArray<string>, faults: ReadonlyArray<string>) => {
  const work = new ExternalWork()
  return runVirtualAsyncOrThrow(
    Effect.scoped(
      Effect.gen(function* () {
        const sim = yield* makeHubSimulation({ users, presence: "file", minutes: MINUTES, work, faults })
        const requests = new Map(users.map((u) => [u, [] as Array<string>]))
        sim.hub.onExchange((e) => {
          const query = String((e.requestBody as { query?: unknown } | undefined)?.query ?? "")
          const line = `${e.method} ${new URL(e.url).pathname} ${e.status}${/^\s*mutation\b/.test(query) ? " mutation" : ""}`
          const auth = e.requestHeaders["authorization"] ?? ""
          for (const u of users) if (auth.endsWith(sim.hub.tokenOf(u))) requests.get(u)!.push(line)
        })
        const mesh = yield* Mesh.make({ presence: "file", backend: sim.backend })
        const peers = []
        for (const u of users) peers.push(yield* mesh.start(u))
        yield* Effect.sleep(`${MINUTES} minutes`)
        const views = []
        for (const p of peers) views.push(yield* p.handle.view)
        return { requests, views }
      })
    ),
    { work }
  )
}

const graphqlOf = (lines: ReadonlyArray<string>): number => lines.filter((r) => r.startsWith("POST /graphql")).length

describe("read-only user in the file form (hub, read-only:alice)", () => {
  it("joins through the lobby, sends no write GitHub would refuse, and connects to the pusher", async () => {
    const { requests, views } = await run(["alice", "bob"], ["read-only:alice"])
    const [alice, bob] = views
    expect(alice!.presenceProblem).toBeUndefined()
    expect(alice!.people.some((p) => p.username === "bob" && p.sessions.some((s) => s.state === "open"))).toBe(true)
    expect(bob!.people.some((p) => p.username === "alice" && p.sessions.some((s) => s.state === "open"))).toBe(true)
    // No REST write at all, refused or not: the permission is read before writing, and the lobby is GraphQL.
    const aliceWrites = requests.get("alice")!.filter((r) => !r.startsWith("GET ") && !r.startsWith("POST /graphql"))
    expect(aliceWrites).toEqual([])
    // bob writes the file and reads the lobby at its pace: slow, plus a fast period per knock and per answer.
    expect(requests.get("bob")).toContain(`PUT /repos/${SIM_REPOSITORY}/contents/.messages%2Fpresence.json 200`)
    const slow = (MINUTES * 60_000) / LOBBY_SLOW_MS
    const fast = (LOBBY_KNOCK_FAST_FOR_MS + 2 * LOBBY_ANSWER_FAST_FOR_MS) / LOBBY_FAST_MS
    expect(graphqlOf(requests.get("bob")!)).toBeLessThanOrEqual(Math.ceil(slow + fast) + 5)
  }, 120_000)

  it("pushers alone never create the lobby, and only ask rarely whether one exists", async () => {
    const { requests } = await run(["bob", "carol"], [])
    for (const u of ["bob", "carol"]) {
      const lines = requests.get(u)!
      // At most one look per probe period (3 minutes), and never a mutation.
      expect(graphqlOf(lines)).toBeLessThanOrEqual(MINUTES / 3 + 1)
      expect(lines.filter((r) => r.endsWith(" mutation"))).toEqual([])
    }
  }, 120_000)
})
