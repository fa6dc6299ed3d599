/** Who acknowledges a held message to its author (src/domain/delivery.ts). */
import { describe, expect, it } from "vitest"
import { acknowledgesHeld, HELD_ACKNOWLEDGERS } from "../../src/domain/delivery.js"
import { makePeerId } from "../../src/domain/identity.js"
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

  it("orders sessions as elections do: logins case-folded, then session ids", () => {
    const upper = [makePeerId("P1", "b"), makePeerId("p1", "a"), makePeerId("p1", "c"), makePeerId("p2", "a")]
    expect(upper.map((p) => acknowledgesHeld(p, general, upper))).toEqual([true, true, true, false])
  })
})
