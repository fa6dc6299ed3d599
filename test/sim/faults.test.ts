/** Whole-mesh behaviour under faults, in virtual time on the memory adapters. */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { MAX_ENVELOPE_BYTES } from "../../src/domain/envelope.js"
import { parseFile } from "../../src/domain/commit-layout.js"
import { peerKey, samePeer } from "../../src/domain/identity.js"
import { ConversationId, type Message } from "../../src/domain/message.js"
import { Mesh, type MeshOptions, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"
import { simulate } from "../../src/sim/simulate.js"

const general = ConversationId.make("general")
const minutes = (n: number) => Effect.sleep(`${n} minutes`)
const seconds = (n: number) => Effect.sleep(`${n} seconds`)

const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

/** Every message committed to the repository, with how often and when it was first committed. */
const committed = (mesh: Mesh) => {
  const seen = new Map<string, { count: number; at: number }>()
  for (const c of mesh.world.commits) {
    for (const f of c.files) {
      for (const m of parseFile(f.path, f.content).messages) {
        const s = seen.get(m.id)
        seen.set(m.id, { count: (s?.count ?? 0) + 1, at: Math.min(s?.at ?? c.at, c.at) })
      }
    }
  }
  return seen
}

const leaderOf = (peers: ReadonlyArray<SimPeer>) => peers.find((p) => p.handle.state.leadership.isLeader)

const chatter = (peers: ReadonlyArray<SimPeer>, label: string) =>
  Effect.forEach(peers, (p, i) => p.handle.send(general, `${label} ${i} ✓`))

describe("faults", () => {
  it("the leader dies without flushing and a new leader commits everything within 10 minutes", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const peers = yield* Effect.forEach(["alice", "bob", "carol", "dave"], (u) => mesh.start(u))
        yield* minutes(2)
        const sent: Array<Message> = [...(yield* chatter(peers, "before"))]
        yield* minutes(5)
        const leader = leaderOf(mesh.running)!
        expect(leader.id.username).toBe("alice")
        expect(mesh.world.commits.length).toBe(0)
        yield* mesh.crash(leader)
        yield* seconds(30)
        sent.push(...(yield* chatter(mesh.running, "after")))
        yield* minutes(10)
        const newLeader = leaderOf(mesh.running)!
        expect(newLeader.id.username).toBe("bob")
        const got = committed(mesh)
        for (const m of sent) {
          expect(got.get(m.id)?.count).toBe(1)
          expect(got.get(m.id)!.at - m.sentAt).toBeLessThanOrEqual(10 * 60_000)
        }
      })
    ))

  it("a partition makes two leaders; after healing nothing is lost or duplicated", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const users = ["p0", "p1", "p2", "p3", "p4", "p5"]
        yield* Effect.forEach(users, (u) => mesh.start(u))
        yield* minutes(2)
        const sent: Array<Message> = [...(yield* chatter(mesh.running, "together"))]
        yield* mesh.network.partition((p) => Number(p.username.slice(1)) % 2)
        yield* minutes(2)
        const leaders = mesh.running.filter((p) => p.handle.state.leadership.isLeader).map((p) => p.id.username)
        expect(leaders.sort()).toEqual(["p0", "p1"])
        sent.push(...(yield* chatter(mesh.running, "apart")))
        yield* minutes(12)
        yield* mesh.network.heal
        sent.push(...(yield* chatter(mesh.running, "healed")))
        yield* minutes(12)
        expect(mesh.running.filter((p) => p.handle.state.leadership.isLeader).map((p) => p.id.username)).toEqual(["p0"])
        const got = committed(mesh)
        for (const m of sent) expect(got.get(m.id)?.count).toBe(1)
        expect(got.size).toBe(sent.length)
      })
    ))

  it("a 409 storm is absorbed: re-read, merge, retry, and nothing is lost", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const peers = yield* Effect.forEach(["alice", "bob", "carol"], (u) => mesh.start(u))
        yield* minutes(2)
        const sent = yield* chatter(peers, "storm")
        mesh.world.faults.conflicts = 20
        yield* minutes(12)
        expect(mesh.world.faults.conflicts).toBe(0)
        const got = committed(mesh)
        for (const m of sent) expect(got.get(m.id)?.count).toBe(1)
        expect(Array.from(mesh.world.stats.values()).reduce((n, s) => n + s.conflicts, 0)).toBeGreaterThanOrEqual(20)
      })
    ))

  it("a rate limit widens polls, raises a notice, and loses nothing", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const peers = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* minutes(2)
        const before = mesh.world.statsOf("bob").notModified + mesh.world.statsOf("bob").requests
        mesh.world.faults.rateLimitedUntil = (yield* Effect.clockWith((c) => c.currentTimeMillis)) + 10 * 60_000
        const sent = yield* chatter(peers, "limited")
        yield* minutes(1)
        const view = yield* peers[1]!.handle.view
        expect(view.rateNotice?.limit).toBe("secondary")
        yield* minutes(9)
        // Refused requests cost nothing, and the poller waited instead of hammering.
        expect(mesh.world.statsOf("bob").rateLimited).toBeLessThan(10)
        expect(mesh.world.statsOf("bob").notModified + mesh.world.statsOf("bob").requests).toBe(before)
        yield* minutes(10)
        const got = committed(mesh)
        for (const m of sent) expect(got.get(m.id)?.count).toBe(1)
        expect((yield* peers[1]!.handle.view).rateNotice).toBeUndefined()
      })
    ))

  it("a peer whose heartbeats stop is marked offline and the mesh goes on", () =>
    scenario({ presence: "file", network: { consentTimeoutMs: 60 * 60_000 } }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob, carol] = yield* Effect.forEach(["alice", "bob", "carol"], (u) => mesh.start(u))
        yield* minutes(2)
        // Carol's frames stop arriving, but no connection reports a failure: only heartbeats can tell.
        yield* mesh.network.partition((p) => (p.username === "carol" ? 1 : 0))
        yield* seconds(45)
        const view = yield* alice!.handle.view
        expect(view.links.find((l) => samePeer(l.peer, carol!.id))?.state).not.toBe("open")
        expect(view.component.map(peerKey)).not.toContain(peerKey(carol!.id))
        yield* bob!.handle.send(general, "still talking")
        yield* seconds(5)
        expect((yield* alice!.handle.history(general, 5)).map((m) => m.text)).toContain("still talking")
      })
    ))

  it("one user in two tabs: two sessions, one leader, both get the chat", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const tab1 = yield* mesh.start("alice", undefined, "tab-b")
        const tab2 = yield* mesh.start("ALICE", undefined, "tab-a")
        const bob = yield* mesh.start("bob")
        yield* minutes(2)
        const views = yield* Effect.forEach([tab1, tab2, bob], (p) => p.handle.view)
        for (const v of views) expect(v.leader && peerKey(v.leader)).toBe(peerKey(tab2.id))
        expect(mesh.running.filter((p) => p.handle.state.leadership.isLeader).map((p) => p.id.sessionId)).toEqual(["tab-a"])
        yield* bob.handle.send(general, "hi both tabs")
        yield* seconds(5)
        for (const tab of [tab1, tab2]) expect((yield* tab.handle.history(general, 5)).map((m) => m.text)).toEqual(["hi both tabs"])
      })
    ))

  it("hostile input is rejected with a reason and every peer stays up", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* minutes(1)
        const envelope = (from: string, text: string) =>
          JSON.stringify({
            v: 1,
            id: `x${text.length}`,
            type: "chat",
            from: { username: from, sessionId: from === "bob" ? bob!.id.sessionId : "s9" },
            to: null,
            timestamp: 1,
            payload: { _tag: "message", message: { id: "m1", conversation: "general", author: from, session: "s9", sentAt: 1, text } }
          })
        yield* mesh.network.injectRaw(bob!.id, alice!.id, envelope("mallory", "I am not bob"))
        yield* mesh.network.injectRaw(bob!.id, alice!.id, "{{{ not json")
        yield* mesh.network.injectRaw(bob!.id, alice!.id, JSON.stringify({ type: "chat", from: 42 }))
        yield* mesh.network.injectRaw(bob!.id, alice!.id, "x".repeat(MAX_ENVELOPE_BYTES + 1))
        // A frame from bob's connection claiming to be a message authored by carol.
        yield* mesh.network.injectRaw(bob!.id, alice!.id, envelope("bob", "forged author").replace('"author":"bob"', '"author":"carol"'))
        mesh.world.writePresenceFile('{"version":1,"entries":[{"username":"<script>","session_id":"x","last_seen":"never"}],"signals":"nope"}')
        yield* seconds(20)
        const reasons = (yield* alice!.handle.view).rejections.map((r) => r.reason)
        expect(reasons.some((r) => r.startsWith("spoofed-sender"))).toBe(true)
        expect(reasons.filter((r) => r.startsWith("malformed")).length).toBeGreaterThanOrEqual(2)
        expect(reasons.some((r) => r.startsWith("oversized"))).toBe(true)
        expect(reasons.some((r) => r.includes("claims author carol"))).toBe(true)
        // The unreadable document was refused with a reason (and, since issue 13, promptly repaired,
        // so the notice it raised is already gone).
        expect(reasons.some((r) => r.startsWith("presence-unreadable"))).toBe(true)
        expect((yield* alice!.handle.view).presenceProblem).toBeUndefined()
        expect(yield* alice!.handle.history(general, 5)).toEqual([])
        // Still up: chat flows and the presence document is repaired by the next write.
        yield* bob!.handle.send(general, "after the attack")
        yield* minutes(3)
        expect((yield* alice!.handle.history(general, 5)).map((m) => m.text)).toEqual(["after the attack"])
        const carol = yield* mesh.start("carol")
        yield* minutes(1)
        expect((yield* carol.handle.view).links.filter((l) => l.state === "open").length).toBe(2)
      })
    ))
})

describe("regressions", () => {
  it("messages handed to a new leader that is still settling in are kept (seed 2 lost 12 of them)", () => {
    // The leader crashed, its user came back as the smallest peer and took over; the
    // hand-off reached it a moment before it acted as leader and was dropped.
    const report = runVirtualOrThrow(
      simulate({ peers: 10, minutes: 60, presence: "file", seed: 2, history: 0, faults: ["crash", "partition"] })
    )
    expect(report.messagesSent).toBeGreaterThan(200)
    expect(report.messagesLost).toBe(0)
    expect(report.duplicatesCommitted).toBe(0)
    expect(report.maxCommitLatencyMs).toBeLessThanOrEqual(10 * 60_000)
  }, 120_000)
})

describe("restarts", () => {
  it("a leader that crashes and comes straight back joins at once instead of waiting for its own old entry", () =>
    // Regression: the new session took its predecessor's lingering entry for the sponsor and
    // waited for an offer from it, leading a mesh of one meanwhile.
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* Effect.forEach(["bob", "carol"], (u) => mesh.start(u))
        yield* minutes(2)
        const store = alice.store
        yield* mesh.crash(alice)
        yield* seconds(20)
        const again = yield* mesh.start("alice", store)
        yield* seconds(60)
        const view = yield* again.handle.view
        expect(view.links.filter((l) => l.state === "open").length).toBe(2)
        expect(mesh.running.filter((p) => p.handle.state.leadership.isLeader).map((p) => peerKey(p.id))).toEqual([peerKey(again.id)])
      })
    ))
})
