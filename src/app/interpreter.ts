/**
 * The one interpreter of the domain's pure steps (`step(state, event, now) → {state, commands}`):
 * it steps the state with an event at the clock's time, carries out the commands in order, and
 * steps every event they found (at the clock's time when its step is taken) until nothing is
 * left. Commands a caller must act on itself (outcomes) are handed back, not run. Leadership
 * (`leader.ts`) and presence publishing (`presence-loop.ts`) run through it, on the actor.
 */
import { Effect } from "effect"
import { now } from "./context.js"

/** What a step returns. */
export interface Stepped<S, C> {
  readonly state: S
  readonly commands: ReadonlyArray<C>
}

/** A step function, where its state lives, and how its commands are carried out. */
export interface Machine<S, E, C, O extends C = never> {
  readonly get: () => S
  readonly set: (state: S) => void
  readonly step: (state: S, event: E, at: number) => Stepped<S, C>
  /** Commands handed back to the caller instead of run. */
  readonly isOutcome?: (command: C) => command is O
  /** Carries out one command of a step taken at `at`; the events it returns are stepped next, in order. */
  readonly run: (command: Exclude<C, O>, at: number) => Effect.Effect<ReadonlyArray<E>>
}

const NONE: ReadonlyArray<never> = []
/** What a step that commands nothing answers: one effect, made once. */
const NOTHING: Effect.Effect<ReadonlyArray<never>> = Effect.succeed(NONE)

/** Carries out `commands` of a step taken at `at`, then steps what they found, until nothing is left. */
const carryOut = <S, E, C, O extends C>(m: Machine<S, E, C, O>, commands: ReadonlyArray<C>, at: number): Effect.Effect<ReadonlyArray<O>> =>
  Effect.gen(function* () {
    const outcomes: Array<O> = []
    const queue: Array<E> = []
    const take = function* (cmd: C, stepAt: number) {
      if (m.isOutcome?.(cmd)) outcomes.push(cmd)
      else queue.push(...(yield* m.run(cmd as Exclude<C, O>, stepAt)))
    }
    for (const cmd of commands) yield* take(cmd, at)
    while (queue.length > 0) {
      const stepAt = yield* now
      const result = m.step(m.get(), queue.shift()!, stepAt)
      m.set(result.state)
      for (const cmd of result.commands) yield* take(cmd, stepAt)
    }
    return outcomes
  })

/**
 * Steps `event` at the clock's time and carries out what follows; answers the outcomes, in the
 * order they were commanded. Most steps command nothing (every tick asks): those take one effect
 * to read the clock (at whole milliseconds, as `now`) and one to answer, no generator.
 */
export const stepAndRun = <S, E, C, O extends C>(m: Machine<S, E, C, O>, event: E): Effect.Effect<ReadonlyArray<O>> =>
  Effect.clockWith((clock) => {
    const at = Math.floor(clock.unsafeCurrentTimeMillis())
    const result = m.step(m.get(), event, at)
    m.set(result.state)
    return result.commands.length === 0 ? NOTHING : carryOut(m, result.commands, at)
  })
