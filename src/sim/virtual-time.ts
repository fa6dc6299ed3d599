/**
 * Deterministic virtual time for whole-mesh simulations. Like Effect's TestClock,
 * but time advances by itself: every fiber runs on a controlled scheduler, and
 * when none has work left the clock jumps to the next sleeper. Hours of protocol
 * time take seconds, and the same program gives the same run, byte for byte.
 */
import { Clock, Duration, Effect, Exit, Scheduler } from "effect"

interface Timer {
  readonly at: number
  readonly seq: number
  readonly wake: () => void
}

/** A clock whose time only moves when the driver moves it. */
export class VirtualClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private timers: Array<Timer> = []
  private seq = 0

  constructor(public now: number) {}

  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  get currentTimeMillis(): Effect.Effect<number> {
    return Effect.sync(() => this.now)
  }
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(this.now) * 1_000_000n
  }
  get currentTimeNanos(): Effect.Effect<bigint> {
    return Effect.sync(() => this.unsafeCurrentTimeNanos())
  }
  sleep(duration: Duration.Duration): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      const timer: Timer = { at: this.now + Math.max(0, Duration.toMillis(duration)), seq: this.seq++, wake: () => resume(Effect.void) }
      this.insert(timer)
      return Effect.sync(() => {
        this.timers = this.timers.filter((t) => t !== timer)
      })
    })
  }

  /** Fires every timer due at the earliest pending time; false when none is pending. */
  advance(): boolean {
    const next = this.timers[0]
    if (next === undefined) return false
    this.now = Math.max(this.now, next.at)
    while (this.timers.length > 0 && this.timers[0]!.at <= this.now) this.timers.shift()!.wake()
    return true
  }

  private insert(timer: Timer): void {
    // Binary search keeps timers ordered by (at, seq): equal times fire in creation order.
    let lo = 0
    let hi = this.timers.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const t = this.timers[mid]!
      if (t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) lo = mid + 1
      else hi = mid
    }
    this.timers.splice(lo, 0, timer)
  }
}

/** Most scheduler steps between two clock advances before the run is declared livelocked. */
const MAX_STEPS_PER_INSTANT = 1_000_000

/**
 * Runs `effect` to completion in virtual time starting at `start` (epoch ms).
 * Fails with a defect if every fiber is blocked and no timer is pending (a deadlock).
 */
export const runVirtual = <A, E>(effect: Effect.Effect<A, E>, start = Date.UTC(2026, 0, 1)): Exit.Exit<A, E> => {
  const clock = new VirtualClock(start)
  const scheduler = new Scheduler.ControlledScheduler()
  const fiber = Effect.runFork(Effect.withClock(effect, clock), { scheduler })
  const drain = () => {
    for (let i = 0; scheduler.tasks.buckets.length > 0; i++) {
      if (i > MAX_STEPS_PER_INSTANT) throw new Error("virtual time: fibers never settle at one instant (livelock)")
      scheduler.step()
    }
  }
  drain()
  while (fiber.unsafePoll() === null) {
    if (!clock.advance()) return Exit.die(new Error("virtual time: every fiber is blocked and no timer is pending (deadlock)"))
    drain()
  }
  return fiber.unsafePoll()!
}

/** Runs `effect` in virtual time and returns its value, or throws its failure. */
export const runVirtualOrThrow = <A, E>(effect: Effect.Effect<A, E>, start?: number): A => {
  const exit = runVirtual(effect, start)
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`simulation failed: ${String(exit.cause)}`)
}
