/**
 * The Presence port's contract: a function of a fixture, so every adapter (memory
 * file and Discussion, GitHub over the local hub) runs the same suite.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, type Scope } from "effect"
import { noChange } from "../../src/domain/presence-doc.js"
import type { PresenceService } from "../../src/ports/Presence.js"
import { MAX_CALL_SLOT_CHARS } from "../../src/domain/presence-doc.js"
import { callSlot, entry, peer, signal } from "../support/fixtures.js"

/** What a presence adapter under test provides. */
export interface PresenceFixture {
  /** A client of `user` on the one channel of this fixture. */
  readonly client: (user: string) => Effect.Effect<PresenceService, unknown, Scope.Scope>
  /** Writes raw text into the channel as user `author` (the file, or that user's comment). */
  readonly writeRaw: (author: string, text: string) => Effect.Effect<void, unknown, Scope.Scope>
}

/** Runs the Presence contract against one adapter. */
export const presenceContract = (
  name: string,
  form: "file" | "discussion",
  makeFixture: Effect.Effect<PresenceFixture, unknown, Scope.Scope>
) =>
  describe(`Presence contract: ${name}`, () => {
    it.scopedLive("reports its form and how identities are established", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        expect(alice.form).toBe(form)
        expect(alice.identities).toBe(form === "file" ? "claimed" : "verified")
        expect(alice.writesForOthers).toBe(form === "file")
      })
    )

    it.scopedLive("a published heartbeat is read by another user", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice"), now, "sha-256 AA")] })
        const seen = yield* bob.read
        expect(seen.document.entries.map((e) => [e.username, e.sessionId, e.fingerprint])).toEqual([["alice", "s1", "sha-256 AA"]])
        expect(Math.abs(seen.document.entries[0]!.lastSeen - now)).toBeLessThan(1000)
      })
    )

    it.scopedLive("writers racing each other lose nothing", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const users = ["alice", "bob", "carol", "dave"]
        const clients = yield* Effect.forEach(users, (u) => f.client(u))
        const now = yield* Clock.currentTimeMillis
        yield* Effect.forEach(clients, (c, i) => c.publish({ ...noChange, upsert: [entry(peer(users[i]!), now)] }), {
          concurrency: "unbounded"
        })
        const seen = yield* clients[0]!.read
        expect(seen.document.entries.map((e) => e.username).sort()).toEqual(users)
      })
    )

    it.scopedLive("what a reader's own write fetched or made is still news to its next read", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        yield* bob.publish({ ...noChange, upsert: [entry(peer("bob"), now)] })
        expect((yield* bob.read).changed).toBe(true)
        // Alice writes; bob's next write must fetch her version first (in file form it loses a race).
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice"), now)] })
        yield* bob.publish({ ...noChange, upsert: [entry(peer("bob"), now + 1)] })
        // A regression: the memory adapter answered "unchanged" here, so a peer that wrote
        // often (a sponsor) never saw other components refresh their entries, and a healed
        // partition stayed split.
        const seen = yield* bob.read
        expect(seen.changed).toBe(true)
        expect(seen.document.entries.map((e) => e.username).sort()).toEqual(["alice", "bob"])
        expect((yield* bob.read).changed).toBe(false)
      })
    )

    it.scopedLive("a user's new session keeps that user's other sessions on its first write", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const now = yield* Clock.currentTimeMillis
        const first = yield* f.client("alice")
        yield* first.publish({ ...noChange, upsert: [entry(peer("alice", "s1"), now, "sha-256 AA")] })
        // Another tab (or the session after a crash) of the same user, which has read nothing yet.
        const second = yield* f.client("alice")
        yield* second.publish({ ...noChange, upsert: [entry(peer("alice", "s2"), now, "sha-256 BB")] })
        const bob = yield* f.client("bob")
        const seen = yield* bob.read
        expect(seen.document.entries.map((e) => `${e.username}/${e.sessionId}`).sort()).toEqual(["alice/s1", "alice/s2"])
      })
    )

    it.scopedLive("signaling slots are addressed per pair and replaced per pair", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const carol = yield* f.client("carol")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        yield* alice.publish({ ...noChange, signals: [signal(peer("alice"), peer("bob"), now, "first")] })
        yield* carol.publish({ ...noChange, signals: [signal(peer("carol"), peer("bob"), now, "from-carol")] })
        yield* alice.publish({ ...noChange, signals: [signal(peer("alice"), peer("bob"), now + 1, "second")] })
        const seen = yield* bob.read
        const toBob = seen.document.signals.filter((s) => s.to.username === "bob").map((s) => `${s.from.username}:${s.attempt}`)
        expect(toBob.sort()).toEqual(["alice:second", "carol:from-carol"])
      })
    )

    it.scopedLive("a call slot reaches its peer beside the connection slot of the same pair, and is replaced per pair", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        const invite = { _tag: "invite", call: "c1", media: "audio", participants: [peer("alice"), peer("bob")] } as const
        yield* alice.publish({ ...noChange, signals: [signal(peer("alice"), peer("bob"), now, "offer-1")] })
        yield* alice.publish({ ...noChange, calls: [callSlot(peer("alice"), peer("bob"), now, [{ id: "a.1", at: now, signal: invite }])] })
        const first = yield* bob.read
        expect(first.document.signals.map((s) => s.attempt)).toEqual(["offer-1"])
        expect(first.document.calls?.map((c) => c.signals.map((x) => x.signal._tag))).toEqual([["invite"]])
        yield* alice.publish({
          ...noChange,
          calls: [callSlot(peer("alice"), peer("bob"), now + 1, [{ id: "a.1", at: now, signal: invite }, { id: "a.2", at: now + 1, signal: { _tag: "hangup", call: "c1" } }])]
        })
        const second = yield* bob.read
        expect(second.document.signals.map((s) => s.attempt)).toEqual(["offer-1"])
        expect(second.document.calls?.map((c) => c.signals.map((x) => x.id))).toEqual([["a.1", "a.2"]])
        expect(second.document.calls?.[0]?.from).toEqual(peer("alice"))
      })
    )

    it.scopedLive("a call slot over its size bound is refused before anything is written", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const now = yield* Clock.currentTimeMillis
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice"), now)] })
        const before = yield* bob.read
        const many = Array.from({ length: 16 }, (_, i) => peer(`participant${i}`, `session-with-a-long-identifier-${i}-${"z".repeat(30)}`))
        const huge = callSlot(
          peer("alice"),
          peer("bob"),
          now,
          Array.from({ length: 8 }, (_, i) => ({ id: `a.${i}`, at: now, signal: { _tag: "invite", call: `c${i}`, media: "video", participants: many } as const }))
        )
        expect(JSON.stringify(huge).length).toBeGreaterThan(MAX_CALL_SLOT_CHARS)
        const refused = yield* Effect.flip(alice.publish({ ...noChange, upsert: [entry(peer("alice"), now + 1)], calls: [huge] }))
        expect(refused._tag).toBe("PresenceMalformed")
        const after = yield* bob.read
        expect(after.changed).toBe(false)
        expect(after.document).toEqual(before.document)
      })
    )

    it.scopedLive("a malformed call slot is skipped with a reason, and the good one beside it is read", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const bob = yield* f.client("bob")
        const now = new Date(yield* Clock.currentTimeMillis).toISOString()
        const from = { username: "alice", session_id: "s1" }
        const to = { username: "bob", session_id: "s1" }
        yield* f.writeRaw(
          "alice",
          JSON.stringify({
            version: 1,
            entries: [{ username: "alice", session_id: "s1", last_seen: now }],
            signals: [],
            calls: [
              { from, to, at: now, signals: [{ id: "a.1", at: now, signal: { _tag: "ring-forever", call: "c1" } }] },
              { from, to, at: now, signals: [{ id: "a.2", at: now, signal: { _tag: "hangup", call: "c1" } }], padding: "x".repeat(MAX_CALL_SLOT_CHARS) },
              { from, to, at: now, signals: [{ id: "a.3", at: now, signal: { _tag: "hangup", call: "c1" } }] }
            ]
          })
        )
        const seen = yield* bob.read
        expect(seen.document.entries.map((e) => e.username)).toEqual(["alice"])
        expect(seen.document.calls?.map((c) => c.signals.map((x) => x.id))).toEqual([["a.3"]])
        expect(seen.skipped.map((s) => s.detail).join("\n")).toContain("call slot 0")
        expect(seen.skipped.map((s) => s.detail).join("\n")).toContain(`over ${MAX_CALL_SLOT_CHARS}`)
      })
    )

    it.scopedLive("a removed entry is gone", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const now = yield* Clock.currentTimeMillis
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice", "one"), now), entry(peer("alice", "two"), now)] })
        yield* alice.publish({ ...noChange, remove: [peer("alice", "one")] })
        const seen = yield* alice.read
        expect(seen.document.entries.map((e) => e.sessionId)).toEqual(["two"])
      })
    )

    it.scopedLive("an unchanged channel reads as not changed", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })
        const first = yield* bob.read
        const second = yield* bob.read
        expect(first.changed).toBe(true)
        expect(second.changed).toBe(false)
        expect(second.document).toEqual(first.document)
      })
    )

    it.scopedLive("a malformed entry is skipped with a reason and the others are read", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const bob = yield* f.client("bob")
        const now = new Date(yield* Clock.currentTimeMillis).toISOString()
        yield* f.writeRaw(
          "alice",
          JSON.stringify({
            version: 1,
            entries: [
              { username: "alice", session_id: "s1", last_seen: now },
              { username: "alice", session_id: "s2", last_seen: "yesterday-ish" },
              { username: "-bad-", session_id: "s3", last_seen: now }
            ],
            signals: [{ nonsense: true }]
          })
        )
        const seen = yield* bob.read
        expect(seen.document.entries.map((e) => e.sessionId)).toEqual(["s1"])
        expect(seen.skipped.length).toBe(3)
      })
    )

    it.scopedLive("a broken document is an error with a reason, and the next write repairs it", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        yield* f.writeRaw("mallory", "{ this is not json")
        const read = yield* Effect.exit(bob.read)
        if (form === "file") {
          expect(Exit.isFailure(read)).toBe(true)
          expect(JSON.stringify(read)).toContain("PresenceMalformed")
        } else {
          // One user's broken comment must not hide everyone else.
          expect(Exit.isSuccess(read)).toBe(true)
        }
        yield* alice.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })
        const seen = yield* bob.read
        expect(seen.document.entries.map((e) => e.username)).toEqual(["alice"])
      })
    )

    if (form === "discussion") {
      it.scopedLive("an entry claiming another user is skipped: the comment's author is the identity", () =>
        Effect.gen(function* () {
          const f = yield* makeFixture
          const bob = yield* f.client("bob")
          const now = new Date(yield* Clock.currentTimeMillis).toISOString()
          yield* f.writeRaw(
            "mallory",
            JSON.stringify({ version: 1, entries: [{ username: "alice", session_id: "s1", last_seen: now }], signals: [] })
          )
          const seen = yield* bob.read
          expect(seen.document.entries).toEqual([])
          expect(seen.skipped.some((s) => s.detail.includes("mallory"))).toBe(true)
        })
      )

      it.scopedLive("a call slot claiming another user's sender is skipped: no one rings in someone else's name", () =>
        Effect.gen(function* () {
          const f = yield* makeFixture
          const bob = yield* f.client("bob")
          const now = new Date(yield* Clock.currentTimeMillis).toISOString()
          const invite = { _tag: "invite", call: "c1", media: "audio", participants: [{ username: "alice", sessionId: "s1" }, { username: "bob", sessionId: "s1" }] }
          yield* f.writeRaw(
            "mallory",
            JSON.stringify({
              version: 1,
              entries: [],
              signals: [],
              calls: [{ from: { username: "alice", session_id: "s1" }, to: { username: "bob", session_id: "s1" }, at: now, signals: [{ id: "m.1", at: now, signal: invite }] }]
            })
          )
          const seen = yield* bob.read
          expect(seen.document.calls ?? []).toEqual([])
          expect(seen.skipped.some((s) => s.detail.includes("mallory") && s.detail.includes("call slot"))).toBe(true)
        })
      )
    }
  })
