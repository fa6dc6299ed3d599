/**
 * Signaling roles: for every pair exactly one side offers; through the presence
 * channel only the smallest online peer offers, only outside its component, and
 * only the smallest member of each receiving component answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, FastCheck as fc, Option } from "effect"
import { electLeader } from "../../src/domain/election.js"
import { makePeerId, PeerOrder, peerKey, samePeer, type PeerId } from "../../src/domain/identity.js"
import { answersPresenceOffer, isOfferer, joinerFirstContact, presenceOfferTargets } from "../../src/domain/signaling-roles.js"
import { arbPeer } from "./arbitraries.js"

const p = makePeerId
const keys = (ps: ReadonlyArray<PeerId>) => ps.map(peerKey).sort()

/** Distinct peers split into mesh components (each non-empty). */
const arbMesh: fc.Arbitrary<ReadonlyArray<ReadonlyArray<PeerId>>> = fc
  .uniqueArray(arbPeer, { minLength: 1, maxLength: 12, selector: peerKey })
  .chain((peers) =>
    fc.array(fc.nat({ max: 3 }), { minLength: peers.length, maxLength: peers.length }).map((labels) => {
      const groups = new Map<number, Array<PeerId>>()
      peers.forEach((peer, i) => groups.set(labels[i]!, [...(groups.get(labels[i]!) ?? []), peer]))
      return Array.from(groups.values())
    })
  )

describe("isOfferer", () => {
  it("makes the smaller peer offer", () => {
    expect(isOfferer(p("alice", "s1"), p("bob", "s1"))).toBe(true)
    expect(isOfferer(p("bob", "s1"), p("alice", "s1"))).toBe(false)
    expect(isOfferer(p("Bob", "s1"), p("alice", "s1"))).toBe(false)
  })

  it("lets the smaller session offer between two tabs of one user", () => {
    expect(isOfferer(p("alice", "a"), p("ALICE", "b"))).toBe(true)
    expect(isOfferer(p("ALICE", "b"), p("alice", "a"))).toBe(false)
  })

  it.prop("for every pair of distinct peers exactly one side offers (no glare, no silence)", [arbPeer, arbPeer], ([a, b]) => {
    if (samePeer(a, b)) {
      expect(isOfferer(a, b) || isOfferer(b, a)).toBe(false)
    } else {
      expect(isOfferer(a, b)).toBe(!isOfferer(b, a))
    }
  })
})

describe("presenceOfferTargets", () => {
  const alice = p("alice", "s1")
  const bob = p("bob", "s1")
  const carol = p("carol", "s1")
  const dave = p("dave", "s1")

  it("has the smallest online peer offer to every online peer outside its component", () => {
    expect(keys(presenceOfferTargets(alice, [alice, bob], [alice, bob, carol, dave]))).toEqual(keys([carol, dave]))
  })

  it("has every other peer stay silent", () => {
    expect(presenceOfferTargets(bob, [alice, bob], [alice, bob, carol])).toEqual([])
    expect(presenceOfferTargets(carol, [carol, dave], [alice, bob, carol, dave])).toEqual([])
  })

  it("offers nothing when everybody online is already in the component", () => {
    expect(presenceOfferTargets(alice, [alice, bob], [alice, bob])).toEqual([])
  })

  it("lets a lone newcomer that is the smallest offer to everyone", () => {
    expect(keys(presenceOfferTargets(alice, [], [bob, carol, alice]))).toEqual(keys([bob, carol]))
  })

  it("never offers to itself nor twice to one peer, even when logins differ in case", () => {
    const targets = presenceOfferTargets(alice, [alice], [alice, p("ALICE", "s1"), bob, p("BOB", "s1"), bob])
    expect(keys(targets)).toEqual(keys([bob]))
  })

  it("defers to a smaller member of its own component even if that member is not in the online list", () => {
    expect(presenceOfferTargets(bob, [alice, bob], [bob, carol])).toEqual([])
  })

  it.prop("over a whole mesh: only the global smallest offers, to exactly the peers outside its component, and always as the offerer", [arbMesh], ([components]) => {
    const online = components.flat()
    const sponsor = Option.getOrThrow(electLeader(online))
    for (const component of components) {
      for (const self of component) {
        const targets = presenceOfferTargets(self, component, online)
        if (samePeer(self, sponsor)) {
          expect(keys(targets)).toEqual(keys(online.filter((q) => !component.some((c) => samePeer(c, q)))))
          for (const t of targets) expect(isOfferer(self, t)).toBe(true)
        } else {
          expect(targets).toEqual([])
        }
      }
    }
  })
})

describe("answersPresenceOffer", () => {
  const alice = p("alice", "s1")
  const bob = p("bob", "s1")
  const carol = p("carol", "s1")
  const dave = p("dave", "s1")

  it("is answered only by the smallest member of the receiving component", () => {
    expect(answersPresenceOffer(bob, [bob, carol], alice)).toBe(true)
    expect(answersPresenceOffer(carol, [bob, carol], alice)).toBe(false)
  })

  it("is answered by a peer alone, whether or not its component lists itself", () => {
    expect(answersPresenceOffer(dave, [], alice)).toBe(true)
    expect(answersPresenceOffer(dave, [dave], alice)).toBe(true)
  })

  it("is never answered when the offerer is already in the component", () => {
    expect(answersPresenceOffer(bob, [alice, bob], alice)).toBe(false)
    expect(answersPresenceOffer(bob, [p("ALICE", "s1"), bob], alice)).toBe(false)
  })

  it.prop("over a whole mesh: each component other than the sponsor's answers exactly once, by its smallest member", [arbMesh], ([components]) => {
    const online = components.flat()
    const sponsor = Option.getOrThrow(electLeader(online))
    const targets = presenceOfferTargets(sponsor, components.find((c) => c.some((q) => samePeer(q, sponsor)))!, online)
    for (const component of components) {
      const answerers = component.filter(
        (self) => targets.some((t) => samePeer(t, self)) && answersPresenceOffer(self, component, sponsor)
      )
      if (component.some((q) => samePeer(q, sponsor))) {
        expect(answerers).toEqual([])
      } else {
        expect(answerers).toHaveLength(1)
        expect(samePeer(answerers[0]!, Arr.min(component as Arr.NonEmptyReadonlyArray<PeerId>, PeerOrder))).toBe(true)
      }
    }
  })
})

describe("joinerFirstContact", () => {
  const adam = p("adam", "s1")
  const silent = p("aaa", "silent")
  const bob = p("bob", "s1")
  const carol = p("carol", "s1")

  it("a joiner alone offers to the smallest session above it, whatever sits below it", () => {
    expect(joinerFirstContact(adam, [adam], [silent, carol, bob])).toEqual(bob)
    expect(joinerFirstContact(adam, [], [silent, p("aa", "x"), carol, bob])).toEqual(bob)
  })

  it("nothing once the joiner is in a mesh, or when nobody is above it", () => {
    expect(joinerFirstContact(adam, [adam, bob], [silent, carol, bob])).toBeUndefined()
    expect(joinerFirstContact(carol, [carol], [silent, adam, bob])).toBeUndefined()
  })

  it("the one it offers to answers when it is the smallest of its mesh", () => {
    const target = joinerFirstContact(adam, [adam], [silent, bob, carol])!
    expect(answersPresenceOffer(target, [bob, carol], adam)).toBe(true)
  })
})
