/**
 * Seeded random fault schedules for the soak (`npm run sim:soak`, and `npm run sim --
 * --schedule random` to replay one): every fault kind with random timing. Crashes of
 * the leader and of others (some of the leader right after its commit landed, before it
 * could tell anyone), restarts from the device store, partitions that heal, storms of
 * compare-and-swap losses and rate limits. A schedule depends only on the seed and the
 * run's length, never on what happens, so a seed replays exactly.
 */
import { seededRandom } from "../adapters/memory/network.js"

const MINUTE = 60_000

/** Faults start after this (the mesh forms first). */
export const SCHEDULE_START_MS = 3 * MINUTE
/** No fault starts or lasts within this much of the end, so the mesh can settle and commit. */
export const SCHEDULE_QUIET_END_MS = 6 * MINUTE

/** One fault event of a schedule. */
export type FaultEvent =
  /** Kills a session with no goodbye (the leader, or another picked by `pick`); the device comes back after `downMs`. */
  | { readonly kind: "crash"; readonly at: number; readonly target: "leader" | "other"; readonly pick: number; readonly downMs: number }
  /** Kills the leader right after its next commit lands, before it can tell anyone; back after `downMs`. */
  | { readonly kind: "crash-in-flush"; readonly at: number; readonly downMs: number }
  /** Closes a session normally and opens the same device again after `downMs` (a reload). */
  | { readonly kind: "restart"; readonly at: number; readonly pick: number; readonly downMs: number }
  /** Splits users in two (by a seeded coin per user) until `at + forMs`. */
  | { readonly kind: "partition"; readonly at: number; readonly forMs: number; readonly salt: number }
  /** The next `count` compare-and-swap writes lose, as if someone else had won each. */
  | { readonly kind: "conflicts"; readonly at: number; readonly count: number }
  /** GitHub refuses every request of every user for `forMs`. */
  | { readonly kind: "ratelimit"; readonly at: number; readonly forMs: number }

/** A seed's schedule for a run of `minutes`. */
export const randomSchedule = (seed: number, minutes: number): ReadonlyArray<FaultEvent> => {
  // A stream of its own (not the simulation's), so plain runs of a seed stay as they were.
  const random = seededRandom((seed ^ 0x5eed5eed) >>> 0)
  const end = minutes * MINUTE - SCHEDULE_QUIET_END_MS
  if (end <= SCHEDULE_START_MS) return []
  const span = end - SCHEDULE_START_MS
  const when = () => SCHEDULE_START_MS + Math.floor(random() * span)
  const upTo = (n: number) => Math.floor(random() * (n + 1))
  const events: Array<FaultEvent> = []
  for (let i = 1 + upTo(3); i > 0; i--) {
    events.push({ kind: "crash", at: when(), target: random() < 0.5 ? "leader" : "other", pick: random(), downMs: 20_000 + Math.floor(random() * 3 * MINUTE) })
  }
  for (let i = upTo(1); i > 0; i--) events.push({ kind: "crash-in-flush", at: when(), downMs: 20_000 + Math.floor(random() * 2 * MINUTE) })
  for (let i = upTo(2); i > 0; i--) events.push({ kind: "restart", at: when(), pick: random(), downMs: 5_000 + Math.floor(random() * MINUTE) })
  for (let i = upTo(2); i > 0; i--) {
    const at = when()
    events.push({ kind: "partition", at, forMs: Math.min(end - at, MINUTE + Math.floor(random() * 7 * MINUTE)), salt: Math.floor(random() * 2 ** 30) })
  }
  for (let i = upTo(3); i > 0; i--) events.push({ kind: "conflicts", at: when(), count: 3 + Math.floor(random() * 18) })
  for (let i = upTo(1); i > 0; i--) {
    const at = when()
    events.push({ kind: "ratelimit", at, forMs: Math.min(end - at, MINUTE + Math.floor(random() * 5 * MINUTE)) })
  }
  return events.sort((a, b) => a.at - b.at)
}

/** Which side of a partition `user` is on (a seeded coin per user). */
export const sideOf = (salt: number, user: string): number => {
  let h = salt >>> 0
  for (let i = 0; i < user.length; i++) h = Math.imul(h ^ user.charCodeAt(i), 0x9e3779b1) >>> 0
  return (h >>> 16) & 1
}

/** How long GitHub refused writes in a schedule (rate limits): the commit-wait target allows it on top of 10 minutes. */
export const refusedMs = (events: ReadonlyArray<FaultEvent>): number =>
  events.reduce((n, e) => n + (e.kind === "ratelimit" ? e.forMs : 0), 0)

/** A short text of a schedule, for a failing schedule's report. */
export const describeSchedule = (events: ReadonlyArray<FaultEvent>): string =>
  events
    .map((e) => {
      const at = `${(e.at / MINUTE).toFixed(1)}m`
      switch (e.kind) {
        case "crash":
          return `${at} crash ${e.target} (down ${Math.round(e.downMs / 1000)}s)`
        case "crash-in-flush":
          return `${at} crash leader after its commit (down ${Math.round(e.downMs / 1000)}s)`
        case "restart":
          return `${at} restart (down ${Math.round(e.downMs / 1000)}s)`
        case "partition":
          return `${at} partition for ${Math.round(e.forMs / 1000)}s`
        case "conflicts":
          return `${at} ${e.count} CAS conflicts`
        case "ratelimit":
          return `${at} rate limit for ${Math.round(e.forMs / 1000)}s`
      }
    })
    .join("; ")
