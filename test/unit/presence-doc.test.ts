/**
 * The presence document: bad entries skipped with reasons, whole-document garbage
 * rejected, and the merge every writer applies after a compare-and-swap loss
 * (newest lastSeen, one slot per pair, retention, caps), plus the Discussion
 * form's rule that a comment speaks only for its author.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { makePeerId, peerKey, type PeerId } from "../../src/domain/identity.js"
import {
  applyChange,
  decodeDocument,
  emptyDocument,
  encodeDocument,
  holds,
  ENTRY_RETENTION_MS,
  MAX_PRESENCE_DOCUMENT,
  MAX_PRESENCE_ENTRIES,
  MAX_PRESENCE_SIGNALS,
  mergeAuthored,
  noChange,
  PresenceDocumentMalformed,
  SIGNAL_RETENTION_MS,
  type PresenceDocument
} from "../../src/domain/presence-doc.js"
import { MAX_CLOCK_SKEW_MS } from "../../src/domain/heartbeat.js"
import { callSlot, entry, signal } from "../support/fixtures.js"
import { CallId, type CallSignal } from "../../src/domain/call-signal.js"
import { arbPeer } from "./arbitraries.js"

const NOW = Date.UTC(2024, 4, 17, 12, 0, 0)
const alice = makePeerId("alice", "s1")
const bob = makePeerId("bob", "s1")
const carol = makePeerId("carol", "s1")

const decoded = (text: string) => {
  const result = decodeDocument(text)
  if (Either.isLeft(result)) throw new Error(`malformed: ${result.left.detail}`)
  return result.right
}
const malformed = (text: string): PresenceDocumentMalformed => {
  const result = decodeDocument(text)
  if (Either.isRight(result)) throw new Error(`accepted: ${text.slice(0, 100)}`)
  expect(result.left._tag).toBe("PresenceDocumentMalformed")
  expect(result.left.detail.length).toBeGreaterThan(0)
  return result.left
}
const lastSeenOf = (doc: PresenceDocument) => Object.fromEntries(doc.entries.map((e) => [peerKey({ username: e.username, sessionId: e.sessionId }), e.lastSeen]))

describe("document text", () => {
  const doc: PresenceDocument = {
    entries: [entry(alice, NOW, "sha-256 AB:CD"), entry(bob, NOW - 1_000)],
    signals: [signal(alice, bob, NOW, "att-1"), signal(bob, alice, NOW - 5, "att-1", "answer")],
    calls: []
  }

  it("round-trips through encode and decode", () => {
    expect(decoded(encodeDocument(doc))).toEqual({ document: doc, skipped: [] })
  })

  it.prop(
    "round-trips any document of valid entries and slots",
    [
      fc.array(fc.record({ peer: arbPeer, lastSeen: fc.integer({ min: 0, max: 4e12 }), fingerprint: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }) }), { maxLength: 6 }),
      fc.array(fc.record({ from: arbPeer, to: arbPeer, at: fc.integer({ min: 0, max: 4e12 }), attempt: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), answer: fc.boolean() }), { maxLength: 6 })
    ],
    ([es, ss]) => {
      const doc: PresenceDocument = {
        entries: es.map((e) => entry(e.peer, e.lastSeen, e.fingerprint)),
        signals: ss.map((s) => signal(s.from, s.to, s.at, s.attempt, s.answer ? "answer" : "offer")),
        calls: []
      }
      expect(decoded(encodeDocument(doc))).toEqual({ document: doc, skipped: [] })
    }
  )

  it("uses the seed's wire names and ISO times", () => {
    const wire = JSON.parse(encodeDocument(doc)) as { version: number; entries: Array<Record<string, unknown>>; signals: Array<Record<string, unknown>> }
    expect(wire.version).toBe(1)
    expect(wire.entries[0]).toEqual({ username: "alice", session_id: "s1", last_seen: new Date(NOW).toISOString(), fingerprint: "sha-256 AB:CD" })
    expect(wire.signals[0]!["from"]).toEqual({ username: "alice", session_id: "s1" })
    expect(wire.signals[0]!["at"]).toBe(new Date(NOW).toISOString())
  })

  it("encodes equal documents to equal text", () => {
    expect(encodeDocument(decoded(encodeDocument(doc)).document)).toBe(encodeDocument(doc))
  })

  it("skips bad entries and slots with a reason each, and keeps the good ones", () => {
    const good = JSON.parse(encodeDocument(doc)) as { entries: Array<unknown>; signals: Array<unknown> }
    const text = JSON.stringify({
      version: 1,
      entries: [
        good.entries[0],
        { username: "-bad-", session_id: "s1", last_seen: new Date(NOW).toISOString() },
        42,
        { username: "carol", session_id: "s1", last_seen: "not a time" },
        { username: "dave", sessionId: "s1", last_seen: new Date(NOW).toISOString() },
        { __proto__: { username: "eve" }, constructor: "x" },
        good.entries[1]
      ],
      signals: [{ from: "alice" }, good.signals[0], { ...(good.signals[1] as object), description: { type: "offer", sdp: "x".repeat(70_000) } }]
    })
    const { document, skipped } = decoded(text)
    expect(document).toEqual({ entries: doc.entries, signals: [doc.signals[0]], calls: [] })
    expect(skipped.map((s) => s.detail.split(":")[0])).toEqual(["entry 1", "entry 2", "entry 3", "entry 4", "entry 5", "signal 0", "signal 2"])
  })

  it("rejects whole-document garbage as PresenceDocumentMalformed", () => {
    for (const text of [
      "",
      "garbage",
      "{",
      "null",
      "[]",
      "42",
      "{}",
      JSON.stringify({ version: 2, entries: [], signals: [] }),
      JSON.stringify({ version: 1, entries: {}, signals: [] }),
      JSON.stringify({ version: 1, entries: [] }),
      `{"__proto__": {"version": 1, "entries": [], "signals": []}}`
    ]) {
      malformed(text)
    }
  })

  it("rejects a document over MAX_PRESENCE_DOCUMENT characters before parsing it", () => {
    const huge = JSON.stringify({ version: 1, entries: [], signals: [], pad: "x".repeat(MAX_PRESENCE_DOCUMENT) })
    expect(malformed(huge).detail).toContain("larger than")
  })

  it.prop("never throws on arbitrary text or JSON", [fc.oneof(fc.string(), fc.fullUnicodeString(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ version: 1, entries: [v], signals: [v] })))], ([text]) => {
    const result = decodeDocument(text)
    if (Either.isRight(result)) expect(Array.isArray(result.right.document.entries)).toBe(true)
    else expect(result.left).toBeInstanceOf(PresenceDocumentMalformed)
  })
})

describe("applyChange", () => {
  it("upserts entries, keeping the newest lastSeen of the two", () => {
    const doc = applyChange(emptyDocument, { ...noChange, upsert: [entry(alice, NOW - 1_000)] }, NOW)
    expect(lastSeenOf(applyChange(doc, { ...noChange, upsert: [entry(alice, NOW - 5_000)] }, NOW))["alice/s1"]).toBe(NOW - 1_000)
    expect(lastSeenOf(applyChange(doc, { ...noChange, upsert: [entry(alice, NOW)] }, NOW))["alice/s1"]).toBe(NOW)
  })

  it("treats a login in another case as the same entry", () => {
    const doc = applyChange({ entries: [entry(alice, NOW - 1_000)], signals: [] }, { ...noChange, upsert: [entry(makePeerId("Alice", "s1"), NOW)] }, NOW)
    expect(doc.entries).toHaveLength(1)
    expect(doc.entries[0]!.lastSeen).toBe(NOW)
  })

  it("keeps everyone else's entries and slots (no write is lost)", () => {
    const base: PresenceDocument = { entries: [entry(bob, NOW - 10)], signals: [signal(bob, carol, NOW - 10)] }
    const doc = applyChange(base, { ...noChange, upsert: [entry(alice, NOW)], signals: [signal(alice, bob, NOW)] }, NOW)
    expect(Object.keys(lastSeenOf(doc)).sort()).toEqual(["alice/s1", "bob/s1"])
    expect(doc.signals).toHaveLength(2)
  })

  it("replaces the slot of the same (from, to) pair and keeps other pairs, both directions included", () => {
    const base = applyChange(emptyDocument, { ...noChange, signals: [signal(alice, bob, NOW - 100, "old"), signal(bob, alice, NOW - 100, "x", "answer"), signal(alice, carol, NOW - 100, "c")] }, NOW)
    const doc = applyChange(base, { ...noChange, signals: [signal(alice, bob, NOW, "new")] }, NOW)
    expect(doc.signals.map((s) => `${s.from.username}>${s.to.username}:${s.attempt}`).sort()).toEqual(["alice>bob:new", "alice>carol:c", "bob>alice:x"])
  })

  it("removes a departing peer's entry and every slot from or to it", () => {
    const base: PresenceDocument = {
      entries: [entry(alice, NOW), entry(bob, NOW)],
      signals: [signal(alice, bob, NOW), signal(bob, alice, NOW), signal(carol, alice, NOW), signal(carol, bob, NOW)]
    }
    const doc = applyChange(base, { ...noChange, remove: [alice] }, NOW)
    expect(Object.keys(lastSeenOf(doc))).toEqual(["bob/s1"])
    expect(doc.signals.map((s) => `${s.from.username}>${s.to.username}`)).toEqual(["carol>bob"])
  })

  it("drops entries and slots past their retention", () => {
    const base: PresenceDocument = {
      entries: [entry(alice, NOW - ENTRY_RETENTION_MS), entry(bob, NOW - ENTRY_RETENTION_MS + 1)],
      signals: [signal(alice, bob, NOW - SIGNAL_RETENTION_MS, "stale"), signal(bob, carol, NOW - SIGNAL_RETENTION_MS + 1, "fresh")]
    }
    const doc = applyChange(base, noChange, NOW)
    expect(Object.keys(lastSeenOf(doc))).toEqual(["bob/s1"])
    expect(doc.signals.map((s) => s.attempt)).toEqual(["fresh"])
  })

  it("caps entries at MAX_PRESENCE_ENTRIES, dropping the stalest, and slots at MAX_PRESENCE_SIGNALS, dropping the oldest", () => {
    const peers = Array.from({ length: MAX_PRESENCE_ENTRIES + 50 }, (_, i) => makePeerId(`user${i}`, "s1"))
    const doc = applyChange(
      emptyDocument,
      {
        ...noChange,
        upsert: peers.map((p, i) => entry(p, NOW - i)),
        signals: Array.from({ length: MAX_PRESENCE_SIGNALS + 50 }, (_, i) => signal(peers[i % peers.length]!, makePeerId(`to${i}`, "s1"), NOW - i))
      },
      NOW
    )
    expect(doc.entries).toHaveLength(MAX_PRESENCE_ENTRIES)
    expect(Math.min(...doc.entries.map((e) => e.lastSeen))).toBe(NOW - (MAX_PRESENCE_ENTRIES - 1))
    expect(doc.signals).toHaveLength(MAX_PRESENCE_SIGNALS)
    expect(Math.min(...doc.signals.map((s) => s.at))).toBe(NOW - (MAX_PRESENCE_SIGNALS - 1))
    // The capped document is still readable in full.
    expect(decoded(encodeDocument(doc)).skipped).toEqual([])
  })

  it("orders entries freshest first and slots newest first", () => {
    const doc = applyChange(emptyDocument, { ...noChange, upsert: [entry(alice, NOW - 3), entry(bob, NOW - 1), entry(carol, NOW - 2)], signals: [signal(alice, bob, NOW - 9, "a"), signal(bob, carol, NOW - 1, "b")] }, NOW)
    expect(doc.entries.map((e) => e.lastSeen)).toEqual([NOW - 1, NOW - 2, NOW - 3])
    expect(doc.signals.map((s) => s.attempt)).toEqual(["b", "a"])
  })

  // Regression: with one peer already in the document twice (logins differing in case),
  // applyChange kept whichever came last, which encodeDocument makes the stalest.
  it("keeps the newest of two entries of one peer already in the document", () => {
    const base: PresenceDocument = { entries: [entry(alice, NOW), entry(makePeerId("Alice", "s1"), NOW - 50 * 60_000)], signals: [] }
    expect(applyChange(base, noChange, NOW).entries.map((e) => e.lastSeen)).toEqual([NOW])
  })

  const arbUpserts = fc.uniqueArray(fc.tuple(arbPeer, fc.integer({ min: 0, max: 600_000 })), { maxLength: 6, selector: ([p]) => peerKey(p) })

  it.prop("two writers' changes give the same entries in either order, each at its newest lastSeen", [arbUpserts, arbUpserts], ([a, b]) => {
    const change = (xs: ReadonlyArray<readonly [PeerId, number]>) => ({ ...noChange, upsert: xs.map(([p, ago]) => entry(p, NOW - ago)) })
    const ab = applyChange(applyChange(emptyDocument, change(a), NOW), change(b), NOW)
    const ba = applyChange(applyChange(emptyDocument, change(b), NOW), change(a), NOW)
    expect(lastSeenOf(ab)).toEqual(lastSeenOf(ba))
    for (const [p, ago] of [...a, ...b]) expect(lastSeenOf(ab)[peerKey(p)]).toBeGreaterThanOrEqual(NOW - ago)
  })

  it.prop("applying a change twice is the same as once", [arbUpserts], ([a]) => {
    const change = { ...noChange, upsert: a.map(([p, ago]) => entry(p, NOW - ago)), signals: a.map(([p, ago]) => signal(p, alice, NOW - ago)) }
    const once = applyChange(emptyDocument, change, NOW)
    expect(applyChange(once, change, NOW)).toEqual(once)
  })
})

describe("mergeAuthored", () => {
  it("keeps what a comment says of its own author, login case aside", () => {
    const { document, skipped } = mergeAuthored([
      { author: "Alice", document: { entries: [entry(alice, NOW), entry(makePeerId("alice", "s2"), NOW)], signals: [signal(alice, bob, NOW)] } },
      { author: "bob", document: { entries: [entry(bob, NOW)], signals: [] } }
    ])
    expect(skipped).toEqual([])
    expect(document.entries).toHaveLength(3)
    expect(document.signals).toHaveLength(1)
  })

  it("skips entries and slots that claim another user, with a reason naming both", () => {
    const { document, skipped } = mergeAuthored([
      { author: "mallory", document: { entries: [entry(alice, NOW), entry(makePeerId("mallory", "m1"), NOW)], signals: [signal(bob, carol, NOW), signal(makePeerId("mallory", "m1"), carol, NOW)] } }
    ])
    expect(document.entries.map((e) => e.username)).toEqual(["mallory"])
    expect(document.signals.map((s) => s.from.username)).toEqual(["mallory"])
    expect(skipped).toHaveLength(2)
    expect(skipped[0]!.detail).toContain("mallory")
    expect(skipped[0]!.detail).toContain("alice")
    expect(skipped[1]!.detail).toContain("bob")
  })
})

describe("clock skew in writes", () => {
  it("an entry stamped far in the future is stored as at most MAX_CLOCK_SKEW_MS ahead", () => {
    const doc = applyChange(emptyDocument, { ...noChange, upsert: [entry(alice, NOW + 10 * 3_600_000)] }, NOW)
    expect(doc.entries.map((e) => e.lastSeen)).toEqual([NOW + MAX_CLOCK_SKEW_MS])
  })

  it("entries past the cap are skipped with a reason", () => {
    const many = Array.from({ length: MAX_PRESENCE_ENTRIES + 3 }, (_, i) => ({ username: "alice", session_id: `s${i}`, last_seen: new Date(NOW).toISOString() }))
    const decoded = decodeDocument(JSON.stringify({ version: 1, entries: many, signals: [] }))
    expect(Either.isRight(decoded) && decoded.right.skipped.some((s) => s.detail.includes("3 entries"))).toBe(true)
  })
})

describe("holds", () => {
  const doc = applyChange(emptyDocument, { upsert: [entry(alice, NOW)], remove: [], signals: [signal(alice, bob, NOW, "a1")] }, NOW)

  it("is true for what the document already holds, so a writer has nothing to write", () => {
    expect(holds(doc, noChange)).toBe(true)
    expect(holds(doc, { upsert: [entry(alice, NOW)], remove: [carol], signals: [signal(alice, bob, NOW, "a1")] })).toBe(true)
  })

  it("is false for a fresher entry, a new attempt, a new slot or an entry still to remove", () => {
    expect(holds(doc, { ...noChange, upsert: [entry(alice, NOW + 1)] })).toBe(false)
    expect(holds(doc, { ...noChange, upsert: [entry(bob, NOW)] })).toBe(false)
    expect(holds(doc, { ...noChange, signals: [signal(alice, bob, NOW, "a2")] })).toBe(false)
    expect(holds(doc, { ...noChange, signals: [signal(alice, bob, NOW, "a1", "answer")] })).toBe(false)
    expect(holds(doc, { ...noChange, signals: [signal(bob, alice, NOW, "a1")] })).toBe(false)
    expect(holds(doc, { ...noChange, remove: [alice] })).toBe(false)
  })

  it("counts call slots: one the document lacks, or with other signals, is still to write", () => {
    const call = CallId.make("c1")
    const invite: CallSignal = { _tag: "invite", call, media: "audio", participants: [alice, bob] }
    const ring = callSlot(alice, bob, NOW, [{ id: "a1.call.1", at: NOW, signal: invite }])
    expect(holds(doc, { ...noChange, calls: [ring] })).toBe(false)
    const withRing = applyChange(doc, { ...noChange, calls: [ring] }, NOW)
    expect(holds(withRing, { ...noChange, calls: [ring] })).toBe(true)
    const hangup = callSlot(alice, bob, NOW, [...ring.signals, { id: "a1.call.2", at: NOW, signal: { _tag: "hangup", call } }])
    expect(holds(withRing, { ...noChange, calls: [hangup] })).toBe(false)
  })
})
