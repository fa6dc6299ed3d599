/**
 * SkyGit's own branch (default `skygit`): presence and conversations live there, never on
 * the repository's default branch. It is created on first use from the default branch's
 * head; creation races are harmless (the loser sees "Reference already exists").
 */
import { Effect, Option, Ref } from "effect"
import type { GitHubClient } from "./client.js"
import { GitHubMisconfigured, type GitHubFailure } from "./errors.js"

/** The branch SkyGit writes to unless configured otherwise. */
export const DEFAULT_SKYGIT_BRANCH = "skygit"
/** Every commit SkyGit makes carries this, so `on: push` workflows do not run. */
export const SKIP_CI = "[skip ci]"

/** Access to SkyGit's branch of one repository. */
export interface SkygitBranch {
  readonly name: string
  /** The repository's default branch (read once). */
  readonly defaultBranch: Effect.Effect<string, GitHubFailure | GitHubMisconfigured>
  /** The commit the default branch points at. */
  readonly defaultHead: Effect.Effect<string, GitHubFailure | GitHubMisconfigured>
  /**
   * Creates the branch at the default branch's head unless it exists: it looks first (a
   * read), so a writer that arrives after another created it spends no write; a creation
   * race lost anyway ("Reference already exists") is success. True when it wrote (a write
   * spends the client's write slot).
   */
  readonly ensure: Effect.Effect<boolean, GitHubFailure | GitHubMisconfigured>
}

/** The ref path of a branch, for `git/ref/{ref}` routes. */
export const headsRef = (branch: string): string => `heads/${branch}`

/** SkyGit's branch `name` on `client`'s repository; refuses to be the default branch. */
export const makeSkygitBranch = (client: GitHubClient, name: string = DEFAULT_SKYGIT_BRANCH): Effect.Effect<SkygitBranch> =>
  Effect.gen(function* () {
    const known = yield* Ref.make(Option.none<string>())

    const defaultBranch = Effect.flatMap(Ref.get(known), (cached) =>
      Option.match(cached, {
        onSome: (b) => Effect.succeed(b),
        onNone: () =>
          client.request("GET /repos/{owner}/{repo}").pipe(
            Effect.map((r) => String((r.data as { default_branch?: unknown }).default_branch ?? "main")),
            Effect.tap((b) => Ref.set(known, Option.some(b)))
          )
      })
    ).pipe(
      Effect.filterOrFail(
        (b) => b !== name,
        (b) => new GitHubMisconfigured({ detail: `SkyGit's branch "${name}" is the default branch ${b}: choose another branch name` })
      )
    )

    const defaultHead = Effect.flatMap(defaultBranch, (b) =>
      client.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { ref: headsRef(b) }).pipe(Effect.map((r) => String((r.data as { object: { sha: string } }).object.sha)))
    )

    const exists = client.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { ref: headsRef(name) }).pipe(
      Effect.as(true),
      Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(false))
    )

    const ensure = Effect.gen(function* () {
      if (yield* exists) return false
      const sha = yield* defaultHead
      yield* client.request("POST /repos/{owner}/{repo}/git/refs", { ref: `refs/${headsRef(name)}`, sha }, { kind: "content" }).pipe(
        // Someone created it first: that is the branch we want.
        Effect.catchIf(
          (f) => f._tag === "GitHubHttpError" && f.status === 422 && /already exists/i.test(f.message),
          () => Effect.void
        )
      )
      return true
    })

    return { name, defaultBranch, defaultHead, ensure }
  })
