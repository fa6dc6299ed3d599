/**
 * Call slots in the presence document (call control for a peer with no open data
 * channel): their wire form, bounds, retention and merge; what a sender writes in
 * its slot, and which signals a receiver applies (fresh, unseen, in order).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { appendToSlot, isFreshCallSignal, signalsToApply, travelsByPresence } from "../../src/domain/call-slot.js"
import type { CallSignal } from "../../src/domain/call-signal.js"
import { MAX_CLOCK_SKEW_MS } from "../../src/domain/heartbeat.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import {
  applyChange,
  CALL_SLOT_RETENTION_MS,
  callSlotProblem,
  changeProblem,
  decodeDocument,
  emptyDocument,
  encodeDocument,
  MAX_CALL_SLOT_CHARS,
  MAX_CALL_SLOT_SIGNALS,
  MAX_PRESENCE_CALL_SLOTS,
  mergeAuthored,
  noChange,
  type PresenceCallSignal,
  type PresenceDocument
} from "../../src/domain/presence-doc.js"
import { callSlot, entry, signal } from "../support/fixtures.js"

const NOW = Date.UTC(2024, 4, 17, 12, 0, 0)
const RING = 45_000
const alice = makePeerId("alice", "s1")
const bob = makePeerId("bob", "s1")
const carol = makePeerId("carol", "s1")

const invite = (call = "c1", participants: ReadonlyArray<PeerId> = [alice, bob]): CallSignal => ({ _tag: "invite", call, media: "audio", participants })
const hangup = (call = "c1"): CallSignal => ({ _tag: "hangup", call })
const accept = (call = "c1"): CallSignal => ({ _tag: "accept", call })
const sig = (id: string, at: number, signal: CallSignal): PresenceCallSignal => ({ id, at, signal })

const decoded = (text: string) => {
  const result = decodeDocument(text)
  if (Either.isLeft(result)) throw new Error(`malformed: ${result.left.detail}`)
  return result.right
}
const wire = (doc: PresenceDocument) => JSON.parse(encodeDocument(doc)) as { entries: Array<unknown>; signals: Array<unknown>; calls?: Array<Record<string, unknown>> }

describe("call slots on the wire", () => {
  const doc: PresenceDocument = {
    entries: [entry(alice, NOW)],
    signals: [signal(alice, bob, NOW, "att-1")],
    calls: [callSlot(alice, bob, NOW, [sig("a.1", NOW - 10, invite()), sig("a.2", NOW, hangup())])]
  }

  it("round-trip through encode and decode, next to the connection slot of the same pair", () => {
    expect(decoded(encodeDocument(doc))).toEqual({ document: doc, skipped: [] })
    expect(wire(doc).calls![0]!["from"]).toEqual({ username: "alice", session_id: "s1" })
    expect(wire(doc).calls![0]!["at"]).toBe(new Date(NOW).toISOString())
  })

  it("a document without calls is written without the field, and reads as having none", () => {
    const plain: PresenceDocument = { entries: doc.entries, signals: doc.signals, calls: [] }
    expect(wire(plain).calls).toBeUndefined()
    expect(decoded(encodeDocument(plain)).document.calls).toEqual([])
  })

  it("a malformed call slot is skipped with a reason, and the rest of the document is read", () => {
    const good = wire(doc)
    const text = JSON.stringify({
      ...good,
      calls: [
        { from: "alice" },
        good.calls![0],
        { ...good.calls![0], signals: [{ id: "x", at: new Date(NOW).toISOString(), signal: { _tag: "invite", call: "c9", media: "audio", participants: [] } }] },
        { ...good.calls![0], signals: [] },
        { ...good.calls![0], signals: [{ id: "bad id!", at: new Date(NOW).toISOString(), signal: { _tag: "hangup", call: "c1" } }] }
      ]
    })
    const { document, skipped } = decoded(text)
    expect(document.entries).toEqual(doc.entries)
    expect(document.signals).toEqual(doc.signals)
    expect(document.calls).toEqual(doc.calls)
    expect(skipped.map((s) => s.detail.split(":")[0])).toEqual(["call slot 0", "call slot 2", "call slot 3", "call slot 4"])
  })

  it("an oversized call slot is skipped unread, with its size as the reason", () => {
    const good = wire(doc)
    const huge = { ...good.calls![0], padding: "x".repeat(MAX_CALL_SLOT_CHARS) }
    const { document, skipped } = decoded(JSON.stringify({ ...good, calls: [huge, good.calls![0]] }))
    expect(document.calls).toEqual(doc.calls)
    expect(skipped).toHaveLength(1)
    expect(skipped[0]!.detail).toContain(`over ${MAX_CALL_SLOT_CHARS}`)
  })

  it("call slots past MAX_PRESENCE_CALL_SLOTS are ignored with a reason", () => {
    const good = wire(doc)
    const many = Array.from({ length: MAX_PRESENCE_CALL_SLOTS + 3 }, () => good.calls![0])
    const { document, skipped } = decoded(JSON.stringify({ ...good, calls: many }))
    expect(document.calls).toHaveLength(MAX_PRESENCE_CALL_SLOTS)
    expect(skipped[0]!.detail).toContain("3 call slots")
  })

  it.prop(
    "never throws on arbitrary JSON in the calls field",
    [fc.jsonValue()],
    ([v]) => {
      const result = decodeDocument(JSON.stringify({ version: 1, entries: [], signals: [], calls: [v, { from: v, to: v, at: v, signals: [v] }] }))
      if (Either.isRight(result)) expect(result.right.document.calls!.length).toBeLessThanOrEqual(2)
    }
  )
})

describe("call slots in applyChange", () => {
  it("a call slot never displaces the connection slot of the same pair, nor the other way round", () => {
    const base = applyChange(emptyDocument, { ...noChange, signals: [signal(alice, bob, NOW - 5, "offer-1")] }, NOW)
    const withCall = applyChange(base, { ...noChange, calls: [callSlot(alice, bob, NOW, [invite()])] }, NOW)
    expect(withCall.signals.map((s) => s.attempt)).toEqual(["offer-1"])
    const answered = applyChange(withCall, { ...noChange, signals: [signal(alice, bob, NOW, "offer-2")] }, NOW)
    expect(answered.signals.map((s) => s.attempt)).toEqual(["offer-2"])
    expect(answered.calls).toEqual(withCall.calls)
  })

  it("replaces the call slot of the same (from, to) pair and keeps other pairs", () => {
    const base = applyChange(emptyDocument, { ...noChange, calls: [callSlot(alice, bob, NOW - 100, [invite()]), callSlot(bob, alice, NOW - 100, [accept()]), callSlot(carol, bob, NOW - 100, [invite("c2")])] }, NOW)
    const doc = applyChange(base, { ...noChange, calls: [callSlot(alice, bob, NOW, [invite(), hangup()])] }, NOW)
    expect(doc.calls!.map((c) => `${c.from.username}>${c.to.username}:${c.signals.length}`).sort()).toEqual(["alice>bob:2", "bob>alice:1", "carol>bob:1"])
  })

  it("drops call slots, and signals within them, past their retention", () => {
    const base: PresenceDocument = {
      entries: [],
      signals: [],
      calls: [
        callSlot(alice, bob, NOW - CALL_SLOT_RETENTION_MS, [invite()]),
        callSlot(bob, carol, NOW - 10, [sig("old", NOW - CALL_SLOT_RETENTION_MS, invite("c2")), sig("new", NOW - 10, hangup("c2"))])
      ]
    }
    const doc = applyChange(base, noChange, NOW)
    expect(doc.calls!.map((c) => [c.from.username, c.signals.map((s) => s.id)])).toEqual([["bob", ["new"]]])
  })

  it("drops a call slot stamped further ahead than clocks drift, which would otherwise never expire", () => {
    const doc = applyChange(emptyDocument, { ...noChange, calls: [callSlot(alice, bob, NOW + MAX_CLOCK_SKEW_MS + 1, [invite()])] }, NOW)
    expect(doc.calls).toEqual([])
  })

  it("removes every call slot from or to a departing peer", () => {
    const base: PresenceDocument = { entries: [], signals: [], calls: [callSlot(alice, bob, NOW, [invite()]), callSlot(bob, alice, NOW, [accept()]), callSlot(carol, bob, NOW, [invite("c2")])] }
    expect(applyChange(base, { ...noChange, remove: [alice] }, NOW).calls!.map((c) => c.from.username)).toEqual(["carol"])
  })

  it("keeps a document written before call slots existed, and adds to it", () => {
    const old: PresenceDocument = { entries: [entry(alice, NOW)], signals: [] }
    const doc = applyChange(old, { ...noChange, calls: [callSlot(alice, bob, NOW, [invite()])] }, NOW)
    expect(doc.entries).toHaveLength(1)
    expect(doc.calls).toHaveLength(1)
  })

  it("a change with a call slot out of bounds has a problem; one within bounds has none", () => {
    expect(changeProblem({ ...noChange, calls: [callSlot(alice, bob, NOW, [invite()])] })).toBeUndefined()
    const tooMany = callSlot(alice, bob, NOW, Array.from({ length: MAX_CALL_SLOT_SIGNALS + 1 }, (_, i) => sig(`x${i}`, NOW, hangup())))
    expect(callSlotProblem(tooMany)).toContain("signals")
    const many = Array.from({ length: 60 }, (_, i) => makePeerId(`participant${i}`, `session-with-a-long-identifier-${i}`))
    const big = callSlot(alice, bob, NOW, Array.from({ length: MAX_CALL_SLOT_SIGNALS }, (_, i) => sig(`y${i}`, NOW, { _tag: "invite", call: `c${i}`, media: "video", participants: many.slice(0, 16) })))
    expect(changeProblem({ ...noChange, calls: [big] })).toContain(`over ${MAX_CALL_SLOT_CHARS}`)
  })
})

describe("call slots in Discussion form", () => {
  it("a comment's call slots count only when they come from its author", () => {
    const { document, skipped } = mergeAuthored([
      { author: "mallory", document: { entries: [], signals: [], calls: [callSlot(alice, bob, NOW, [hangup()]), callSlot(makePeerId("mallory", "m1"), bob, NOW, [invite("c2")])] } },
      { author: "Alice", document: { entries: [], signals: [], calls: [callSlot(alice, carol, NOW, [invite()])] } }
    ])
    expect(document.calls!.map((c) => `${c.from.username}>${c.to.username}`)).toEqual(["mallory>bob", "alice>carol"])
    expect(skipped).toHaveLength(1)
    expect(skipped[0]!.detail).toContain("mallory")
    expect(skipped[0]!.detail).toContain("alice")
  })
})

describe("what a sender writes in its call slot", () => {
  it("ringing, answering, declining and hanging up go by presence; a media state waits for the channel", () => {
    expect([invite(), accept(), hangup(), { _tag: "reject", call: "c1" } as const, { _tag: "busy", call: "c1" } as const].every(travelsByPresence)).toBe(true)
    expect(travelsByPresence({ _tag: "media", call: "c1", micMuted: true, cameraOff: false, screenSharing: false })).toBe(false)
  })

  it("a slot carries the signals sent to that peer so far, oldest first, so a rewrite loses none", () => {
    const first = appendToSlot(undefined, alice, bob, sig("a.1", NOW, invite()), NOW)
    const second = appendToSlot(first, alice, bob, sig("a.2", NOW + 5, hangup()), NOW + 5)
    expect(second.signals.map((s) => s.id)).toEqual(["a.1", "a.2"])
    expect(second.at).toBe(NOW + 5)
    expect(callSlotProblem(second)).toBeUndefined()
  })

  it("a slot keeps only the latest MAX_CALL_SLOT_SIGNALS signals, none past retention, and no id twice", () => {
    let slot = appendToSlot(undefined, alice, bob, sig("old", NOW - CALL_SLOT_RETENTION_MS, invite("c0")), NOW - CALL_SLOT_RETENTION_MS)
    for (let i = 0; i < MAX_CALL_SLOT_SIGNALS + 3; i++) slot = appendToSlot(slot, alice, bob, sig(`n${i}`, NOW, hangup()), NOW)
    slot = appendToSlot(slot, alice, bob, sig(`n${MAX_CALL_SLOT_SIGNALS + 2}`, NOW, hangup()), NOW)
    expect(slot.signals).toHaveLength(MAX_CALL_SLOT_SIGNALS)
    expect(slot.signals.map((s) => s.id)).not.toContain("old")
    expect(new Set(slot.signals.map((s) => s.id)).size).toBe(MAX_CALL_SLOT_SIGNALS)
    expect(slot.signals.at(-1)!.id).toBe(`n${MAX_CALL_SLOT_SIGNALS + 2}`)
  })

  it("a slot that would outgrow its size bound sheds its oldest signals", () => {
    const many = Array.from({ length: 16 }, (_, i) => makePeerId(`participant-with-long-name-${i}`, `session-with-a-long-identifier-${i}-${"z".repeat(20)}`))
    let slot = appendToSlot(undefined, alice, bob, sig("i0", NOW, { _tag: "invite", call: "c0", media: "video", participants: many }), NOW)
    for (let i = 1; i < MAX_CALL_SLOT_SIGNALS; i++) slot = appendToSlot(slot, alice, bob, sig(`i${i}`, NOW, { _tag: "invite", call: `c${i}`, media: "video", participants: many }), NOW)
    expect(callSlotProblem(slot)).toBeUndefined()
    expect(slot.signals.length).toBeLessThan(MAX_CALL_SLOT_SIGNALS)
    expect(slot.signals.at(-1)!.id).toBe(`i${MAX_CALL_SLOT_SIGNALS - 1}`)
  })
})

describe("which signals a receiver applies", () => {
  const never = () => false

  it("applies the fresh signals addressed to it, in the order they were sent", () => {
    const slot = callSlot(alice, bob, NOW, [sig("a.2", NOW - 5, hangup()), sig("a.1", NOW - 10, invite())])
    const { apply, dropped } = signalsToApply(bob, slot, never, NOW, RING)
    expect(apply.map((s) => [s.id, s.signal._tag, s.from.username])).toEqual([["a.1", "invite", "alice"], ["a.2", "hangup", "alice"]])
    expect(dropped).toEqual([])
  })

  it("ignores a slot addressed to someone else", () => {
    expect(signalsToApply(carol, callSlot(alice, bob, NOW, [invite()]), never, NOW, RING).apply).toEqual([])
  })

  it("a signal already seen (on the data channel, or in an earlier read) is a duplicate", () => {
    const slot = callSlot(alice, bob, NOW, [sig("a.1", NOW, invite()), sig("a.2", NOW, accept()), sig("a.2", NOW, accept())])
    const { apply, dropped } = signalsToApply(bob, slot, (from, id) => from.username === "alice" && id === "a.1", NOW, RING)
    expect(apply.map((s) => s.id)).toEqual(["a.2"])
    expect(dropped.map((d) => [d.id, d.reason])).toEqual([["a.1", "duplicate"], ["a.2", "duplicate"]])
  })

  it("an invite older than the ring time is stale; a hangup of the same age still applies", () => {
    const slot = callSlot(alice, bob, NOW, [sig("a.1", NOW - RING, invite()), sig("a.2", NOW - RING, hangup())])
    const { apply, dropped } = signalsToApply(bob, slot, never, NOW, RING)
    expect(apply.map((s) => s.id)).toEqual(["a.2"])
    expect(dropped).toEqual([{ from: alice, id: "a.1", reason: "stale" }])
  })

  it("a signal past retention, or stamped further ahead than clocks drift, is stale", () => {
    expect(isFreshCallSignal(sig("x", NOW - CALL_SLOT_RETENTION_MS, hangup()), NOW, RING)).toBe(false)
    expect(isFreshCallSignal(sig("x", NOW + MAX_CLOCK_SKEW_MS + 1, hangup()), NOW, RING)).toBe(false)
    expect(isFreshCallSignal(sig("x", NOW + MAX_CLOCK_SKEW_MS, hangup()), NOW, RING)).toBe(true)
  })

  it.prop(
    "applying what was left after marking the applied ones seen gives nothing new (a re-read applies nothing twice)",
    [fc.array(fc.tuple(fc.stringMatching(/^[a-z0-9]{1,6}$/), fc.integer({ min: -200_000, max: 100_000 })), { minLength: 1, maxLength: MAX_CALL_SLOT_SIGNALS })],
    ([xs]) => {
      const slot = callSlot(alice, bob, NOW, xs.map(([id, ago]) => sig(id, NOW - ago, hangup())))
      const seen = new Set<string>()
      const first = signalsToApply(bob, slot, (_, id) => seen.has(id), NOW, RING)
      for (const s of first.apply) seen.add(s.id)
      expect(new Set(first.apply.map((s) => s.id)).size).toBe(first.apply.length)
      expect(signalsToApply(bob, slot, (_, id) => seen.has(id), NOW, RING).apply).toEqual([])
    }
  )
})

describe("a late invite", () => {
  it("rings only for what is left of its ring time, so both ends give up together", async () => {
    const { initialCalls, step } = await import("../../src/domain/call.js")
    const late = step(initialCalls(bob, RING), { _tag: "Signal", from: alice, signal: invite(), sentAt: NOW - 30_000 }, NOW)
    expect(late.state.call?.ringDeadline).toBe(NOW - 30_000 + RING)
    // A sender's clock ahead of ours does not ring longer than the ring time.
    const ahead = step(initialCalls(bob, RING), { _tag: "Signal", from: alice, signal: invite(), sentAt: NOW + 30_000 }, NOW)
    expect(ahead.state.call?.ringDeadline).toBe(NOW + RING)
    const missed = step(late.state, { _tag: "Tick" }, NOW - 30_000 + RING)
    expect(missed.state.call?.phase).toBe("missed")
  })
})
