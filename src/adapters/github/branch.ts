/**
 * SkyGit's own branch (default `skygit`): presence and conversations live there, never on
 * the repository's default branch. It is created on first use as an orphan branch holding
 * only `.messages/`: no project files means no workflow runs on it and nothing of the
 * project is copied (issue 9). An existing branch, orphan or not, is used as it is.
 * Creation races are harmless (the loser sees "Reference already exists").
 */
import { Effect, Option, Ref } from "effect"
import type { GitHubClient } from "./client.js"
import { GitHubMisconfigured, type GitHubFailure } from "./errors.js"
import { Ignored, Repository, WithSha } from "./wire.js"

/** The branch SkyGit writes to unless configured otherwise. */
export const DEFAULT_SKYGIT_BRANCH = "skygit"
/** Every commit SkyGit makes carries this, so `on: push` workflows do not run. */
export const SKIP_CI = "[skip ci]"

/** Access to SkyGit's branch of one repository. */
export interface SkygitBranch {
  readonly name: string
  /** The repository's default branch (read once). */
  readonly defaultBranch: Effect.Effect<string, GitHubFailure | GitHubMisconfigured>
  /**
   * GitHub's `permissions.push` for this token, from the same read as `defaultBranch`; asked
   * again only after a "no" (access may have been granted since), never after a "yes".
   */
  readonly canPush: Effect.Effect<boolean, GitHubFailure | GitHubMisconfigured>
  /**
   * A parentless commit of `files` (path and UTF-8 content) plus `.messages/README.md`: the
   * first commit of the branch. Two requests (tree, commit), neither content-creating.
   */
  readonly rootCommit: (files: ReadonlyArray<{ readonly path: string; readonly content: string }>, message: string) => Effect.Effect<string, GitHubFailure>
  /**
   * Creates the branch as an orphan (see `rootCommit`) unless it exists: it looks first (a
   * read), so a writer that arrives after another created it spends no write; a creation
   * race lost anyway ("Reference already exists") is success. True when it wrote (a write
   * spends the client's write slot).
   */
  readonly ensure: Effect.Effect<boolean, GitHubFailure | GitHubMisconfigured>
}

/** What the branch's first commit says to a person who finds it on GitHub. */
export const BRANCH_README_PATH = ".messages/README.md"
const BRANCH_README =
  "This branch holds SkyGit's chat history and presence (https://github.com/skygit). It shares no history with the project's branches.\n"
/** The message of the branch's first commit. */
export const ROOT_COMMIT_MESSAGE = `SkyGit: start its branch ${SKIP_CI}`

/** The ref path of a branch, for `git/ref/{ref}` routes. */
export const headsRef = (branch: string): string => `heads/${branch}`

/** SkyGit's branch `name` on `client`'s repository; refuses to be the default branch. */
export const makeSkygitBranch = (client: GitHubClient, name: string = DEFAULT_SKYGIT_BRANCH): Effect.Effect<SkygitBranch> =>
  Effect.gen(function* () {
    const known = yield* Ref.make(Option.none<string>())
    const pushKnown = yield* Ref.make<boolean | undefined>(undefined)

    // One read answers both: the default branch, and whether this token may push.
    const readRepository = client.request("GET /repos/{owner}/{repo}", {}, Repository).pipe(
      Effect.tap((r) => Ref.set(pushKnown, r.data.permissions?.push !== false)),
      Effect.map((r) => r.data.default_branch),
      Effect.tap((b) => Ref.set(known, Option.some(b)))
    )

    const defaultBranch = Effect.flatMap(Ref.get(known), (cached) =>
      Option.match(cached, {
        onSome: (b) => Effect.succeed(b),
        onNone: () => readRepository
      })
    ).pipe(
      Effect.filterOrFail(
        (b) => b !== name,
        (b) => new GitHubMisconfigured({ detail: `SkyGit's branch "${name}" is the default branch ${b}: choose another branch name` })
      )
    )

    const canPush = Effect.gen(function* () {
      const seen = yield* Ref.get(pushKnown)
      if (seen === true) return true
      if (seen === undefined) yield* defaultBranch
      else yield* readRepository
      return (yield* Ref.get(pushKnown)) !== false
    })

    const rootCommit = (files: ReadonlyArray<{ readonly path: string; readonly content: string }>, message: string) =>
      Effect.gen(function* () {
        const entries = [{ path: BRANCH_README_PATH, content: BRANCH_README }, ...files].map((f) => ({ path: f.path, mode: "100644", type: "blob", content: f.content }))
        // No base_tree and no parents: the branch starts from nothing of the project.
        const tree = yield* client.request("POST /repos/{owner}/{repo}/git/trees", { tree: entries }, WithSha, { kind: "mutation" })
        const commit = yield* client.request("POST /repos/{owner}/{repo}/git/commits", { message, tree: tree.data.sha, parents: [] }, WithSha, { kind: "mutation" })
        return commit.data.sha
      })

    const exists = client.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { ref: headsRef(name) }, Ignored).pipe(
      Effect.as(true),
      Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(false))
    )

    const ensure = Effect.gen(function* () {
      if (yield* exists) return false
      yield* defaultBranch
      const sha = yield* rootCommit([], ROOT_COMMIT_MESSAGE)
      yield* client.request("POST /repos/{owner}/{repo}/git/refs", { ref: `refs/${headsRef(name)}`, sha }, Ignored, { kind: "content" }).pipe(
        // Someone created it first: that is the branch we want.
        Effect.catchIf(
          (f) => f._tag === "GitHubHttpError" && f.status === 422 && /already exists/i.test(f.message),
          () => Effect.void
        )
      )
      return true
    })

    return { name, defaultBranch, canPush, rootCommit, ensure }
  })
