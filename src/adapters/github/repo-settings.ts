/**
 * RepoSettings over the contents API on SkyGit's branch: `.messages/skygit.json`, its blob
 * sha as the version. A PUT without a sha only creates (GitHub answers 422 when the file
 * exists), and a PUT with a stale sha is refused 409: both are a SettingsConflict.
 */
import { Effect, Either, Layer, Option, Ref } from "effect"
import { decodeSettings, encodeSettings, SETTINGS_PATH } from "../../domain/repo-settings.js"
import { RepoSettingsStore, SettingsConflict, SettingsMalformed, SettingsUnavailable, type RepoSettingsService } from "../../ports/RepoSettings.js"
import { decodeBase64Utf8, encodeBase64Utf8 } from "./base64.js"
import { makeSkygitBranch, SKIP_CI } from "./branch.js"
import { makeGitHubClient, type GitHubClient, type GitHubClientOptions } from "./client.js"
import { describe, type GitHubFailure, type GitHubMisconfigured } from "./errors.js"
import { ContentsFile, ContentsWritten } from "./wire.js"

/** The commit message of a settings write. */
export const SETTINGS_COMMIT_MESSAGE = `SkyGit: repository settings ${SKIP_CI}`

const unavailable = (what: string) => (f: GitHubFailure | GitHubMisconfigured) =>
  new SettingsUnavailable({
    detail:
      f._tag === "RateLimited"
        ? `GitHub is rate limiting (${f.limit}); try again in ${Math.ceil(f.retryAfterMs / 1000)} s`
        : f._tag === "GitHubMisconfigured"
          ? f.detail
          : describe(f, what),
    cause: f
  })

/** The settings of `client`'s repository. */
export const makeGitHubRepoSettings = (client: GitHubClient, options: { readonly branch?: string } = {}): Effect.Effect<RepoSettingsService> =>
  Effect.gen(function* () {
    const branch = yield* makeSkygitBranch(client, options.branch)

    // The last answer and its etag: watching for a change costs nothing while it is unchanged (a 304).
    const last = yield* Ref.make<{ readonly etag: string; readonly value: Option.Option<ContentsFile> } | undefined>(undefined)

    const read: RepoSettingsService["read"] = Effect.gen(function* () {
      const before = yield* Ref.get(last)
      const r = yield* client
        .requestIfChanged("GET /repos/{owner}/{repo}/contents/{path}", { path: SETTINGS_PATH, ref: branch.name }, ContentsFile, before?.etag)
        .pipe(
        Effect.map(Option.some),
        // No branch or no file: nobody chose yet.
        Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(Option.none())),
        Effect.mapError(unavailable(`reading ${SETTINGS_PATH}`))
      )
      if (Option.isNone(r)) {
        yield* Ref.set(last, undefined)
        return Option.none()
      }
      const answer = r.value
      // Not modified (a free 304): what the last answer held.
      const fresh = Option.isNone(answer) ? (before?.value ?? Option.none()) : Option.some(answer.value.data)
      const etag = Option.isSome(answer) ? answer.value.headers["etag"] : undefined
      if (etag !== undefined) yield* Ref.set(last, { etag, value: fresh })
      if (Option.isNone(fresh)) return Option.none()
      const file = fresh.value
      let text: string
      try {
        text = file.encoding === "base64" && typeof file.content === "string" ? decodeBase64Utf8(file.content) : ""
      } catch {
        text = ""
      }
      return yield* Either.match(decodeSettings(text), {
        onLeft: (detail) => Effect.fail(new SettingsMalformed({ detail, version: file.sha })),
        onRight: (settings) => Effect.succeed(Option.some({ settings, version: file.sha }))
      })
    })

    const write: RepoSettingsService["write"] = (settings, over) =>
      Effect.gen(function* () {
        yield* branch.ensure.pipe(Effect.mapError(unavailable(`creating branch ${branch.name}`)))
        const params = {
          path: SETTINGS_PATH,
          branch: branch.name,
          message: SETTINGS_COMMIT_MESSAGE,
          content: encodeBase64Utf8(encodeSettings(settings)),
          ...Option.match(over, { onNone: () => ({}), onSome: (sha) => ({ sha }) })
        }
        const r = yield* client.request("PUT /repos/{owner}/{repo}/contents/{path}", params, ContentsWritten, { kind: "content" }).pipe(
          Effect.catchIf(
            (f) => f._tag === "GitHubHttpError" && (f.status === 409 || f.status === 422),
            () => Effect.fail(new SettingsConflict({ detail: "the settings were recorded or changed by someone else first" }))
          ),
          Effect.mapError((e) => (e._tag === "SettingsConflict" ? e : unavailable(`writing ${SETTINGS_PATH}`)(e)))
        )
        return { settings, version: r.data.content.sha }
      })

    return { read, write }
  })

/** Layer: the settings of one repository for one token. */
export const layerGitHubRepoSettings = (options: GitHubClientOptions & { readonly branch?: string }) =>
  Layer.effect(RepoSettingsStore, Effect.flatMap(makeGitHubClient(options), (client) => makeGitHubRepoSettings(client, options)))
