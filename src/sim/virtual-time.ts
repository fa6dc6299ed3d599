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
      // Whole milliseconds, as a real clock reads: a jittered sleep of 123.4 ms wakes at the next
      // millisecond. A fractional clock put fractional timestamps in relayed envelopes, which
      // every receiver refused as malformed (soak, file seed 791).
      const timer: Timer = { at: this.now + Math.ceil(Math.max(0, Duration.toMillis(duration))), seq: this.seq++, wake: () => resume(Effect.void) }
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

/** Options of `runVirtual`. */
export interface VirtualOptions {
  /** Epoch ms the clock starts at. */
  readonly start?: number
  /**
   * Most virtual time the run may take. A program that never ends while its fibers keep
   * time moving (one waits forever, the others tick) would otherwise run for ever: it
   * fails with a defect instead.
   */
  readonly limitMs?: number
}

/**
 * Runs `effect` to completion in virtual time starting at `start` (epoch ms).
 * Fails with a defect if every fiber is blocked and no timer is pending (a deadlock),
 * or if the clock passes `limitMs`.
 */
export const runVirtual = <A, E>(effect: Effect.Effect<A, E>, options: VirtualOptions = {}): Exit.Exit<A, E> => {
  const start = options.start ?? Date.UTC(2026, 0, 1)
  const limit = start + (options.limitMs ?? Number.POSITIVE_INFINITY)
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
    if (clock.now > limit) return Exit.die(new Error(`virtual time: still running after ${options.limitMs} ms (a fiber waits for ever while others keep time moving)`))
    drain()
  }
  return fiber.unsafePoll()!
}

/** Runs `effect` in virtual time and returns its value, or throws its failure. */
export const runVirtualOrThrow = <A, E>(effect: Effect.Effect<A, E>, options?: VirtualOptions): A => {
  const exit = runVirtual(effect, options)
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`simulation failed: ${String(exit.cause)}`)
}

/**
 * Promise-based work outside the fibers (an in-process hub, Octokit): the async driver
 * lets it finish before it moves the clock. Wrap every such promise with `track`.
 */
export class ExternalWork {
  /** Promises started and not yet settled. */
  inFlight = 0
  /** Starts plus settlements so far: a change means the event loop may hold follow-up work. */
  events = 0

  /** Counts `start()` as in flight until it settles. */
  track<A>(start: () => Promise<A>): Promise<A> {
    this.inFlight += 1
    this.events += 1
    const done = () => {
      this.inFlight -= 1
      this.events += 1
    }
    let p: Promise<A>
    try {
      p = start()
    } catch (e) {
      done()
      return Promise.reject(e)
    }
    return p.then(
      (a) => {
        done()
        return a
      },
      (e: unknown) => {
        done()
        throw e
      }
    )
  }
}

/** Most event-loop turns the driver waits for external work at one instant. */
const MAX_TURNS_PER_INSTANT = 1_000_000

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Options of `runVirtualAsync`. */
export interface VirtualAsyncOptions {
  /** Epoch ms the clock starts at. */
  readonly start?: number
  /** The promise-based work the program's fibers wait on. */
  readonly work?: ExternalWork
}

/**
 * `runVirtual` for programs that also wait on promises (an in-process hub through
 * Octokit). When no fiber can run, the driver yields to the event loop (a macrotask,
 * so every pending promise callback runs) at least once, then as long as tracked work is
 * in flight or has just settled, and moves the clock only when nothing outside the fibers
 * is pending.
 * Promise callbacks run in a fixed order without real I/O or timers, so the run stays
 * deterministic.
 */
export const runVirtualAsync = async <A, E>(effect: Effect.Effect<A, E>, options: VirtualAsyncOptions = {}): Promise<Exit.Exit<A, E>> => {
  const clock = new VirtualClock(options.start ?? Date.UTC(2026, 0, 1))
  const scheduler = new Scheduler.ControlledScheduler()
  const work = options.work ?? new ExternalWork()
  const fiber = Effect.runFork(Effect.withClock(effect, clock), { scheduler })
  const drain = () => {
    for (let i = 0; scheduler.tasks.buckets.length > 0; i++) {
      if (i > MAX_STEPS_PER_INSTANT) throw new Error("virtual time: fibers never settle at one instant (livelock)")
      scheduler.step()
    }
  }
  let seen = work.events
  let turns = 0
  for (;;) {
    drain()
    if (fiber.unsafePoll() !== null) break
    // A fiber may have started a promise chain that reaches tracked work only after a few
    // callbacks (Octokit's hooks): one turn always runs them before time may move.
    if (turns === 0 || work.inFlight > 0 || work.events !== seen) {
      seen = work.events
      if (++turns > MAX_TURNS_PER_INSTANT) return Exit.die(new Error("virtual time: external work never settles"))
      await nextTurn()
      continue
    }
    turns = 0
    if (!clock.advance()) return Exit.die(new Error("virtual time: every fiber is blocked, no timer is pending and no external work is in flight (deadlock)"))
  }
  return fiber.unsafePoll()!
}

/** Runs `effect` with `runVirtualAsync` and returns its value, or throws its failure. */
export const runVirtualAsyncOrThrow = async <A, E>(effect: Effect.Effect<A, E>, options?: VirtualAsyncOptions): Promise<A> => {
  const exit = await runVirtualAsync(effect, options)
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`simulation failed: ${String(exit.cause)}`)
}
