/** Peer identity: login validation, case-insensitive logins, and the total order on peers. */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { makePeerId, normalizeLogin, PeerOrder, peerKey, samePeer, sameUser, SessionId, Username } from "../../src/domain/identity.js"
import { arbPeer } from "./arbitraries.js"

const validLogin = (s: string) => Either.isRight(Schema.decodeUnknownEither(Username)(s))
const validSession = (s: string) => Either.isRight(Schema.decodeUnknownEither(SessionId)(s))

describe("Username", () => {
  it("accepts GitHub logins: alphanumerics and single inner hyphens, 1-39 characters", () => {
    for (const ok of ["a", "alice", "Alice-Bob", "a-b-c", "x1", "A".repeat(39)]) expect(validLogin(ok), ok).toBe(true)
  })

  it("rejects leading, trailing and double hyphens, over-long logins and other characters", () => {
    for (const bad of ["", "-a", "a-", "a--b", "A".repeat(40), "a_b", "a b", "a/b", "ä", "a.b", "__proto__"]) {
      expect(validLogin(bad), bad).toBe(false)
    }
  })

  it("rejects non-strings without throwing", () => {
    for (const bad of [null, undefined, 1, {}, []]) expect(validLogin(bad as never)).toBe(false)
  })
})

describe("SessionId", () => {
  it("accepts 1-64 URL-safe characters and rejects the rest", () => {
    expect(validSession("s1")).toBe(true)
    expect(validSession("a_B-9")).toBe(true)
    expect(validSession("x".repeat(64))).toBe(true)
    expect(validSession("x".repeat(65))).toBe(false)
    expect(validSession("")).toBe(false)
    expect(validSession("a/b")).toBe(false)
    expect(validSession("a.b")).toBe(false)
  })
})

describe("case-insensitive logins", () => {
  it("treats logins that differ only in case as one user, and one session of it as one peer", () => {
    expect(sameUser("Alice", "aLICE")).toBe(true)
    expect(sameUser("alice", "alice2")).toBe(false)
    expect(samePeer(makePeerId("Alice", "s1"), makePeerId("alice", "s1"))).toBe(true)
    expect(peerKey(makePeerId("Alice", "s1"))).toBe("alice/s1")
  })

  it("keeps session ids case-sensitive: two tabs of one user are two peers", () => {
    expect(samePeer(makePeerId("alice", "s1"), makePeerId("alice", "S1"))).toBe(false)
    expect(samePeer(makePeerId("alice", "s1"), makePeerId("alice", "s2"))).toBe(false)
  })

  it.prop("peerKey is equal exactly when samePeer holds", [arbPeer, arbPeer], ([a, b]) => {
    expect(peerKey(a) === peerKey(b)).toBe(samePeer(a, b))
  })
})

describe("PeerOrder", () => {
  it("orders by case-folded login first, then by session id", () => {
    expect(PeerOrder(makePeerId("Bob", "a"), makePeerId("alice", "z"))).toBe(1)
    expect(PeerOrder(makePeerId("ALICE", "s2"), makePeerId("alice", "s1"))).toBe(1)
    expect(PeerOrder(makePeerId("alice", "s1"), makePeerId("ALICE", "s2"))).toBe(-1)
    expect(PeerOrder(makePeerId("Alice", "s1"), makePeerId("alice", "s1"))).toBe(0)
  })

  it.prop("is zero exactly for the same peer", [arbPeer, arbPeer], ([a, b]) => {
    expect(PeerOrder(a, b) === 0).toBe(samePeer(a, b))
  })

  it.prop("is antisymmetric", [arbPeer, arbPeer], ([a, b]) => {
    expect(PeerOrder(a, b)).toBe(-PeerOrder(b, a) || 0)
  })

  it.prop("is transitive", [arbPeer, arbPeer, arbPeer], ([a, b, c]) => {
    if (PeerOrder(a, b) <= 0 && PeerOrder(b, c) <= 0) expect(PeerOrder(a, c)).toBeLessThanOrEqual(0)
  })

  it.prop("case-folds exactly like normalizeLogin", [arbPeer, arbPeer], ([a, b]) => {
    const la = normalizeLogin(a.username)
    const lb = normalizeLogin(b.username)
    if (la !== lb) expect(PeerOrder(a, b)).toBe(la < lb ? -1 : 1)
  })
})
