/** Who acknowledges a held message to its author (src/domain/delivery.ts). */
import { describe, expect, it } from "vitest"
import { FastCheck as fc } from "effect"
import { acknowledgesHeld, HELD_ACKNOWLEDGERS } from "../../src/domain/delivery.js"
import { makePeerId, PeerOrder, samePeer } from "../../src/domain/identity.js"
import { ConversationId, directConversation } from "../../src/domain/message.js"

const general = ConversationId.make("general")
const peers = ["p1", "p2", "p3", "p4", "p5", "p6"].map((n) => makePeerId(n, "s"))

describe("acknowledgesHeld", () => {
  it(`is true for the ${HELD_ACKNOWLEDGERS} smallest of the author's neighbors only, whatever the list's order`, () => {
    const listed = [...peers].reverse()
    expect(peers.map((p) => acknowledgesHeld(p, general, listed))).toEqual(peers.map((_, i) => i < HELD_ACKNOWLEDGERS))
  })

  it("is true when the author's neighbor list is unknown or does not name this session yet", () => {
    expect(acknowledgesHeld(peers[5]!, general, undefined)).toBe(true)
    expect(acknowledgesHeld(makePeerId("zzz", "s"), general, peers)).toBe(true)
  })

  it("is true for every recipient of a direct message", () => {
    expect(acknowledgesHeld(peers[5]!, directConversation("p6", "p9"), peers)).toBe(true)
  })

  it("agrees with the election order on any list: listed and among the smallest, or not listed", () => {
    const name = fc.constantFrom("a", "A", "b", "B", "c", "ab", "Ab")
    const session = fc.constantFrom("x", "y", "z")
    const peer = fc.tuple(name, session).map(([n, s]) => makePeerId(n, s))
    fc.assert(
      fc.property(peer, fc.array(peer, { maxLength: 12 }), (self, list) => {
        const listed = list.some((p) => samePeer(p, self))
        const smaller = list.filter((p) => !samePeer(p, self) && PeerOrder(p, self) < 0).length
        expect(acknowledgesHeld(self, general, list)).toBe(!listed || smaller < HELD_ACKNOWLEDGERS)
      })
    )
  })

  it("orders sessions as elections do: logins case-folded, then session ids", () => {
    const upper = [makePeerId("P1", "b"), makePeerId("p1", "a"), makePeerId("p1", "c"), makePeerId("p2", "a")]
    expect(upper.map((p) => acknowledgesHeld(p, general, upper))).toEqual([true, true, true, false])
  })
})
