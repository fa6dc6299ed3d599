/** Issue 8: catch-up when a link opens, message states, "save now" (virtual time, memory adapters). */
import { describe, expect, it } from "vitest"
import { Clock, Effect, Fiber, Stream } from "effect"
import { ConversationId, directConversation, makeMessageId, type Message } from "../../src/domain/message.js"
import { layoutBatch } from "../../src/domain/commit-layout.js"
import { Mesh, type MeshOptions, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"
import { HELD_ACKNOWLEDGERS } from "../../src/domain/delivery.js"
import type { MessageStatus } from "../../src/app/message-state.js"
import { simulate, simulationLimitMs } from "../../src/sim/simulate.js"
import { randomSchedule } from "../../src/sim/fault-schedule.js"

const general = ConversationId.make("general")
const seconds = (n: number) => Effect.sleep(`${n} seconds`)

const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

const shown = (p: SimPeer) => Effect.as(p.collectDisplayed, p.displayed)
const held = (p: SimPeer, m: Message) => Effect.map(p.handle.history(m.conversation, 100), (h) => h.some((x) => x.id === m.id))
const linksOpen = (p: SimPeer) => Effect.map(p.handle.view, (v) => v.links.filter((l) => l.state === "open").length)

describe("catch-up when a link opens", () => {
  it.each(["file", "discussion"] as const)(
    "a message sent before the mesh formed is shown by the others once their link opens (%s)",
    (presence) =>
      scenario({ presence }, (mesh) =>
        Effect.gen(function* () {
          const alice = yield* mesh.start("alice")
          const bob = yield* mesh.start("bob")
          const carol = yield* mesh.start("carol")
          const early = yield* alice.handle.send(general, "anyone here?")
          expect(yield* linksOpen(alice)).toBe(0)
          yield* seconds(90)
          for (const p of [bob, carol]) {
            expect(yield* linksOpen(p)).toBe(2)
            expect((yield* shown(p)).has(early.id)).toBe(true)
            expect(yield* held(p, early)).toBe(true)
          }
        })
      )
  )

  it("a partition that heals: each side shows what the other said", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const peers = yield* Effect.forEach(["p0", "p1", "p2", "p3"], (u) => mesh.start(u))
        yield* seconds(60)
        yield* mesh.network.partition((p) => (Number(p.username.slice(1)) % 2 === 0 ? 0 : 1))
        yield* seconds(60)
        const even = yield* peers[0]!.handle.send(general, "even side")
        const odd = yield* peers[1]!.handle.send(general, "odd side")
        yield* seconds(5)
        expect((yield* shown(peers[1]!)).has(even.id)).toBe(false)
        yield* mesh.network.heal
        // The two sides find each other again through presence (the sponsor, or a patient bridge).
        yield* Effect.sleep("8 minutes")
        for (const p of peers) {
          expect(yield* linksOpen(p)).toBe(3)
          const ids = yield* shown(p)
          expect([ids.has(even.id), ids.has(odd.id)]).toEqual([true, true])
        }

      })
    ))

  it("a cut shorter than the consent timeout delays what was sent across it, and loses nothing (a data channel is reliable)", () =>
    // Soak file seed 14798: a 4 s partition dropped a message on a link that stayed open, and the
    // other side never showed it in that session (the simulated network, not SCTP, lost it).
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* seconds(60)
        yield* mesh.network.partition((p) => (p.username === "alice" ? 0 : 1))
        const across = yield* bob!.handle.send(general, "sent while cut off")
        yield* seconds(3)
        expect((yield* shown(alice!)).has(across.id)).toBe(false)
        yield* mesh.network.heal
        yield* seconds(1)
        expect((yield* shown(alice!)).has(across.id)).toBe(true)
        expect(yield* linksOpen(alice!)).toBe(1)
      })
    ))

  it("a peer restarting from its device store brings what only it held to the others", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* seconds(5)
        const lonely = yield* alice.handle.send(general, "before anyone came")
        yield* mesh.crash(alice)
        const bob = yield* mesh.start("bob")
        yield* seconds(30)
        const again = yield* mesh.start("alice", alice.store)
        yield* seconds(90)
        expect(yield* linksOpen(again)).toBe(1)
        expect((yield* shown(bob)).has(lonely.id)).toBe(true)
      })
    ))

  // Regression (soak, Discussion seed 924): a session started while GitHub refused every request
  // could not load the history, never tried again, and never showed what was committed while its
  // device was away (its peers had committed it, so catch-up did not bring it either).
  it.each(["file", "discussion"] as const)("a session started during a rate limit loads its history once GitHub answers (%s)", (presence) =>
    scenario({ presence }, (mesh) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        const earlier: Message = { id: makeMessageId("carol-s1", t - 60_000, 1), conversation: general, author: "carol" as Message["author"], session: "s1" as Message["session"], sentAt: t - 60_000, text: "said while you were away" }
        mesh.world.appendCommit("carol", t - 30_000, layoutBatch([earlier], t - 30_000))
        mesh.world.faults.rateLimitedUntil = t + 3 * 60_000
        const alice = yield* mesh.start("alice")
        yield* seconds(60)
        expect((yield* shown(alice)).has(earlier.id)).toBe(false)
        yield* Effect.sleep("6 minutes")
        expect((yield* shown(alice)).has(earlier.id)).toBe(true)
      })
    )
  )

  // Regression (soak, file seed 134): a crashed leader came back from its device store and,
  // leading at once, committed what the store held before its links opened. Catch-up offered
  // only pending and held messages, so the others never saw what it had said in the partition.
  // Bob's own look at the branch (`historyWatchMs`) would show it too, while the partition lasts:
  // switched off here, so this tests catch-up, which is what brings it to non-leaders.
  const catchUpOnly = { presence: "file", config: { historyWatchMs: 24 * 60 * 60_000 } } as const
  /** Alice and bob meet, then a partition parts them and alice says something only she holds. */
  const aliceAloneSays = (mesh: Mesh) =>
    Effect.gen(function* () {
      const alice = yield* mesh.start("alice")
      const bob = yield* mesh.start("bob")
      yield* seconds(60)
      expect(yield* linksOpen(alice)).toBe(1)
      yield* mesh.network.partition((p) => (p.username === "alice" ? 0 : 1))
      yield* seconds(5)
      return { alice, bob, lonely: yield* alice.handle.send(general, "said in the partition") }
    })
  const isCommitted = (mesh: Mesh, m: Message) => mesh.world.commits.some((c) => c.files.some((f) => f.content.includes(m.id)))
  it("a peer restarting from its device store brings what only it held, though it commits that first", () =>
    scenario(catchUpOnly, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, lonely } = yield* aliceAloneSays(mesh)
        yield* mesh.crash(alice)
        yield* seconds(20)
        const again = yield* mesh.start("alice", alice.store)
        // Alone on her side, the new session leads and commits what the store held.
        yield* Effect.sleep("11 minutes")
        expect(isCommitted(mesh, lonely)).toBe(true)
        expect((yield* shown(bob)).has(lonely.id)).toBe(false)
        yield* mesh.network.heal
        yield* Effect.sleep("4 minutes")
        expect(yield* linksOpen(again)).toBe(1)
        expect((yield* shown(bob)).has(lonely.id)).toBe(true)
      })
    ))

  // Regression (soak, file seed 9100): as above, but the new session started while GitHub rate
  // limited. Its links opened before its history load got through, so its summaries lacked what
  // the store held as committed; the load then brought it in, and nobody asked again: the others
  // ran for ten more minutes without ever showing it.
  it("a peer whose history loads after its links opened offers what that load brought", () =>
    scenario(catchUpOnly, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob, lonely } = yield* aliceAloneSays(mesh)
        yield* Effect.sleep("11 minutes")
        expect(isCommitted(mesh, lonely)).toBe(true)
        yield* mesh.crash(alice)
        yield* mesh.network.heal
        const t = yield* Clock.currentTimeMillis
        mesh.world.faults.rateLimitedUntil = t + 4 * 60_000
        const again = yield* mesh.start("alice", alice.store)
        yield* Effect.sleep("5 minutes")
        expect(yield* linksOpen(again)).toBe(1)
        yield* Effect.sleep("5 minutes")
        expect((yield* shown(again)).has(lonely.id)).toBe(true)
        expect((yield* shown(bob)).has(lonely.id)).toBe(true)
      })
    ))

  // Two homes whose mesh never forms (no TURN, a symmetric NAT): each side leads its own
  // component and commits what it hears, and neither session ever read what the other committed.
  it.each(["file", "discussion"] as const)("people online together whose mesh never forms see each other's messages once committed (%s)", (presence) =>
    scenario({ presence }, (mesh) =>
      Effect.gen(function* () {
        yield* mesh.network.partition((p) => (p.username === "alice" ? 0 : 1))
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        const carol = yield* mesh.start("carol")
        yield* Effect.sleep("2 minutes")
        expect(yield* linksOpen(alice)).toBe(0)
        expect(yield* linksOpen(carol)).toBe(1)
        const fromAlice = yield* alice.handle.send(general, "can anyone hear me?")
        const fromBob = yield* bob.handle.send(general, "hello? anyone?")
        // Committed within the 10-minute promise; the other side's leader sees the branch move
        // within its next look, and catch-up brings it to the rest of its component.
        yield* Effect.sleep("13 minutes")
        expect(yield* linksOpen(alice)).toBe(0)
        expect((yield* shown(bob)).has(fromAlice.id)).toBe(true)
        expect((yield* shown(carol)).has(fromAlice.id)).toBe(true)
        expect((yield* shown(alice)).has(fromBob.id)).toBe(true)
      })
    ))

  it("direct messages are caught up only to their two users", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        const dm = yield* alice.handle.send(directConversation("alice", "bob"), "just you", { username: "bob" as Message["author"] })
        const carol = yield* mesh.start("carol")
        yield* seconds(90)
        expect(yield* linksOpen(carol)).toBe(2)
        expect((yield* shown(bob)).has(dm.id)).toBe(true)
        expect((yield* shown(carol)).has(dm.id)).toBe(false)
        expect(yield* held(carol, dm)).toBe(false)
      })
    ))
})

describe("message states", () => {
  it("go from sending to delivered to saved, with the commit's sha; the view counts what waits", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        const statuses = yield* Effect.fork(Stream.runCollect(Stream.take(bob.handle.statuses, 3)))
        yield* seconds(60)
        const m = yield* bob.handle.send(general, "hello")
        expect((yield* bob.handle.view).waiting).toBe(1)
        yield* seconds(2)
        expect((yield* bob.handle.stateOf(m))._tag).toBe("delivered")
        // bob is not the leader (alice is smaller): he asks her to save now.
        expect((yield* bob.handle.view).isLeader).toBe(false)
        expect((yield* bob.handle.saveNow)._tag).toBe("asked")
        yield* seconds(5)
        const saved = yield* bob.handle.stateOf(m)
        expect(saved._tag).toBe("saved")
        expect(saved._tag === "saved" && saved.sha).toBe(mesh.world.head)
        expect((yield* bob.handle.view).waiting).toBe(0)
        const seen = Array.from(yield* Fiber.join(statuses)).map((s: MessageStatus) => `${s.id === m.id}:${s.state._tag}`)
        expect(seen).toEqual(["true:sending", "true:delivered", "true:saved"])
        expect(mesh.world.commits.length).toBe(1)
      })
    ))

  it("a message no other peer has stays sending; the leader's save now commits at once", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* seconds(70)
        const m = yield* alice.handle.send(general, "alone")
        yield* seconds(5)
        expect((yield* alice.handle.stateOf(m))._tag).toBe("sending")
        const outcome = yield* alice.handle.saveNow
        expect(outcome._tag === "committed" && outcome.report.committed.map((x) => x.id)).toEqual([m.id])
        expect((yield* alice.handle.stateOf(m))._tag).toBe("saved")
      })
    ))
})

describe("acknowledgements of a held message", () => {
  // Every recipient used to acknowledge every message to its author: 49 frames per message in a
  // mesh of 50 (70,000 an hour in the 50-peer simulation), where the first one already says "delivered".
  it("a few of the author's neighbors tell it that they hold a message to everyone; everyone in a direct one", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const peers = []
        for (const name of ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]) peers.push(yield* mesh.start(name))
        yield* seconds(180)
        for (const p of peers) expect(yield* linksOpen(p)).toBe(7)
        const author = peers[7]!
        const held = () => mesh.network.stats.deliveredByKind.get("held") ?? 0
        const before = held()
        const m = yield* author.handle.send(general, "to everyone")
        yield* seconds(2)
        expect((yield* author.handle.stateOf(m))._tag).toBe("delivered")
        expect(held() - before).toBe(HELD_ACKNOWLEDGERS)
        for (const p of peers.slice(0, 7)) expect((yield* shown(p)).has(m.id)).toBe(true)
        const beforeDirect = held()
        const dm = yield* author.handle.send(directConversation("p7", "p8"), "to p7", { username: "p7" as Message["author"] })
        yield* seconds(2)
        expect((yield* author.handle.stateOf(dm))._tag).toBe("delivered")
        // p7, whose sessions it is for, and the leader (p1), which commits it.
        expect(held() - beforeDirect).toBe(2)
      })
    ))
})

describe("losses found by the soak", () => {
  // npm run sim -- --peers 8 --minutes 45 --presence discussion --seed 1 --faults crash,partition,conflict,ratelimit
  // lost 21 messages: the storm of 12 compare-and-swap losses at minute 40 met the leader's
  // closing flush, which gave up after 6 attempts with no next tick to try again.
  it.each(["file", "discussion"] as const)("a leader closing during a conflict storm still commits everything (%s)", (presence) =>
    scenario({ presence }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        yield* seconds(70)
        const sent = [yield* alice.handle.send(general, "one"), yield* bob.handle.send(general, "two")]
        yield* seconds(2)
        mesh.world.faults.conflicts += 12
        yield* mesh.shutdown
        const committed = new Set(mesh.world.commits.flatMap((c) => c.files.flatMap((f) => f.content.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id as string))))
        expect(sent.map((m) => committed.has(m.id))).toEqual([true, true])
      })
    )
  )

  // Regression (soak, file seed 100, which ran for ever): a leader crashed inside its commit, and
  // the device came back from the committer's uninterruptible region. Every fiber of the new
  // session inherited it, so crashing that session later waited for ever on fibers that could
  // not be interrupted, while the others kept virtual time moving.
  it("a session started from an uninterruptible region can still be crashed and stopped", () => {
    const ended = runVirtualOrThrow(
      Effect.scoped(
        Effect.flatMap(Mesh.make({ presence: "file" }), (mesh) =>
          Effect.gen(function* () {
            const bob = yield* mesh.start("bob")
            const alice = yield* Effect.uninterruptible(mesh.start("alice"))
            const carol = yield* Effect.uninterruptible(mesh.start("carol"))
            yield* seconds(60)
            expect(yield* linksOpen(alice)).toBe(2)
            yield* alice.handle.send(general, "about to go")
            yield* mesh.crash(alice)
            yield* mesh.stop(carol)
            yield* mesh.stop(bob)
            return mesh.running.length
          })
        )
      ),
      { limitMs: 10 * 60_000 }
    )
    expect(ended).toBe(0)
  })

  // Messages the soak found unseen, each with the schedule that showed it. Replay one with
  // npm run sim -- --peers 4 --minutes 20 --presence FORM --seed S --schedule random --json
  it.each([
    // A sponsor that wrote often never saw the other side refresh its entries: the memory
    // adapter took the version its own lost race had fetched for "unchanged" (file seed 38).
    { presence: "file", seed: 38 },
    // After a 411 s partition the sponsor's offers were 10 minutes apart: the mesh stayed split
    // long after the heal (file seed 16). A link lost to a session still refreshed rejoins briskly.
    { presence: "file", seed: 16 },
    // A crashed leader's restarted session wrote its comment blind and dropped the predecessor's
    // signing key: another restarted session could not verify its relayed messages (Discussion seed 17).
    { presence: "discussion", seed: 17 },
    // The simulated clock stood between two milliseconds when a message was sent: its sentAt was
    // fractional, the Message schema refused it at every commit, and the run failed (file seed 64).
    // Peers take the time in whole milliseconds, as Date.now gives it.
    { presence: "file", seed: 64 },
    // Two halves stayed split for the last nine minutes: the sponsor's offers to the other half's
    // bridge failed in the partition and in a rate limit, so its presence backoff reached 8 minutes,
    // although that session had answered each offer (file seed 231). A session that answers
    // is retried briskly, like one whose open link was lost.
    { presence: "file", seed: 231 },
    // A session declined a presence offer while a smaller member of its component was to answer,
    // and never looked at it again when that member left; and a route through the mesh waited out
    // the presence backoff of minutes (file seed 296). An offer left for another member is looked
    // at again at each read; a route through the mesh waits only the reconnect backoff.
    { presence: "file", seed: 296 },
    // A leader crashed, came back from its device store and, leading at once, committed what the
    // store held before its links opened: catch-up, which offered only pending and held messages,
    // no longer had them, and the others never saw them (file seed 134). What the store held
    // uncommitted at the start belongs to the session's window.
    { presence: "file", seed: 134 },
    { presence: "discussion", seed: 197 },
    // A leader crashed inside its commit: the device came back from the committer's uninterruptible
    // region, so its session's fibers could not be interrupted, and its next crash froze the run
    // (file seed 100 ran for ever). Background fibers are interruptible whoever forks them.
    { presence: "file", seed: 100 },
    // The simulated clock went fractional after a jittered sleep: a relay stamped the envelope it
    // forwarded with that time, and every receiver refused it as malformed, so a restarted leader
    // never reached two members through the mesh (file seed 791). Virtual timers fire on whole ms.
    { presence: "file", seed: 791 },
    // A partition healed 6 minutes before the end and the two sides were still apart at the end:
    // each counted the other's entries only once refreshed after the cut, a refresh period later,
    // and Discussion reads are slow (Discussion seed 536). The refresher refreshes soon after a cut.
    { presence: "discussion", seed: 536 },
    // A session started during a rate limit never loaded the history committed while its device
    // was away (Discussion seed 924). A failed history load is tried again.
    { presence: "discussion", seed: 924 },
    // After a partition healed, the sponsor on one side never offered to the smallest session of
    // the other, because both were its own user's: an entry of this user from before its start,
    // outside its mesh, was taken for a crashed predecessor until its next refresh (four minutes),
    // and the mesh stayed split to the end (Discussion seed 5007). Offers go to such sessions;
    // only roles skip them.
    { presence: "discussion", seed: 5007 }
  ] as const)("every message is seen by every user and committed once ($presence seed $seed)", ({ presence, seed }) => {
    const report = runVirtualOrThrow(simulate({ peers: 4, minutes: 20, presence, seed, history: 0, faults: [], schedule: randomSchedule(seed, 20) }), {
      limitMs: simulationLimitMs(20)
    })
    expect({ lost: report.messagesLost, unseen: report.messagesUnseen, duplicates: report.duplicatesCommitted }).toEqual({ lost: 0, unseen: 0, duplicates: 0 })
    expect(report.messagesSent).toBeGreaterThan(20)
  })
})

describe("the commit promise and devices that are off", () => {
  // Discussion seed 12274: a message sent as a partition cut in reached only the leader of its
  // side. The leader crashed at 706 s, 404 s later (its commit was due at 8 minutes), and the
  // author's device crashed at 715 s: from then until the leader's device came back at 865 s no
  // running device held the message, and nobody could commit it. It was committed at 960 s, 658 s
  // after it was sent: 508 s while a running device held it. The soak holds the promise to that.
  it("takes off the time no running device held a message, and only that (Discussion seed 12274)", () => {
    const seed = 12274
    const report = runVirtualOrThrow(simulate({ peers: 4, minutes: 20, presence: "discussion", seed, history: 0, faults: [], schedule: randomSchedule(seed, 20) }), {
      limitMs: simulationLimitMs(20)
    })
    expect({ lost: report.messagesLost, unseen: report.messagesUnseen, duplicates: report.duplicatesCommitted }).toEqual({ lost: 0, unseen: 0, duplicates: 0 })
    expect(report.maxCommitLatencyMs).toBeGreaterThan(10 * 60_000)
    expect(report.maxCommitLatencyMs - report.maxCommitLatencyHeldMs!).toBe(150_000)
    expect(report.maxCommitLatencyHeldMs).toBeLessThanOrEqual(10 * 60_000)
  })

  it("is the whole wait when no device is ever off (partitions only, seed 7's two)", () => {
    const seed = 7
    const schedule = randomSchedule(seed, 20).filter((e) => e.kind === "partition")
    expect(schedule.length).toBeGreaterThan(0)
    const report = runVirtualOrThrow(simulate({ peers: 4, minutes: 20, presence: "file", seed, history: 0, faults: [], schedule }), { limitMs: simulationLimitMs(20) })
    expect(report.maxCommitLatencyHeldMs).toBe(report.maxCommitLatencyMs)
    expect(report.maxCommitLatencyMs).toBeGreaterThan(0)
  })
})
