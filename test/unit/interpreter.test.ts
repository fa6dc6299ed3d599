/**
 * The app's one interpreter of pure steps (src/app/interpreter.ts): what a step commands is
 * carried out in order, what the commands find is stepped next (at the clock's time then), and
 * outcomes are handed back instead of run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { stepAndRun, type Machine } from "../../src/app/interpreter.js"

type Event = { readonly n: number }
type Command = { readonly _tag: "Run"; readonly n: number } | { readonly _tag: "Done"; readonly n: number }

/** A step that, for event n > 0, commands running n - 1, and hands back "Done n". */
const countdown = (log: Array<string>): Machine<ReadonlyArray<number>, Event, Command, Extract<Command, { _tag: "Done" }>> => {
  let state: ReadonlyArray<number> = []
  return {
    get: () => state,
    set: (s) => void (state = s),
    step: (s, event, at) => {
      log.push(`step ${event.n} at ${at}`)
      return { state: [...s, event.n], commands: event.n > 0 ? [{ _tag: "Run", n: event.n - 1 }, { _tag: "Done", n: event.n }] : [] }
    },
    isOutcome: (cmd): cmd is Extract<Command, { _tag: "Done" }> => cmd._tag === "Done",
    run: (cmd, at) =>
      Effect.gen(function* () {
        log.push(`run ${cmd.n} for the step at ${at}`)
        // The command takes time: the event it finds is stepped at the clock's time then.
        yield* TestClock.adjust(10)
        return [{ n: cmd.n }]
      })
  }
}

describe("the step interpreter", () => {
  it.effect("runs each command, steps what it found at the clock's time, and hands back the outcomes in order", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const m = countdown(log)
      yield* TestClock.adjust(100)
      const outcomes = yield* stepAndRun(m, { n: 2 })
      expect(outcomes.map((o) => o.n)).toEqual([2, 1])
      expect(m.get()).toEqual([2, 1, 0])
      expect(log).toEqual(["step 2 at 100", "run 1 for the step at 100", "step 1 at 110", "run 0 for the step at 110", "step 0 at 120"])
    })
  )

  it.effect("a step that commands nothing runs nothing and hands back nothing", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const m = countdown(log)
      expect(yield* stepAndRun(m, { n: 0 })).toEqual([])
      expect(m.get()).toEqual([0])
      expect(log).toEqual(["step 0 at 0"])
    })
  )
})
