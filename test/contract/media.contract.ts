/**
 * The Media port's contract: a function of a fixture, so every Media adapter runs the
 * same suite (the in-memory one in `memory.test.ts`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Stream, type Scope } from "effect"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import type { MediaService, RemoteTrackEvent } from "../../src/ports/Media.js"
import { peer } from "../support/fixtures.js"

/** What a Media adapter under test provides. */
export interface MediaFixture {
  /** The Media of `a` and `b`, with a connection between them open (the transport's part). */
  readonly pair: (a: PeerId, b: PeerId) => Effect.Effect<{ readonly a: MediaService; readonly b: MediaService }, unknown, Scope.Scope>
}

/** The next `n` remote-track events at `media`, subscribed now (live when this returns). */
const nextRemote = (media: MediaService, n: number) =>
  Effect.flatMap(media.remote, (stream) =>
    Effect.map(Effect.fork(Stream.runCollect(Stream.take(stream, n))), (fiber) => Effect.map(Fiber.join(fiber), Chunk.toReadonlyArray))
  )

const shown = (events: ReadonlyArray<RemoteTrackEvent>) => events.map((e) => `${e._tag} ${e.track.kind} from ${peerKey(e.track.peer)}`)

/** Runs the Media contract against one adapter. */
export const mediaContract = (name: string, makeFixture: Effect.Effect<MediaFixture, unknown, Scope.Scope>) =>
  describe(`Media contract: ${name}`, () => {
    const alice = peer("alice", "a1")
    const bob = peer("bob", "b1")
    const nobody = peer("nobody", "n1")

    it.scopedLive("captures a microphone as audio and a camera as video, each its own track", () =>
      Effect.gen(function* () {
        const { a } = yield* (yield* makeFixture).pair(alice, bob)
        const mic = yield* a.capture("microphone")
        const cam = yield* a.capture("camera")
        expect([mic.source, mic.kind, cam.source, cam.kind]).toEqual(["microphone", "audio", "camera", "video"])
        expect(mic.id).not.toBe(cam.id)
      })
    )

    it.scopedLive("a track sent to an opened peer is added there once, and removed when taken off", () =>
      Effect.gen(function* () {
        const { a, b } = yield* (yield* makeFixture).pair(alice, bob)
        yield* b.open(alice)
        const events = yield* nextRemote(b, 2)
        const mic = yield* a.capture("microphone")
        yield* a.send(bob, mic)
        // Sending a track already there leaves it alone: no second "Added".
        yield* a.send(bob, mic)
        yield* a.unsend(bob, mic)
        const seen = yield* events
        expect(shown(seen)).toEqual([`Added audio from ${peerKey(alice)}`, `Removed audio from ${peerKey(alice)}`])
        expect(seen[0]!.track.id).toBe(seen[1]!.track.id)
      })
    )

    it.scopedLive("closing a peer takes our tracks off it and reports its tracks removed", () =>
      Effect.gen(function* () {
        const { a, b } = yield* (yield* makeFixture).pair(alice, bob)
        yield* a.open(bob)
        yield* b.open(alice)
        const atA = yield* nextRemote(a, 2)
        const atB = yield* nextRemote(b, 2)
        yield* a.send(bob, yield* a.capture("camera"))
        yield* b.send(alice, yield* b.capture("microphone"))
        yield* a.close(bob)
        expect(shown(yield* atA)).toEqual([`Added audio from ${peerKey(bob)}`, `Removed audio from ${peerKey(bob)}`])
        expect(shown(yield* atB)).toEqual([`Added video from ${peerKey(alice)}`, `Removed video from ${peerKey(alice)}`])
      })
    )

    it.scopedLive("muting and stopping never fail, and stopping twice does nothing more", () =>
      Effect.gen(function* () {
        const { a } = yield* (yield* makeFixture).pair(alice, bob)
        const mic = yield* a.capture("microphone")
        yield* a.setEnabled(mic, false)
        yield* a.setEnabled(mic, true)
        yield* a.stop(mic)
        yield* a.stop(mic)
        yield* a.setEnabled(mic, false)
      })
    )

    it.scopedLive("tracks cannot go to a peer with no connection", () =>
      Effect.gen(function* () {
        const { a } = yield* (yield* makeFixture).pair(alice, bob)
        const mic = yield* a.capture("microphone")
        const sent = yield* Effect.exit(a.send(nobody, mic))
        expect(Exit.isFailure(sent)).toBe(true)
        expect(JSON.stringify(sent)).toContain("MediaLinkError")
        expect(JSON.stringify(sent)).toContain("no-connection")
      })
    )
  })
