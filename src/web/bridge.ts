/**
 * The one place Effect meets Solid: streams become signals (the peer pushes; nothing is polled), and
 * user actions run effects. Fibers started here end with the owning Solid scope.
 */
import { Effect, Fiber, Stream } from "effect"
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
