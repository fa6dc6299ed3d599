/**
 * RepoSettings on the in-memory GitHub: the settings file with a blob sha as its
 * version, written with compare-and-swap like the contents API (one read or one write each).
 */
import { Effect, Either, Layer, Option } from "effect"
import { decodeSettings, encodeSettings } from "../../domain/repo-settings.js"
import { RepoSettingsStore, SettingsConflict, SettingsMalformed, SettingsUnavailable, type RepoSettingsService } from "../../ports/RepoSettings.js"
import type { MemoryGitHub, WorldFailure } from "./github-world.js"

const unavailable = (f: WorldFailure) =>
  new SettingsUnavailable({ detail: f._tag === "RateLimited" ? `rate limited (${f.limit}), retry in ${f.retryAfterMs} ms` : f.detail, cause: f })

/** The settings of the world's repository as `user` reaches them. */
export const makeMemoryRepoSettings = (world: MemoryGitHub, user: string): RepoSettingsService => ({
  read: world.request(user, "read", () => world.settingsFile).pipe(
    Effect.mapError(unavailable),
    Effect.flatMap((file) => {
      if (file === undefined) return Effect.succeed(Option.none())
      return Either.match(decodeSettings(file.text), {
        onLeft: (detail) => Effect.fail(new SettingsMalformed({ detail, version: file.sha })),
        onRight: (settings) => Effect.succeed(Option.some({ settings, version: file.sha }))
      })
    })
  ),
  write: (settings, over) =>
    world
      .request(user, "write", () => {
        const current = world.settingsFile?.sha
        if (current !== Option.getOrUndefined(over)) return undefined
        const sha = world.nextSha("b")
        world.settingsFile = { text: encodeSettings(settings), sha }
        return sha
      })
      .pipe(
        Effect.mapError(unavailable),
        Effect.flatMap((sha) =>
          sha === undefined
            ? Effect.fail(new SettingsConflict({ detail: "the settings were recorded or changed by someone else first" }))
            : Effect.succeed({ settings, version: sha })
        )
      )
})

/** Layer: the settings of the world's repository for `user`. */
export const layerMemoryRepoSettings = (world: MemoryGitHub, user: string) => Layer.sync(RepoSettingsStore, () => makeMemoryRepoSettings(world, user))
