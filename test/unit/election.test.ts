/** Election: the smallest case-folded login leads; the session id breaks ties; order does not matter. */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"
import { electLeader } from "../../src/domain/election.js"
import { makePeerId, normalizeLogin, PeerOrder, samePeer, type PeerId } from "../../src/domain/identity.js"
import { arbPeer } from "./arbitraries.js"

const leaderOf = (peers: Iterable<PeerId>): PeerId => Option.getOrThrow(electLeader(peers))

describe("electLeader", () => {
  it("elects nobody from an empty set", () => {
    expect(Option.isNone(electLeader([]))).toBe(true)
  })

  it("elects the smallest login, case-folded", () => {
    // Plain code-unit order would put "Zed" and "Bob" before "alice".
    const leader = leaderOf([makePeerId("Zed", "s1"), makePeerId("alice", "s1"), makePeerId("Bob", "s1")])
    expect(leader.username).toBe("alice")
    expect(leaderOf([makePeerId("bob", "s1"), makePeerId("ALICE", "s9")]).username).toBe("ALICE")
  })

  it("breaks a tie between two tabs of one user by session id", () => {
    const tabA = makePeerId("alice", "tab-b")
    const tabB = makePeerId("Alice", "tab-a")
    expect(samePeer(leaderOf([tabA, tabB]), tabB)).toBe(true)
    expect(samePeer(leaderOf([tabB, tabA]), tabB)).toBe(true)
  })

  it("accepts any iterable, e.g. a Set or a generator", () => {
    const a = makePeerId("alice", "s1")
    const b = makePeerId("bob", "s1")
    expect(samePeer(leaderOf(new Set([b, a])), a)).toBe(true)
    expect(samePeer(leaderOf((function* () { yield b; yield a })()), a)).toBe(true)
  })

  it.prop("elects a member that no other member precedes", [fc.array(arbPeer, { minLength: 1, maxLength: 10 })], ([peers]) => {
    const leader = leaderOf(peers)
    expect(peers.some((p) => samePeer(p, leader))).toBe(true)
    for (const p of peers) expect(PeerOrder(leader, p)).toBeLessThanOrEqual(0)
    const smallestLogin = peers.map((p) => normalizeLogin(p.username)).sort()[0]
    expect(normalizeLogin(leader.username)).toBe(smallestLogin)
  })

  it.prop(
    "is independent of order and of duplicates",
    [fc.array(arbPeer, { minLength: 1, maxLength: 10 }).chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length })))],
    ([[peers, shuffled]]) => {
      expect(samePeer(leaderOf(peers), leaderOf(shuffled))).toBe(true)
      expect(samePeer(leaderOf(peers), leaderOf([...shuffled, ...peers]))).toBe(true)
    }
  )
})
