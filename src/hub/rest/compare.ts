/** `GET /repos/{o}/{r}/branches/{b}` and `GET /repos/{o}/{r}/compare/{base}...{head}`. */
import { findRepo, isReply, isoSeconds, json, notFound, type Ctx, type Reply, type Route } from "../http.js"
import type { RepoState } from "../state.js"
import { resolveRef } from "./branches.js"
import { HTML_HOST, simpleUser } from "./shapes.js"

/** GitHub lists at most this many commits in a comparison. */
export const MAX_COMPARE_COMMITS = 250

/** GitHub's `commit` (the REST commits API shape, not the git database one). */
export const restCommitJson = async (ctx: Ctx, repo: RepoState, sha: string) => {
  const c = (await repo.git.readCommit(sha))!
  const api = `${ctx.base}/repos/${repo.fullName}`
  const account = (name: string) => {
    const a = ctx.state.accounts.get(name)
    return a === undefined ? null : simpleUser(ctx.base, a)
  }
  const person = (p: typeof c.author) => ({ name: p.name, email: p.email, date: isoSeconds(p.seconds * 1000) })
  return {
    sha,
    node_id: `C_${Buffer.from(sha).toString("base64url").slice(0, 20)}`,
    url: `${api}/commits/${sha}`,
    html_url: `${HTML_HOST}/${repo.fullName}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    commit: {
      url: `${api}/git/commits/${sha}`,
      author: person(c.author),
      committer: person(c.committer),
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      comment_count: 0
    },
    author: account(c.author.name),
    committer: account(c.committer.name),
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${HTML_HOST}/${repo.fullName}/commit/${p}` }))
  }
}

const getBranch = async (ctx: Ctx, [owner, name, branch]: ReadonlyArray<string>): Promise<Reply> => {
  const repo = findRepo(ctx, owner!, name!)
  if (isReply(repo)) return repo
  const b = decodeURIComponent(branch!)
  const sha = await repo.git.store.getRef(`refs/heads/${b}`)
  if (sha === undefined) return json(404, { message: "Branch not found", documentation_url: "https://docs.github.com/rest/branches/branches#get-a-branch", status: "404" })
  const api = `${ctx.base}/repos/${repo.fullName}`
  return json(200, {
    name: b,
    commit: await restCommitJson(ctx, repo, sha),
    _links: { self: `${api}/branches/${encodeURIComponent(b)}`, html: `${HTML_HOST}/${repo.fullName}/tree/${b}` },
    protected: false,
    protection: { enabled: false, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
    protection_url: `${api}/branches/${encodeURIComponent(b)}/protection`
  })
}

const compare = async (ctx: Ctx, [owner, name, basehead]: ReadonlyArray<string>): Promise<Reply> => {
  const repo = findRepo(ctx, owner!, name!)
  if (isReply(repo)) return repo
  const [baseName, headName] = decodeURIComponent(basehead!).split("...")
  if (baseName === undefined || headName === undefined) return notFound()
  const base = await resolveRef(repo, baseName)
  const head = await resolveRef(repo, headName)
  if (base === undefined || head === undefined) return notFound()
  const ahead = await repo.git.commitsBetween(base, head)
  const behind = await repo.git.commitsBetween(head, base)
  // The merge base: the newest commit of head's history that base's history also holds.
  const headHistory = await repo.git.commitsBetween(undefined, head)
  const baseOnly = new Set(behind)
  const aheadSet = new Set(ahead)
  const mergeBase = headHistory.find((sha) => !aheadSet.has(sha) && !baseOnly.has(sha)) ?? base
  const status = ahead.length === 0 && behind.length === 0 ? "identical" : behind.length === 0 ? "ahead" : ahead.length === 0 ? "behind" : "diverged"
  const api = `${ctx.base}/repos/${repo.fullName}`
  const html = `${HTML_HOST}/${repo.fullName}/compare/${baseName}...${headName}`
  const mergeTree = (await repo.git.readCommit(mergeBase))?.tree
  const headTree = (await repo.git.readCommit(head))!.tree
  const files = []
  for (const path of await repo.git.changedPaths(mergeTree, headTree)) {
    const before = mergeTree === undefined ? undefined : await repo.git.resolve(mergeTree, path)
    const after = await repo.git.resolve(headTree, path)
    files.push({
      sha: after?.sha ?? before?.sha ?? "",
      filename: path,
      status: before === undefined ? "added" : after === undefined ? "removed" : "modified",
      // Line counts are not computed by the hub; SkyGit never reads them.
      additions: 0,
      deletions: 0,
      changes: 0,
      blob_url: `${HTML_HOST}/${repo.fullName}/blob/${head}/${path}`,
      raw_url: `${HTML_HOST}/${repo.fullName}/raw/${head}/${path}`,
      contents_url: `${api}/contents/${path}?ref=${head}`
    })
  }
  const listed = ahead.slice(0, MAX_COMPARE_COMMITS).reverse()
  return json(200, {
    url: `${api}/compare/${baseName}...${headName}`,
    html_url: html,
    permalink_url: `${HTML_HOST}/${repo.fullName}/compare/${base}...${head}`,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    base_commit: await restCommitJson(ctx, repo, base),
    merge_base_commit: await restCommitJson(ctx, repo, mergeBase),
    status,
    ahead_by: ahead.length,
    behind_by: behind.length,
    total_commits: ahead.length,
    commits: await Promise.all(listed.map((sha) => restCommitJson(ctx, repo, sha))),
    files
  })
}

/** Routes for branches and comparisons. */
export const compareRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)$/, handle: getBranch },
  { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/compare\/(.+)$/, handle: compare }
]
