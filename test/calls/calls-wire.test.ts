/** Call signals on the wire: what is accepted from an envelope, and how held signals are bounded and filtered. */
import { describe, expect, it } from "vitest"
import { Option } from "effect"
import { callEnvelope, callSignalOf, MAX_PENDING_SIGNALS, MAX_SEEN_SIGNALS, PendingSignals, SeenSignals } from "../../src/app/calls-wire.js"
import type { Envelope } from "../../src/domain/envelope.js"
import { makePeerId } from "../../src/domain/identity.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")

describe("call signals on the wire", () => {
  it("round-trips a signal addressed to us and takes its sender from the envelope", () => {
    const env = callEnvelope(alice, bob, { _tag: "accept", call: "c-1" }, "a1.1", 5)
    expect(Option.getOrUndefined(callSignalOf(bob, env))).toEqual({ from: alice, signal: { _tag: "accept", call: "c-1" }, id: "a1.1" })
  })

  it("ignores signals for someone else, other custom names and malformed data", () => {
    const env = callEnvelope(alice, bob, { _tag: "hangup", call: "c-1" }, "a1.1", 5)
    expect(Option.isNone(callSignalOf(carol, env))).toBe(true)
    const other: Envelope = { ...env, payload: { name: "chat-extension", data: { _tag: "hangup", call: "c-1" } } } as Envelope
    expect(Option.isNone(callSignalOf(bob, other))).toBe(true)
    const bad: Envelope = { ...env, payload: { name: "call", data: { _tag: "invite", call: "c-1", media: "hologram", participants: [] } } } as Envelope
    expect(Option.isNone(callSignalOf(bob, bad))).toBe(true)
  })

  it("holds at most MAX_PENDING_SIGNALS per peer and releases only those of the live call", () => {
    const pending = new PendingSignals()
    for (let i = 0; i < MAX_PENDING_SIGNALS + 5; i++) pending.hold(bob, { id: `o${i}`, at: i, signal: { _tag: "hangup", call: `old-${i}` } })
    expect(pending.size).toBe(MAX_PENDING_SIGNALS)
    pending.hold(bob, { id: "l1", at: 9, signal: { _tag: "accept", call: "live" } })
    expect(pending.take(bob, "live")).toEqual([{ id: "l1", at: 9, signal: { _tag: "accept", call: "live" } }])
    expect(pending.size).toBe(0)
    pending.hold(carol, { id: "g1", at: 9, signal: { _tag: "accept", call: "gone" } })
    expect(pending.take(carol, undefined)).toEqual([])
  })

  it("remembers applied signal ids per sender, bounded, so a copy that arrives the other way applies once", () => {
    const seen = new SeenSignals()
    expect(seen.add(alice, "x.1")).toBe(true)
    expect(seen.add(alice, "x.1")).toBe(false)
    expect(seen.has(alice, "x.1")).toBe(true)
    // The same id from another sender is another signal.
    expect(seen.add(carol, "x.1")).toBe(true)
    for (let i = 0; i < MAX_SEEN_SIGNALS; i++) seen.add(bob, `b.${i}`)
    expect(seen.has(alice, "x.1")).toBe(false)
    expect(seen.has(bob, `b.${MAX_SEEN_SIGNALS - 1}`)).toBe(true)
  })
})
