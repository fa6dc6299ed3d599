/** `GET /user`, `GET /user/repos`, `GET /repos/{o}/{r}` and `GET /rate_limit`. */
import { rateLimitBody } from "../budget-gate.js"
import { findRepo, intParam, isReply, json, type Ctx, type Route } from "../http.js"
import { canAccess, canPush, isMaintainer, type RepoState } from "../state.js"
import { privateUser, repoJson } from "./shapes.js"

/** GitHub's default and maximum page sizes for list endpoints. */
export const DEFAULT_PER_PAGE = 30
export const MAX_PER_PAGE = 100

/** When a repository last moved: its newest branch head's commit time. */
export const pushedAt = async (r: RepoState): Promise<number> => {
  let latest = r.createdAt
  for (const ref of await r.git.store.listRefs()) {
    const sha = await r.git.store.getRef(ref)
    const c = sha === undefined ? undefined : await r.git.readCommit(sha)
    if (c !== undefined) latest = Math.max(latest, c.committer.seconds * 1000)
  }
  return latest
}

/** GitHub's `Link` header for page `page` of `last` pages. */
export const linkHeader = (url: URL, page: number, last: number, perPage: number): string | undefined => {
  const at = (p: number) => {
    const u = new URL(url)
    u.searchParams.set("per_page", String(perPage))
    u.searchParams.set("page", String(p))
    return `<${u.toString()}>`
  }
  const links: Array<string> = []
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`)
  if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`)
  if (page > 1) links.push(`${at(1)}; rel="first"`)
  return links.length === 0 ? undefined : links.join(", ")
}

const accessOf = (ctx: Ctx, r: RepoState) => ({
  push: canPush(ctx.state, r, ctx.user!.login),
  maintain: isMaintainer(ctx.state, r, ctx.user!.login),
  archived: ctx.state.faults.archived
})

const visibleRepos = (ctx: Ctx): Array<RepoState> =>
  [...ctx.state.repos.values()].filter((r) => ctx.user !== undefined && canAccess(r, ctx.user.login)).sort((a, b) => a.fullName.localeCompare(b.fullName))

/** Routes for accounts, repositories and the rate-limit view. */
export const accountRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    pattern: /^\/user$/,
    handle: async (ctx) => {
      const u = ctx.user!
      const owned = [...ctx.state.repos.values()].filter((r) => r.owner.login === u.login).length
      return json(200, privateUser(ctx.base, u, owned, 0))
    }
  },
  {
    method: "GET",
    pattern: /^\/user\/repos$/,
    handle: async (ctx) => {
      const perPage = intParam(ctx.url, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
      const all = visibleRepos(ctx)
      const last = Math.max(1, Math.ceil(all.length / perPage))
      const page = intParam(ctx.url, "page", 1, Number.MAX_SAFE_INTEGER)
      const slice = all.slice((page - 1) * perPage, page * perPage)
      const body = await Promise.all(slice.map(async (r) => repoJson(ctx.base, r, ctx.user!.login, await pushedAt(r), accessOf(ctx, r))))
      const link = linkHeader(ctx.url, page, last, perPage)
      return json(200, body, link === undefined ? {} : { link })
    }
  },
  {
    method: "GET",
    pattern: /^\/repos\/([^/]+)\/([^/]+)$/,
    handle: async (ctx, [owner, name]) => {
      const repo = findRepo(ctx, owner!, name!)
      if (isReply(repo)) return repo
      return json(200, repoJson(ctx.base, repo, ctx.user!.login, await pushedAt(repo), accessOf(ctx, repo)))
    }
  },
  {
    method: "GET",
    pattern: /^\/rate_limit$/,
    free: true,
    handle: async (ctx) => json(200, rateLimitBody(ctx.state, ctx.user!.login, ctx.now))
  }
]
