/**
 * The one presence strategy (src/adapters/presence-cas.ts) over a toy versioned store: the
 * loop every presence adapter runs. What the adapters add (hosts, budgets) is covered by the
 * Presence contract suite; this pins the loop itself: merge over the version read, no write of
 * a held change, repair of an unreadable version, and the one retry policy.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { emptyDocument, noChange, type PresenceDocument } from "../../src/domain/presence-doc.js"
import { CAS_RETRY_BASE_MS, CAS_RETRY_MAX_MS, Lost, MAX_PUBLISH_ATTEMPTS, publishVia, type Versioned, type VersionedStore } from "../../src/adapters/presence-cas.js"
import { MAX_CALL_SLOT_CHARS } from "../../src/domain/presence-doc.js"
import { callSlot, entry, peer } from "../support/fixtures.js"

/** A stored document with a version counter, written only over the current version. */
const toyStore = () => {
  const host = { version: 0, document: emptyDocument as PresenceDocument, writes: 0, reads: 0, intact: true }
  const attempts: Array<number> = []
  let seen: Versioned<number> = { version: undefined, document: emptyDocument, intact: true }
  /** Another writer's change, landed between this writer's read and its write. */
  const intrude = (doc: PresenceDocument) => {
    host.version += 1
    host.document = doc
  }
  const store: VersionedStore<number> & { beforeWrite?: () => void } = {
    path: "toy",
    current: Effect.gen(function* () {
      attempts.push(yield* Clock.currentTimeMillis)
      host.reads += 1
      seen = { version: host.version === 0 ? undefined : host.version, document: host.document, intact: host.intact }
      return seen
    }),
    write: (over, next) =>
      Effect.gen(function* () {
        store.beforeWrite?.()
        if ((over.version ?? 0) !== host.version) return yield* Effect.fail(new Lost())
        host.writes += 1
        host.version += 1
        host.document = next(yield* Clock.currentTimeMillis)
        host.intact = true
      })
  }
  return { host, store, attempts, intrude }
}

describe("the one presence strategy (compare-and-swap and merge)", () => {
  it.effect("a writer that loses the race merges its change into the winner's version: both entries stay", () =>
    Effect.gen(function* () {
      const t = toyStore()
      let intruded = false
      t.store.beforeWrite = () => {
        if (intruded) return
        intruded = true
        t.intrude({ ...emptyDocument, entries: [entry(peer("bob"), 5)] })
      }
      const fiber = yield* Effect.fork(publishVia(t.store)({ ...noChange, upsert: [entry(peer("alice"), 10)] }))
      yield* TestClock.adjust(CAS_RETRY_MAX_MS * 2)
      yield* Fiber.join(fiber)
      expect(t.host.document.entries.map((e) => e.username).sort()).toEqual(["alice", "bob"])
      expect(t.attempts.length).toBe(2)
      expect(t.host.writes).toBe(1)
    })
  )

  it.effect("a change the intact version already holds is not written", () =>
    Effect.gen(function* () {
      const t = toyStore()
      const change = { ...noChange, upsert: [entry(peer("alice"), 10)] }
      yield* publishVia(t.store)(change)
      yield* publishVia(t.store)(change)
      expect(t.host.writes).toBe(1)
    })
  )

  it.effect("an unreadable version is replaced even when the last good document holds the change", () =>
    Effect.gen(function* () {
      const t = toyStore()
      const change = { ...noChange, upsert: [entry(peer("alice"), 10)] }
      yield* publishVia(t.store)(change)
      t.host.intact = false
      yield* publishVia(t.store)(change)
      expect(t.host.writes).toBe(2)
      expect(t.host.intact).toBe(true)
    })
  )

  it.effect("a change that would not be readable is refused before the store is asked anything", () =>
    Effect.gen(function* () {
      const t = toyStore()
      const many = Array.from({ length: 16 }, (_, i) => peer(`participant${i}`, `session-with-a-long-identifier-${i}-${"z".repeat(30)}`))
      const huge = callSlot(
        peer("alice"),
        peer("bob"),
        1,
        Array.from({ length: 8 }, (_, i) => ({ id: `a.${i}`, at: 1, signal: { _tag: "invite", call: `c${i}`, media: "video", participants: many } as const }))
      )
      expect(JSON.stringify(huge).length).toBeGreaterThan(MAX_CALL_SLOT_CHARS)
      const refused = yield* Effect.flip(publishVia(t.store)({ ...noChange, calls: [huge] }))
      expect(refused._tag).toBe("PresenceMalformed")
      expect(t.host.reads).toBe(0)
    })
  )

  it.effect("every loss waits the one backoff (from 50 ms, jittered, capped at 800 ms); the last loss is a PresenceConflict", () =>
    Effect.gen(function* () {
      const t = toyStore()
      // Someone else always wins.
      t.store.beforeWrite = () => t.intrude(t.host.document)
      const fiber = yield* Effect.fork(Effect.flip(publishVia(t.store)({ ...noChange, upsert: [entry(peer("alice"), 10)] })))
      for (let i = 0; i < 1_000 && t.attempts.length < MAX_PUBLISH_ATTEMPTS; i++) yield* TestClock.adjust(10)
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("PresenceConflict")
      expect(t.attempts.length).toBe(MAX_PUBLISH_ATTEMPTS)
      const gaps = t.attempts.slice(1).map((at, i) => at - t.attempts[i]!)
      // Schedule.jittered scales each wait by a factor in [0.8, 1.2].
      gaps.forEach((gap, i) => {
        const nominal = Math.min(CAS_RETRY_BASE_MS * 2 ** i, CAS_RETRY_MAX_MS)
        expect(gap).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8) - 10)
        expect(gap).toBeLessThanOrEqual(Math.ceil(nominal * 1.2) + 10)
      })
      expect(t.host.writes).toBe(0)
    })
  )
})
