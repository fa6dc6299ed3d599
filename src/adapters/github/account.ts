/**
 * Whose token this is and which repositories it can reach, through the session's GitHub
 * client (so sign-in requests are budgeted, retried and typed like every other request).
 * Node and browser sign-in both use these; nothing else asks GitHub about the account.
 */
import { Effect } from "effect"
import { GitHub } from "./client.js"
import type { GitHubFailure } from "./errors.js"
import { RepoList, User } from "./wire.js"

/** A repository the token can use. */
export interface RepoChoice {
  /** "owner/name". */
  readonly fullName: string
  readonly private: boolean
  readonly canPush: boolean
  readonly hasDiscussions: boolean
}

/** Repositories listed per page; GitHub's maximum. */
export const REPOS_PER_PAGE = 100
/** Pages read at most (10,000 repositories is plenty for a picker). */
export const MAX_REPO_PAGES = 100

/** The login of the token's owner (`GET /user`). */
export const whoAmI: Effect.Effect<string, GitHubFailure, GitHub> = Effect.flatMap(GitHub, (client) =>
  Effect.map(client.request("GET /user", {}, User), (r) => r.data.login)
)

/** Every repository the token can reach, following GitHub's pagination. */
export const listRepos: Effect.Effect<ReadonlyArray<RepoChoice>, GitHubFailure, GitHub> = Effect.gen(function* () {
  const client = yield* GitHub
  const out: Array<RepoChoice> = []
  for (let page = 1; page <= MAX_REPO_PAGES; page += 1) {
    const r = yield* client.request("GET /user/repos", { per_page: REPOS_PER_PAGE, page, sort: "pushed" }, RepoList)
    for (const item of r.data) {
      out.push({ fullName: item.full_name, private: item.private === true, canPush: item.permissions?.push !== false, hasDiscussions: item.has_discussions === true })
    }
    if (!/rel="next"/.test(r.headers["link"] ?? "")) break
  }
  return out
})
