/** JSON bodies of the git database API: commits, trees, refs. */
import type { Signature } from "../git-objects.js"
import { isoSeconds, type Ctx } from "../http.js"
import type { PathEntry } from "../git-repo.js"
import type { RepoState } from "../state.js"
import { HTML_HOST } from "./shapes.js"

const personJson = (s: Signature) => ({ name: s.name, email: s.email, date: isoSeconds(s.seconds * 1000) })

/** GitHub's `git-commit` for a stored commit. */
export const gitCommitJson = async (ctx: Ctx, repo: RepoState, sha: string) => {
  const c = (await repo.git.readCommit(sha))!
  const api = `${ctx.base}/repos/${repo.fullName}`
  return {
    sha,
    node_id: `C_${Buffer.from(sha).toString("base64url").slice(0, 20)}`,
    url: `${api}/git/commits/${sha}`,
    html_url: `${HTML_HOST}/${repo.fullName}/commit/${sha}`,
    author: personJson(c.author),
    committer: personJson(c.committer),
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    message: c.message,
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${HTML_HOST}/${repo.fullName}/commit/${p}` })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null }
  }
}

/** One entry of GitHub's `git-tree`. */
export const treeEntryJson = async (ctx: Ctx, repo: RepoState, e: PathEntry) => {
  const api = `${ctx.base}/repos/${repo.fullName}`
  const mode = e.type === "tree" ? "040000" : e.mode
  if (e.type === "blob") {
    const size = (await repo.git.getTyped(e.sha, "blob"))?.data.length ?? 0
    return { path: e.path, mode, type: e.type, sha: e.sha, size, url: `${api}/git/blobs/${e.sha}` }
  }
  return { path: e.path, mode, type: e.type, sha: e.sha, url: `${api}/git/${e.type === "tree" ? "trees" : "commits"}/${e.sha}` }
}

/** GitHub's `git-tree` for a tree, flat or recursive. */
export const treeJson = async (ctx: Ctx, repo: RepoState, sha: string, recursive: boolean) => {
  const entries = recursive
    ? await repo.git.flatten(sha)
    : ((await repo.git.readTree(sha)) ?? []).map((e) => ({ ...e, path: e.name, type: e.mode === "40000" ? ("tree" as const) : e.mode === "160000" ? ("commit" as const) : ("blob" as const) }))
  return {
    sha,
    url: `${ctx.base}/repos/${repo.fullName}/git/trees/${sha}`,
    tree: await Promise.all(entries.map((e) => treeEntryJson(ctx, repo, e))),
    truncated: false
  }
}

/** GitHub's `git-ref`. */
export const refJson = (ctx: Ctx, repo: RepoState, ref: string, sha: string) => {
  const api = `${ctx.base}/repos/${repo.fullName}`
  return {
    ref,
    node_id: `REF_${Buffer.from(`${repo.id}:${ref}`).toString("base64url")}`,
    url: `${api}/git/${ref}`,
    object: { type: "commit", sha, url: `${api}/git/commits/${sha}` }
  }
}
