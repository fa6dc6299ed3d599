/**
 * Where the switchable GitHub behaviours of `github-faults.ts` meet a request: write refusals
 * (no push access, archived, protected branch), the empty repository, stale reads, the
 * branch-moved 409 and GraphQL secondary limits answered with HTTP 200.
 */
import { DOCS_URL, ghError, json, notFound, str, type Ctx, type Reply } from "./http.js"
import { GRAPHQL_SECONDARY_RETRY_AFTER_S } from "./github-faults.js"
import { canAccess, canPush, type HubState, type RepoState } from "./state.js"

/** The check a `protected:BRANCH` branch requires, named in its refusals. */
export const REQUIRED_CHECK = "skygit-hub/required-check"
/** Where GitHub's protected-branch refusals point (yegor256/rultor#1273 shows this link). */
export const PROTECTED_DOCS = "https://help.github.com/articles/about-protected-branches"
/** Where GitHub's archived-repository refusals point. */
export const ARCHIVED_DOCS = "https://docs.github.com/repositories/archiving-a-github-repository/archiving-repositories"
/** GitHub's message for any write to an archived repository. */
export const ARCHIVED_MESSAGE = "Repository was archived so is read-only."
/** GitHub's 409 for git database calls on a repository without a commit. */
export const EMPTY_MESSAGE = "Git Repository is empty."
/** GitHub's secondary-limit message (REST and GraphQL alike). */
export const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID hub."

const REPO_PATH = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/

/** The repository a REST path addresses, when the caller may see it. */
const repoOf = (ctx: Ctx): { repo: RepoState; rest: string } | undefined => {
  const m = REPO_PATH.exec(ctx.url.pathname)
  if (m === null || ctx.user === undefined) return undefined
  const repo = ctx.state.repos.get(`${m[1]}/${m[2]}`.toLowerCase())
  if (repo === undefined || !canAccess(repo, ctx.user.login)) return undefined
  return { repo, rest: m[3] ?? "" }
}

/** Whether a repository has no commit at all (no ref). */
export const isEmptyRepo = async (repo: RepoState): Promise<boolean> => (await repo.git.store.listRefs()).length === 0

/**
 * The time a read answers as of: now, or under `stale-reads:MS` up to MS earlier (drawn from
 * the hub's seeded randomness, one draw per read).
 */
export const readAsOf = (ctx: Ctx): number | undefined => {
  const ms = ctx.state.faults.staleReadsMs
  if (ms <= 0 || ctx.request.method !== "GET") return undefined
  return ctx.now - Math.floor(ctx.state.random() * (ms + 1))
}

const headKey = (login: string, repo: RepoState, branch: string) => `${login}\n${repo.fullName}\n${branch}`

/** Notes the head of `branch` a user was shown (or moved it to). */
export const observeHead = (ctx: Ctx, repo: RepoState, branch: string, sha: string | undefined): void => {
  if (ctx.user === undefined || sha === undefined) return
  ctx.state.observedHeads.set(headKey(ctx.user.login, repo, branch), sha)
}

/**
 * Under `branch-moves`, a contents PUT whose file is unchanged is still refused when the
 * branch head is not the one the writer last saw: GitHub commits contents writes with a
 * compare-and-swap on the branch, answering 409 "is at X but expected Y" (octokit/octokit.net#2365,
 * PyGithub#1787).
 */
export const branchMoved = (ctx: Ctx, repo: RepoState, branch: string, head: string): Reply | undefined => {
  if (!ctx.state.faults.branchMoves || ctx.user === undefined) return undefined
  const seen = ctx.state.observedHeads.get(headKey(ctx.user.login, repo, branch))
  if (seen === undefined || seen === head) return undefined
  return ghError(409, `is at ${head} but expected ${seen}`, "https://docs.github.com/rest/repos/contents#create-or-update-file-contents")
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

const branchOfWrite = (ctx: Ctx, repo: RepoState, rest: string): { branch: string; kind: "contents" | "create-ref" | "update-ref" } | undefined => {
  if (ctx.request.method === "PUT" && rest.startsWith("/contents/")) return { branch: str(ctx.body, "branch") ?? repo.defaultBranch, kind: "contents" }
  if (ctx.request.method === "POST" && rest === "/git/refs") {
    const ref = str(ctx.body, "ref") ?? ""
    return ref.startsWith("refs/heads/") ? { branch: ref.slice("refs/heads/".length), kind: "create-ref" } : undefined
  }
  // Octokit sends `heads/main` as `heads%2Fmain`.
  const m = /^\/git\/refs\/(?:refs\/)?heads\/(.+)$/.exec(safeDecode(rest))
  if ((ctx.request.method === "PATCH" || ctx.request.method === "DELETE") && m !== null) return { branch: m[1]!, kind: "update-ref" }
  return undefined
}

/**
 * Refuses a REST write the repository's settings forbid, before it is handled:
 * - no push access (`read-only:USER`): 404 "Not Found", as GitHub answers classic tokens
 *   (octokit/octokit.js#1649, piotrmurach/github#300);
 * - archived: 403 "Repository was archived so is read-only.";
 * - `protected:BRANCH`: contents PUT 409 naming the required status check (yegor256/rultor#1273);
 *   ref creation 422 "Reference update failed" (actions/github-script#455); ref update 422
 *   "Repository rule violations found" (googleapis/repo-automation-bots#5551);
 * - an empty repository: 409 "Git Repository is empty." on git database writes.
 */
export const writeRefusal = async (ctx: Ctx): Promise<Reply | undefined> => {
  if (ctx.request.method === "GET" || ctx.request.method === "HEAD") return undefined
  const found = repoOf(ctx)
  if (found === undefined) return undefined
  const { repo, rest } = found
  if (!rest.startsWith("/contents/") && !rest.startsWith("/git/")) return undefined
  if (!canPush(ctx.state, repo, ctx.user!.login)) return notFound()
  if (ctx.state.faults.archived) return ghError(403, ARCHIVED_MESSAGE, ARCHIVED_DOCS)
  if (rest.startsWith("/git/") && (await isEmptyRepo(repo))) return ghError(409, EMPTY_MESSAGE, DOCS_URL)
  const target = branchOfWrite(ctx, repo, rest)
  if (target === undefined || !ctx.state.faults.protectedBranches.has(target.branch)) return undefined
  switch (target.kind) {
    case "contents": {
      const verb = str(ctx.body, "sha") === undefined ? "create" : "update"
      return ghError(409, `Could not ${verb} file: Required status check "${REQUIRED_CHECK}" is expected.`, PROTECTED_DOCS)
    }
    case "create-ref":
      return ghError(422, "Reference update failed", "https://docs.github.com/rest/git/refs#create-a-reference")
    case "update-ref":
      return ghError(422, "Repository rule violations found\n\nChanges must be made through a pull request.\n\n", "https://docs.github.com/rest/git/refs#update-a-reference")
  }
}

/** Reads of an empty repository: contents 404 "This repository is empty.", git database 409. */
export const emptyReadRefusal = async (ctx: Ctx): Promise<Reply | undefined> => {
  if (ctx.request.method !== "GET") return undefined
  const found = repoOf(ctx)
  if (found === undefined || !(await isEmptyRepo(found.repo))) return undefined
  if (found.rest.startsWith("/contents")) return ghError(404, "This repository is empty.")
  if (found.rest.startsWith("/git/")) return ghError(409, EMPTY_MESSAGE)
  return undefined
}

/**
 * Under `graphql-secondary:N`, every Nth GraphQL request is refused like a secondary limit,
 * and so is every request of that user until `retry-after` has passed. GitHub can answer these
 * with HTTP 200 and an `errors` body ("Rate limits and query limits for the GraphQL API").
 */
export const graphqlSecondaryRefusal = (state: HubState, login: string, now: number): Reply | undefined => {
  const every = state.faults.graphqlSecondaryEvery
  if (every <= 0) return undefined
  const until = state.graphqlBlockedUntil.get(login) ?? 0
  if (now >= until) {
    state.graphqlSeen++
    if (state.graphqlSeen % every !== 0) return undefined
    state.graphqlBlockedUntil.set(login, now + GRAPHQL_SECONDARY_RETRY_AFTER_S * 1000)
  }
  const left = Math.max(1, Math.ceil(((state.graphqlBlockedUntil.get(login) ?? now) - now) / 1000))
  return json(200, { data: null, errors: [{ type: "RATE_LIMITED", message: SECONDARY_MESSAGE }] }, { "retry-after": String(left) })
}
