/** What one peer knows of the mesh: its component, a relay for signaling, and whether it leads. */
import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { makePeerId, peerKey, samePeer, type PeerId } from "../../src/domain/identity.js"
import { actsAsLeader, componentOf, relayTo, type NeighborReport } from "../../src/domain/mesh-view.js"

const alice = makePeerId("alice", "s1")
const bob = makePeerId("bob", "s1")
const carol = makePeerId("carol", "s1")
const dave = makePeerId("dave", "s1")
const keys = (ps: ReadonlyArray<PeerId>) => ps.map(peerKey).sort()

const reports = (...rs: ReadonlyArray<readonly [PeerId, ReadonlyArray<PeerId>]>): ReadonlyMap<string, NeighborReport> =>
  new Map(rs.map(([peer, neighbors]) => [peerKey(peer), { peer, neighbors, heardAt: 0 }] as const))

describe("componentOf", () => {
  it("is just self with no open connection", () => {
    expect(keys(componentOf(bob, [], reports()))).toEqual(keys([bob]))
  })

  it("holds self, its open neighbors and the peers they report, each once", () => {
    const view = componentOf(bob, [alice, carol], reports([alice, [bob, carol, dave]], [carol, [alice, bob, dave]]))
    expect(keys(view)).toEqual(keys([alice, bob, carol, dave]))
  })

  it("ignores the report of a peer whose connection is no longer open", () => {
    const view = componentOf(bob, [alice], reports([alice, [bob]], [carol, [dave]]))
    expect(keys(view)).toEqual(keys([alice, bob]))
  })

  it("merges a peer reported with a different login case", () => {
    const view = componentOf(bob, [alice], reports([alice, [makePeerId("BOB", "s1"), makePeerId("Carol", "s1")]]))
    expect(keys(view)).toEqual(keys([alice, bob, carol]))
  })
})

describe("relayTo", () => {
  it("is an open neighbor that reports an open connection to the target", () => {
    const relay = relayTo(dave, [alice, carol], reports([alice, [bob]], [carol, [dave]]))
    expect(Option.map(relay, peerKey)).toEqual(Option.some(peerKey(carol)))
  })

  it("is none when no open neighbor reports the target", () => {
    expect(Option.isNone(relayTo(dave, [alice], reports([alice, [bob]])))).toBe(true)
    expect(Option.isNone(relayTo(dave, [], reports([carol, [dave]])))).toBe(true)
  })

  it("does not use the report of a neighbor whose connection is not open", () => {
    expect(Option.isNone(relayTo(dave, [alice], reports([alice, [bob]], [carol, [dave]])))).toBe(true)
  })

  it("matches the target case-insensitively", () => {
    const relay = relayTo(makePeerId("DAVE", "s1"), [carol], reports([carol, [dave]]))
    expect(Option.exists(relay, (r) => samePeer(r, carol))).toBe(true)
  })
})

describe("actsAsLeader", () => {
  const graceMs = 30_000

  it("leads when smallest of its component and the component covers everyone online, even just after start", () => {
    expect(actsAsLeader({ self: alice, component: [alice, bob], online: [alice, bob], onlineKnown: true, inherits: false, upForMs: 0, graceMs })).toBe(true)
  })

  it("does not lead when a smaller peer is in its component", () => {
    expect(actsAsLeader({ self: bob, component: [alice, bob], online: [alice, bob], onlineKnown: true, inherits: false, upForMs: 10 * graceMs, graceMs })).toBe(false)
  })

  it("waits for the grace period while some online peer is outside its component", () => {
    const view = { self: bob, component: [bob, carol], online: [alice, bob, carol], onlineKnown: true, inherits: false }
    expect(actsAsLeader({ ...view, upForMs: graceMs - 1, graceMs })).toBe(false)
    expect(actsAsLeader({ ...view, upForMs: graceMs, graceMs })).toBe(true)
  })

  it("counts coverage case-insensitively and ignores online duplicates", () => {
    const online = [makePeerId("ALICE", "s1"), alice, makePeerId("Bob", "s1")]
    expect(actsAsLeader({ self: alice, component: [alice, bob], online, onlineKnown: true, inherits: false, upForMs: 0, graceMs })).toBe(true)
  })

  it("two tabs of one user: the smaller session leads, the other does not", () => {
    const tabA = makePeerId("alice", "a")
    const tabB = makePeerId("Alice", "b")
    const view = { component: [tabA, tabB], online: [tabA, tabB], onlineKnown: true, inherits: false, upForMs: 0, graceMs }
    expect(actsAsLeader({ ...view, self: tabA })).toBe(true)
    expect(actsAsLeader({ ...view, self: tabB })).toBe(false)
  })

  it("never leads from an empty component view", () => {
    expect(actsAsLeader({ self: alice, component: [], online: [], onlineKnown: true, inherits: false, upForMs: graceMs, graceMs })).toBe(false)
  })

  it("before presence has answered, a session alone in its view waits for the grace period", () => {
    // A reloaded tab sees nobody until its first read: that is not the same as nobody online.
    const view = { self: alice, component: [alice], online: [], onlineKnown: false, inherits: false }
    expect(actsAsLeader({ ...view, upForMs: graceMs - 1, graceMs })).toBe(false)
    expect(actsAsLeader({ ...view, upForMs: graceMs, graceMs })).toBe(true)
    expect(actsAsLeader({ ...view, onlineKnown: true, inherits: false, upForMs: 0, graceMs })).toBe(true)
  })
})
