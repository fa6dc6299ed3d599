/**
 * The one place Effect meets Solid: streams and polled effects become signals, and
 * user actions run effects. Fibers started here end with the owning Solid scope.
 */
import { Duration, Effect, Fiber, Schedule, Stream } from "effect"
import { createSignal, onCleanup, type Accessor } from "solid-js"

/** A signal holding the latest value of `stream` (starting at `initial`). */
export const fromStream = <A>(stream: Stream.Stream<A>, initial: A): Accessor<A> => {
  const [value, setValue] = createSignal<A>(initial, { equals: false })
  const fiber = Effect.runFork(Stream.runForEach(stream, (a) => Effect.sync(() => setValue(() => a))))
  onCleanup(() => void Effect.runFork(Fiber.interrupt(fiber)))
  return value
}

/** Calls `f` for every element of `stream` while the owning scope lives. */
export const onEach = <A>(stream: Stream.Stream<A>, f: (a: A) => void): void => {
  const fiber = Effect.runFork(Stream.runForEach(stream, (a) => Effect.sync(() => f(a))))
  onCleanup(() => void Effect.runFork(Fiber.interrupt(fiber)))
}

/** A signal holding the value of `effect`, read again every `everyMs`. */
export const polled = <A>(effect: Effect.Effect<A>, initial: A, everyMs: number): Accessor<A> => {
  const [value, setValue] = createSignal<A>(initial, { equals: false })
  const fiber = Effect.runFork(
    Effect.repeat(
      Effect.flatMap(effect, (a) => Effect.sync(() => setValue(() => a))),
      Schedule.spaced(Duration.millis(everyMs))
    )
  )
  onCleanup(() => void Effect.runFork(Fiber.interrupt(fiber)))
  return value
}

/** Runs a user action's effect; a failure becomes a rejected promise with a readable message. */
export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    Effect.mapError(effect, (e) =>
      new Error(
        typeof e === "object" && e !== null && "_tag" in e
          ? `${String(e._tag)}${"reason" in e ? `: ${String(e.reason)}` : "detail" in e ? `: ${String(e.detail)}` : ""}`
          : String(e)
      )
    )
  )
