/**
 * Issue 13: every connection attempt that fails, times out or is replaced releases its
 * RTCPeerConnection and sockets at once. A peer that offered to 100 made-up sessions went
 * from 51 to 19,999 open files. Open files are counted before and after 50 failed attempts
 * of each kind on real @roamhq/wrtc.
 */
import { readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { Effect, Option } from "effect"
import { makePeerId } from "../../src/domain/identity.js"
import { alice, bob, connect, eventually, makeNode, remoteOf } from "./helpers.js"

/** Open file descriptors of this process. */
const openFiles = (): number => readdirSync("/proc/self/fd").length

/** Allowed difference from the count before: other test files' workers may open a few. */
const SLACK = 12

/** Waits until the open files are back within `SLACK` of `before`, and returns the count. */
const settlesNear = (before: number) =>
  eventually(Effect.sync(() => (openFiles() <= before + SLACK ? Option.some(openFiles()) : Option.none())))

const fake = (i: number) => makePeerId("zz-fake", `f${i}`)

describe("failed attempts release their connections", () => {
  it("50 offers abandoned (closed, refused answer, replaced) leave open files where they were", () =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const a = yield* makeNode(alice)
          const b = yield* makeNode(bob)
          const c = yield* makeNode(makePeerId("carol", "c1"))
          // One real connection first: @roamhq/wrtc opens its threads and sockets on first use.
          yield* connect(a, b)
          const before = openFiles()
          for (let i = 0; i < 50; i++) {
            const remote = { peer: fake(i), fingerprint: Option.some(b.transport.fingerprint) }
            yield* a.transport.offer(remote, `x${i}`)
            switch (i % 3) {
              case 0:
                // The mesh gives up (timeout, a failed link): it closes the attempt.
                yield* a.transport.close(remote.peer)
                break
              case 1: {
                // An answer that proves another fingerprint is refused, and the attempt closed.
                const other = yield* c.transport.answer(remoteOf(a), `x${i}`, yield* a.transport.offer(remote, `x${i}`)).pipe(Effect.either)
                expect(other._tag).toBe("Right")
                const refused = yield* a.transport.complete({ ...remote, fingerprint: Option.some("sha-256 00:11") }, `x${i}`, other._tag === "Right" ? other.right : { type: "answer", sdp: "" }).pipe(Effect.either)
                expect(refused._tag).toBe("Left")
                break
              }
              case 2:
                // A newer attempt replaces it.
                yield* a.transport.offer(remote, `z${i}`)
                yield* a.transport.close(remote.peer)
                break
            }
          }
          // Only the real connection to bob is left, and it still works.
          expect(yield* a.internals.connectionCount).toBe(1)
          expect(Option.getOrUndefined(yield* a.internals.state(bob))).toBe("open")
          yield* c.transport.close(alice)
          const after = yield* settlesNear(before)
          expect(after).toBeLessThanOrEqual(before + SLACK)
        })
      )
    ), 120_000)
})
