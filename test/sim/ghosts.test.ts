/**
 * Ghost sessions (issue 8): tabs that went away without a goodbye leave entries that
 * linger until they expire. They are shown "away", folded under their user, are never
 * signaled until refreshed, and cost the mesh no GitHub writes.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { applyChange, emptyDocument, encodeDocument, noChange, type PresenceEntry } from "../../src/domain/presence-doc.js"
import { makePeerId, peerKey } from "../../src/domain/identity.js"
import type { PeerView } from "../../src/app/peer-state.js"
import { Mesh } from "../../src/sim/harness.js"
import { simulate } from "../../src/sim/simulate.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const MINUTE = 60_000

describe("ghost sessions", () => {
  it.each(["file", "discussion"] as const)("are away, folded under their user, and never offered to until refreshed (%s)", (presence) =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence })
          const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
          // Bob's earlier tab, gone 6 minutes ago without a goodbye (past a refresh period, within the expiry).
          const ghost: PresenceEntry = { username: "bob" as PresenceEntry["username"], sessionId: "old-tab" as PresenceEntry["sessionId"], lastSeen: t0 - 6 * MINUTE, fingerprint: "sim-bob/old-tab" }
          const text = encodeDocument(applyChange(emptyDocument, { ...noChange, upsert: [ghost] }, t0))
          if (presence === "file") mesh.world.writePresenceFile(text)
          else mesh.world.putComment("bob", text)
          const alice = yield* mesh.start("alice")
          const bob = yield* mesh.start("bob")
          const ghostKey = peerKey(makePeerId("bob", "old-tab"))
          const statesSeen = new Set<string>()
          for (let s = 0; s < 180; s++) {
            yield* Effect.sleep("1 second")
            for (const p of [alice, bob]) {
              const link = p.handle.state.links.get(ghostKey)
              if (link !== undefined) statesSeen.add(link.state)
            }
          }
          // Never signaled: no offer, no connection attempt to the ghost.
          expect([...statesSeen].filter((st) => st !== "discovered")).toEqual([])
          const view = yield* alice.handle.view
          const bobPerson = view.people.find((p) => p.username === "bob")!
          expect(bobPerson.sessions.map((s) => `${s.peer.sessionId}:${s.state}`)).toEqual([`${bob.id.sessionId}:open`, "old-tab:away"])
        })
      )
    )
  )

  it.each(["file", "discussion"] as const)("a session that said goodbye is gone at once, never away while its entry waits to be taken out (%s)", (presence) =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence })
          const [alice, bob] = yield* Effect.forEach(["alice", "bob", "carol"], (u) => mesh.start(u))
          yield* Effect.sleep("1 minute")
          const bobKey = peerKey(bob!.id)
          const shown = (view: PeerView) => view.people.flatMap((p) => p.sessions).filter((s) => peerKey(s.peer) === bobKey).map((s) => s.state)
          expect(shown(yield* alice!.handle.view)).toEqual(["open"])
          yield* mesh.stop(bob!)
          const seen: Array<string> = []
          for (let i = 0; i < 60; i++) {
            seen.push(...shown(yield* alice!.handle.view))
            yield* Effect.sleep("500 millis")
          }
          // Its entry is still in presence for a while (taken out in a batch), but it is not shown.
          expect(seen.filter((st) => st !== "open")).toEqual([])
          expect(shown(yield* alice!.handle.view)).toEqual([])
        })
      )
    )
  )

  it.each(["file", "discussion"] as const)("five stale sessions in presence cost the mesh no more GitHub writes than none (%s)", (presence) => {
    const run = (stale: number) => runVirtualOrThrow(simulate({ peers: 6, minutes: 20, presence, seed: 1, history: 0, faults: [], stale }))
    const [none, five] = [run(0), run(5)]
    expect(five.messagesLost + five.messagesUnseen).toBe(0)
    expect(five.github.writes).toBeLessThanOrEqual(none.github.writes)
  })
})

describe("recent ghosts", () => {
  // Tabs that crashed (or reloaded without their goodbye landing) within the last refresh period:
  // their entries look as alive as anyone's. The next sessions of the same users must still find
  // each other at once, not after the offers to every ghost have timed out one pair at a time.
  const ghostsOf = (user: string, n: number, t0: number): ReadonlyArray<PresenceEntry> =>
    Array.from({ length: n }, (_, i) => ({
      username: user as PresenceEntry["username"],
      sessionId: `crashed-${i}` as PresenceEntry["sessionId"],
      lastSeen: t0 - (20 + 25 * i) * 1_000,
      fingerprint: `sim-${user}/crashed-${i}`
    }))

  /** Virtual ms from the second start until alice and bob have an open channel, with `ghosts` entries of each user written before. */
  const timeToMeet = (presence: "file" | "discussion", ghosts: number, first: "alice" | "bob", gapMs: number) =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence })
          const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const entries = [...ghostsOf("alice", ghosts, t0), ...ghostsOf("bob", ghosts, t0)]
          if (presence === "file") mesh.world.writePresenceFile(encodeDocument(applyChange(emptyDocument, { ...noChange, upsert: entries }, t0)))
          else for (const user of ["alice", "bob"]) mesh.world.putComment(user, encodeDocument(applyChange(emptyDocument, { ...noChange, upsert: entries.filter((e) => e.username === user) }, t0)))
          const a = yield* mesh.start(first)
          yield* Effect.sleep(gapMs)
          const b = yield* mesh.start(first === "alice" ? "bob" : "alice")
          const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
          for (let s = 0; s < 600; s++) {
            if (a.handle.state.links.get(peerKey(b.id))?.state === "open" && b.handle.state.links.get(peerKey(a.id))?.state === "open") break
            yield* Effect.sleep("250 millis")
          }
          const at = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const view = yield* a.handle.view
          return { ms: at - started, refused: view.refused, troubles: view.rejections.filter((r) => r.own === true).map((r) => r.reason) }
        })
      )
    )

  it.each([
    ["file", "alice", 3_000],
    ["file", "bob", 3_000],
    ["file", "bob", 20_000],
    ["discussion", "alice", 3_000],
    ["discussion", "bob", 20_000]
  ] as const)("do not delay two live sessions (%s, %s first, the other %i ms later)", (presence, first, gapMs) => {
    const clean = timeToMeet(presence, 0, first, gapMs).ms
    const haunted = timeToMeet(presence, 5, first, gapMs).ms
    // Both sessions answer at once; five unanswered ghosts of each user may cost a read or two, not their offers' timeouts.
    expect(clean).toBeLessThan(30_000)
    expect(haunted).toBeLessThanOrEqual(clean + 5_000)
  })

  it("an offer to a ghost that gives way is this peer's trouble, not something refused from others", () => {
    // A colleague's crashed tab is nobody's fault: the red "refused" badge stays for what others sent.
    const { refused, troubles } = timeToMeet("file", 5, "alice", 3_000)
    expect(troubles.some((t) => t.includes("gave way to a newcomer's"))).toBe(true)
    expect(refused).toEqual({})
  })
})
