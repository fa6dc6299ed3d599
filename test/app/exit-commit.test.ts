/**
 * Commit on the way out, on the memory adapters in virtual time: a closing leader's exit
 * writes land as history, nothing is committed twice by its successor, and what the budget
 * could not carry stays in the device store until a peer that holds it commits it.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseFile } from "../../src/domain/commit-layout.js"
import { ConversationId, MAX_MESSAGE_TEXT, type Message } from "../../src/domain/message.js"
import { Mesh, type MeshOptions } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")
const random = ConversationId.make("random")
const seconds = (n: number) => Effect.sleep(`${n} seconds`)
const minutes = (n: number) => Effect.sleep(`${n} minutes`)

const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

/** How often each message id was committed to the repository. */
const commitCounts = (mesh: Mesh): Map<string, number> => {
  const seen = new Map<string, number>()
  for (const c of mesh.world.commits) for (const f of c.files) for (const m of parseFile(f.path, f.content).messages) seen.set(m.id, (seen.get(m.id) ?? 0) + 1)
  return seen
}

const expectCommittedOnce = (mesh: Mesh, sent: ReadonlyArray<Message>) => {
  const counts = commitCounts(mesh)
  for (const m of sent) expect([m.id, counts.get(m.id)]).toEqual([m.id, 1])
}

describe("commit on the way out", () => {
  it("a closing leader's messages land by exit writes, and its successor commits none of them twice", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob, carol] = yield* Effect.forEach(["alice", "bob", "carol"], (u) => mesh.start(u))
        yield* minutes(1)
        expect(alice!.handle.state.leadership.isLeader).toBe(true)
        const sent = [
          yield* alice!.handle.send(general, "from alice 👋"),
          yield* bob!.handle.send(general, "from bob"),
          yield* carol!.handle.send(random, "from carol")
        ]
        yield* seconds(5)
        const commitsBefore = mesh.world.commits.length
        const started = yield* alice!.handle.commitOnExit("closing")
        expect(started).toEqual({ carried: 3, left: 0, files: 2 })
        // The page is gone right after: no flush, no goodbye.
        yield* mesh.crash(alice!)
        // One commit per conversation file, before anyone else committed.
        expect(mesh.world.commits.length).toBe(commitsBefore + 2)
        yield* minutes(12)
        expect(bob!.handle.state.leadership.isLeader).toBe(true)
        expectCommittedOnce(mesh, sent)
        // The successor learned they are committed instead of committing them again.
        yield* bob!.handle.flushNow
        expectCommittedOnce(mesh, sent)
      })
    ))

  it("a page that outlives its exit write marks the messages committed, and the next flush does not repeat them", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* minutes(2)
        expect(alice.handle.state.leadership.isLeader).toBe(true)
        const first = yield* alice.handle.send(general, "before hiding")
        expect((yield* alice.handle.commitOnExit("hidden")).carried).toBe(1)
        // A second exit write while the first is under way carries nothing again.
        expect((yield* alice.handle.commitOnExit("closing")).carried).toBe(0)
        yield* seconds(2)
        const second = yield* alice.handle.send(general, "after coming back")
        const report = yield* alice.handle.flushNow
        expect(report.committed.map((m) => m.id)).toEqual([second.id])
        expectCommittedOnce(mesh, [first, second])
      })
    ))

  it("a page hidden again soon writes nothing more (tab switches do not spend the write budget); closing still writes", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* minutes(2)
        yield* alice.handle.send(general, "one")
        expect((yield* alice.handle.commitOnExit("hidden")).carried).toBe(1)
        yield* seconds(10)
        const two = yield* alice.handle.send(general, "two")
        const writes = mesh.world.commits.length
        expect((yield* alice.handle.commitOnExit("hidden")).carried).toBe(0)
        expect(mesh.world.commits.length).toBe(writes)
        expect((yield* alice.handle.commitOnExit("closing")).carried).toBe(1)
        yield* seconds(2)
        expectCommittedOnce(mesh, [two])
        yield* minutes(1)
        yield* alice.handle.send(general, "three")
        expect((yield* alice.handle.commitOnExit("hidden")).carried).toBe(1)
      })
    ))

  it("what the budget cannot carry stays in the device store and is committed when that browser comes back", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice", undefined, "tab1")
        yield* minutes(2)
        const sent: Array<Message> = []
        // 20 messages of 8,000 characters (about 200 KB in base64): far over a keepalive budget.
        for (let i = 0; i < 20; i++) sent.push(yield* alice.handle.send(general, `${i}`.padEnd(MAX_MESSAGE_TEXT, "x")))
        const started = yield* alice.handle.commitOnExit("closing")
        expect(started.carried).toBeGreaterThan(0)
        expect(started.left).toBe(20 - started.carried)
        expect(started.left).toBeGreaterThan(0)
        yield* mesh.crash(alice)
        const written = [...commitCounts(mesh).keys()]
        expect(written.length).toBe(started.carried)
        // The same browser (device store) opens SkyGit again: the rest is committed, nothing twice.
        yield* mesh.start("alice", alice.store, "tab2")
        yield* minutes(10)
        expectCommittedOnce(mesh, sent)
      })
    ))

  it("counts what would wait if the page closed: messages nobody else holds that no exit write can carry", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* minutes(2)
        yield* alice.handle.send(general, "alone")
        // Alone and leading: the exit write carries it. Offline: it would wait.
        expect(yield* alice.handle.waitingOnExit(true)).toBe(0)
        expect(yield* alice.handle.waitingOnExit(false)).toBe(1)
        for (let i = 0; i < 20; i++) yield* alice.handle.send(general, `${i}`.padEnd(MAX_MESSAGE_TEXT, "y"))
        const over = yield* alice.handle.waitingOnExit(true)
        expect(over).toBeGreaterThan(0)
        expect(over).toBeLessThan(21)
        // Someone else holds them once they are delivered: nothing would wait.
        yield* mesh.start("bob")
        yield* minutes(1)
        expect(yield* alice.handle.waitingOnExit(false)).toBe(0)
      })
    ))

  it("a non-leader writes nothing on the way out: it hands its messages to the leader", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* minutes(1)
        const m = yield* bob!.handle.send(general, "bob leaves")
        yield* seconds(1)
        const before = mesh.world.commits.length
        expect((yield* bob!.handle.commitOnExit("closing")).carried).toBe(0)
        expect(mesh.world.commits.length).toBe(before)
        yield* mesh.stop(bob!)
        yield* seconds(2)
        expect(alice!.handle.state.leadership.isLeader).toBe(true)
        yield* alice!.handle.flushNow
        expectCommittedOnce(mesh, [m])
      })
    ))
})
