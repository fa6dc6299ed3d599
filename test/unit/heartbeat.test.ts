/** Heartbeat expiry with time as a parameter. */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { expiresAt, isFresh, MAX_CLOCK_SKEW_MS, onlineAt, type HeartbeatConfig } from "../../src/domain/heartbeat.js"
import { makePeerId } from "../../src/domain/identity.js"

const config: HeartbeatConfig = { intervalMs: 30_000, expiryMs: 90_000 }
const alice = makePeerId("alice", "s1")
const bob = makePeerId("bob", "s1")
const carol = makePeerId("carol", "s1")

describe("isFresh", () => {
  it("is fresh until expiryMs have passed, and stale from then on", () => {
    expect(isFresh(1_000, 1_000, config)).toBe(true)
    expect(isFresh(1_000, 1_000 + 89_999, config)).toBe(true)
    expect(isFresh(1_000, 1_000 + 90_000, config)).toBe(false)
    expect(isFresh(1_000, 1_000 + 1_000_000, config)).toBe(false)
  })

  it("counts a timestamp from the future (clock skew) as fresh", () => {
    expect(isFresh(10_000, 0, config)).toBe(true)
  })

  it("uses the configured threshold, not a built-in one", () => {
    expect(isFresh(0, 5_000, { intervalMs: 1_000, expiryMs: 4_000 })).toBe(false)
    expect(isFresh(0, 5_000, { intervalMs: 1_000, expiryMs: 6_000 })).toBe(true)
  })

  it.prop(
    "agrees with expiresAt for believable timestamps: fresh exactly before the expiry time",
    [fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 1e7 })],
    ([lastSeen, now, expiryMs]) => {
      const c = { intervalMs: 1, expiryMs }
      expect(isFresh(lastSeen, now, c)).toBe(lastSeen <= now + MAX_CLOCK_SKEW_MS && now < expiresAt(lastSeen, c))
    }
  )

  it.prop(
    "once expired, stays stale as time advances",
    [fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 })],
    ([lastSeen, now, later]) => {
      if (now >= expiresAt(lastSeen, config)) expect(isFresh(lastSeen, now + later, config)).toBe(false)
    }
  )
})

describe("onlineAt", () => {
  const entries = [
    { peer: alice, lastSeen: 0, extra: "a" },
    { peer: bob, lastSeen: 50_000, extra: "b" },
    { peer: carol, lastSeen: 100_000, extra: "c" }
  ]

  it("keeps the entries still fresh at now, with their own fields", () => {
    expect(onlineAt(entries, 100_000, config).map((e) => e.extra)).toEqual(["b", "c"])
    expect(onlineAt(entries, 89_999, config).map((e) => e.extra)).toEqual(["a", "b", "c"])
    expect(onlineAt(entries, 200_000, config)).toEqual([])
  })

  it("marks a peer offline once its heartbeats stop for expiryMs", () => {
    const lastBeat = 60_000
    const at = (now: number) => onlineAt([{ peer: alice, lastSeen: lastBeat }], now, config).length
    expect(at(lastBeat + config.intervalMs)).toBe(1)
    expect(at(lastBeat + 2 * config.intervalMs)).toBe(1)
    expect(at(lastBeat + config.expiryMs)).toBe(0)
  })
})

describe("clock skew", () => {
  it("a timestamp further ahead than MAX_CLOCK_SKEW_MS is not believed", () => {
    const config = { intervalMs: 60_000, expiryMs: 90_000 }
    expect(isFresh(MAX_CLOCK_SKEW_MS, 0, config)).toBe(true)
    expect(isFresh(MAX_CLOCK_SKEW_MS + 1, 0, config)).toBe(false)
    expect(isFresh(10 * 3_600_000, 0, config)).toBe(false)
  })
})
