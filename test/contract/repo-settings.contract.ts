/**
 * The RepoSettings port's contract: the first choice is recorded once, later writers see a
 * conflict and the recorded choice, a change goes over the version it saw, and a corrupt
 * file is reported with a version an explicit change can replace.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, type Scope } from "effect"
import type { RepoSettings } from "../../src/domain/repo-settings.js"
import { Username } from "../../src/domain/identity.js"
import type { RepoSettingsService } from "../../src/ports/RepoSettings.js"

/** What a settings adapter under test provides. */
export interface RepoSettingsFixture {
  readonly client: (user: string) => Effect.Effect<RepoSettingsService, unknown, Scope.Scope>
  /** Writes the settings file's raw text, bypassing the adapter. */
  readonly writeRaw: (text: string) => Effect.Effect<void, unknown, Scope.Scope>
}

const settings = (presence: "file" | "discussion", by: string, at = 1_000): RepoSettings => ({ v: 1, presence, chosenBy: Username.make(by), chosenAt: at })

/** Runs the RepoSettings contract against one adapter. */
export const repoSettingsContract = (name: string, makeFixture: Effect.Effect<RepoSettingsFixture, unknown, Scope.Scope>) =>
  describe(`RepoSettings contract: ${name}`, () => {
    it.scopedLive("nothing is recorded at first; the first choice is, and a second first choice conflicts", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        expect(Option.isNone(yield* alice.read)).toBe(true)
        const first = yield* alice.write(settings("discussion", "alice"), Option.none())
        const late = yield* Effect.exit(bob.write(settings("file", "bob"), Option.none()))
        expect(Exit.isFailure(late) && JSON.stringify(late).includes("SettingsConflict")).toBe(true)
        const seen = Option.getOrThrow(yield* bob.read)
        expect(seen.settings).toEqual(settings("discussion", "alice"))
        expect(seen.version).toBe(first.version)
      })
    )

    it.scopedLive("a change goes over the version it saw; a stale one conflicts", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        const bob = yield* f.client("bob")
        const first = yield* alice.write(settings("file", "alice"), Option.none())
        const changed = yield* bob.write(settings("discussion", "bob", 2_000), Option.some(first.version))
        const stale = yield* Effect.exit(alice.write(settings("file", "alice", 3_000), Option.some(first.version)))
        expect(Exit.isFailure(stale) && JSON.stringify(stale).includes("SettingsConflict")).toBe(true)
        expect(Option.getOrThrow(yield* alice.read)).toEqual(changed)
      })
    )

    it.scopedLive("a corrupt file is reported with its version, and an explicit change replaces it", () =>
      Effect.gen(function* () {
        const f = yield* makeFixture
        const alice = yield* f.client("alice")
        yield* alice.write(settings("file", "alice"), Option.none())
        yield* f.writeRaw('{"v": 1, "presence": "carrier-pigeon"}')
        const bad = yield* Effect.flip(alice.read)
        expect(bad._tag).toBe("SettingsMalformed")
        if (bad._tag !== "SettingsMalformed") return
        yield* alice.write(settings("discussion", "alice", 5_000), Option.some(bad.version))
        expect(Option.getOrThrow(yield* alice.read).settings.presence).toBe("discussion")
      })
    )
  })
