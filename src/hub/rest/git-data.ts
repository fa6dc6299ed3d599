/**
 * The git database API: blobs, trees (with `base_tree`, nested paths, `sha: null` deletes),
 * commits, and refs with `force: false` compare-and-swap (422 "Update is not a fast forward").
 */
import { isSha, type GitObject } from "../git-objects.js"
import { findRepo, githubBase64, invalid, isReply, json, notFound, str, type Ctx, type Reply, type Route } from "../http.js"
import { isValidPath, type TreeChange } from "../git-repo.js"
import { statsOf, type RepoState } from "../state.js"
import { moveRef, refAt, resolveRef } from "./branches.js"
import { observeHead, readAsOf } from "../fault-gate.js"
import { signatureOf } from "./contents.js"
import { gitCommitJson, refJson, treeJson } from "./git-json.js"

/** GitHub caps a created tree's entry list; the hub refuses more to stay bounded. */
export const MAX_TREE_ENTRIES = 100_000
/** GitHub's blob API limit. */
export const MAX_BLOB_BYTES = 100 * 1024 * 1024

const MODES = new Set(["100644", "100755", "040000", "160000", "120000"])
const REPO = "^\\/repos\\/([^/]+)\\/([^/]+)\\/"
const route = (method: string, rest: string, handle: Route["handle"], contentCreating = false): Route => ({
  method,
  pattern: new RegExp(`${REPO}${rest}$`),
  handle,
  ...(contentCreating ? { contentCreating } : {})
})

type Handler = (ctx: Ctx, repo: RepoState, params: ReadonlyArray<string>) => Promise<Reply>
const inRepo = (h: Handler): Route["handle"] => async (ctx, [owner, name, ...rest]) => {
  const repo = findRepo(ctx, owner!, name!)
  return isReply(repo) ? repo : h(ctx, repo, rest)
}

const conflict = (ctx: Ctx, message: string): Reply => {
  statsOf(ctx.state, ctx.user!.login).conflicts++
  return invalid(message)
}

const createBlob: Handler = async (ctx, repo) => {
  const content = str(ctx.body, "content")
  const encoding = str(ctx.body, "encoding") ?? "utf-8"
  if (content === undefined) return invalid('Invalid request.\n\n"content" wasn\'t supplied.')
  if (encoding !== "utf-8" && encoding !== "base64") return invalid(`encoding must be one of utf-8, base64 (got ${encoding})`)
  const data = encoding === "base64" ? new Uint8Array(Buffer.from(content, "base64")) : new TextEncoder().encode(content)
  if (data.length > MAX_BLOB_BYTES) return invalid("content is too large")
  const sha = await repo.git.store.put({ type: "blob", data })
  return json(201, { sha, url: `${ctx.base}/repos/${repo.fullName}/git/blobs/${sha}` })
}

const getBlob: Handler = async (ctx, repo, [sha]) => {
  const blob = isSha(sha) ? await repo.git.getTyped(sha, "blob") : undefined
  if (blob === undefined) return notFound()
  return json(200, {
    sha,
    node_id: `B_${sha!.slice(0, 20)}`,
    size: blob.data.length,
    url: `${ctx.base}/repos/${repo.fullName}/git/blobs/${sha}`,
    content: githubBase64(blob.data),
    encoding: "base64"
  })
}

const createTree: Handler = async (ctx, repo) => {
  const items = ctx.body["tree"]
  if (!Array.isArray(items)) return invalid('Invalid request.\n\n"tree" wasn\'t supplied.')
  if (items.length > MAX_TREE_ENTRIES) return invalid("tree has too many entries")
  const baseTree = str(ctx.body, "base_tree")
  if (baseTree !== undefined && (await repo.git.getTyped(baseTree, "tree")) === undefined) {
    return invalid("base_tree is not a valid tree oid")
  }
  const changes: Array<TreeChange> = []
  for (const raw of items) {
    const item = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {}
    const path = typeof item["path"] === "string" ? item["path"].replace(/^\/+|\/+$/g, "") : undefined
    const mode = typeof item["mode"] === "string" ? item["mode"] : undefined
    if (path === undefined || !isValidPath(path)) {
      return invalid("tree.path must be a non-empty relative path")
    }
    if (mode === undefined || !MODES.has(mode)) return invalid(`tree.mode must be one of ${[...MODES].join(", ")}`)
    const wanted: GitObject["type"] = mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob"
    if (typeof item["content"] === "string") {
      if ("sha" in item && item["sha"] !== undefined) return invalid("tree entry may have either sha or content, not both")
      const sha = await repo.git.store.put({ type: "blob", data: new TextEncoder().encode(item["content"]) })
      changes.push({ path, entry: { mode, sha } })
    } else if (item["sha"] === null) {
      changes.push({ path, entry: null })
    } else if (isSha(item["sha"])) {
      if (wanted !== "commit" && (await repo.git.getTyped(item["sha"], wanted)) === undefined) {
        return invalid(`tree.sha ${item["sha"]} is not a valid ${wanted}`)
      }
      changes.push({ path, entry: { mode, sha: item["sha"] } })
    } else {
      return invalid("tree entry must have sha or content")
    }
  }
  const sha = await repo.git.applyChanges(baseTree, changes)
  return json(201, await treeJson(ctx, repo, sha, false))
}

const getTree: Handler = async (ctx, repo, [id]) => {
  let sha = isSha(id) && (await repo.git.getTyped(id, "tree")) !== undefined ? id : undefined
  if (sha === undefined) {
    const commit = await resolveRef(repo, decodeURIComponent(id!), readAsOf(ctx))
    sha = commit === undefined ? undefined : (await repo.git.readCommit(commit))?.tree
  }
  if (sha === undefined) return notFound()
  const recursive = ctx.url.searchParams.get("recursive")
  return json(200, await treeJson(ctx, repo, sha, recursive !== null && recursive !== "" && recursive !== "0" && recursive !== "false"))
}

const createCommit: Handler = async (ctx, repo) => {
  const message = str(ctx.body, "message")
  const tree = str(ctx.body, "tree")
  const parents = ctx.body["parents"] ?? []
  if (message === undefined) return invalid('Invalid request.\n\n"message" wasn\'t supplied.')
  if (tree === undefined) return invalid('Invalid request.\n\n"tree" wasn\'t supplied.')
  if (!Array.isArray(parents) || !parents.every((p): p is string => typeof p === "string")) return invalid("parents must be an array of shas")
  if (!isSha(tree) || (await repo.git.getTyped(tree, "tree")) === undefined) return invalid("Tree SHA does not exist")
  for (const p of parents) {
    if (!isSha(p) || (await repo.git.readCommit(p)) === undefined) return invalid("Parent SHA does not exist or is not a commit object")
  }
  const author = signatureOf(ctx, ctx.body["author"])
  const committer = signatureOf(ctx, ctx.body["committer"] ?? ctx.body["author"])
  const sha = await repo.git.writeCommit({ tree, parents, author, committer, message })
  return json(201, await gitCommitJson(ctx, repo, sha))
}

const getCommit: Handler = async (ctx, repo, [sha]) =>
  isSha(sha) && (await repo.git.readCommit(sha)) !== undefined ? json(200, await gitCommitJson(ctx, repo, sha)) : notFound()

const fullRef = (ref: string): string => `refs/${decodeURIComponent(ref).replace(/^refs\//, "")}`

const observeRef = (ctx: Ctx, repo: RepoState, name: string, sha: string | undefined) => {
  if (name.startsWith("refs/heads/")) observeHead(ctx, repo, name.slice("refs/heads/".length), sha)
}

const getRef: Handler = async (ctx, repo, [ref]) => {
  const name = fullRef(ref!)
  const sha = await refAt(repo, name, readAsOf(ctx))
  observeRef(ctx, repo, name, sha)
  return sha === undefined ? notFound() : json(200, refJson(ctx, repo, name, sha))
}

const VALID_REF = /^refs\/[^/]+\/.+$/

const createRef: Handler = async (ctx, repo) => {
  const ref = str(ctx.body, "ref")
  const sha = str(ctx.body, "sha")
  if (ref === undefined) return invalid('Invalid request.\n\n"ref" wasn\'t supplied.')
  if (sha === undefined) return invalid('Invalid request.\n\n"sha" wasn\'t supplied.')
  if (!VALID_REF.test(ref) || ref.split("/").some((s) => s === "" || s === "." || s === "..")) {
    return invalid("Reference name must start with 'refs/' and have at least two slashes.")
  }
  if (!isSha(sha) || (await repo.git.readCommit(sha)) === undefined) return invalid("Object does not exist")
  if ((await repo.git.store.getRef(ref)) !== undefined) return conflict(ctx, "Reference already exists")
  await moveRef(repo, ref, undefined, sha)
  observeRef(ctx, repo, ref, sha)
  return json(201, refJson(ctx, repo, ref, sha), { location: `${ctx.base}/repos/${repo.fullName}/git/${ref}` })
}

const updateRef: Handler = async (ctx, repo, [ref]) => {
  const name = fullRef(ref!)
  const sha = str(ctx.body, "sha")
  const force = ctx.body["force"] === true
  if (sha === undefined) return invalid('Invalid request.\n\n"sha" wasn\'t supplied.')
  const current = await repo.git.store.getRef(name)
  if (current === undefined) return invalid("Reference does not exist")
  if (!isSha(sha) || (await repo.git.readCommit(sha)) === undefined) return invalid("Object does not exist")
  if (!force && !(await repo.git.isAncestor(current, sha))) return conflict(ctx, "Update is not a fast forward")
  await moveRef(repo, name, current, sha)
  observeRef(ctx, repo, name, sha)
  return json(200, refJson(ctx, repo, name, sha))
}

const deleteRef: Handler = async (_ctx, repo, [ref]) => {
  const name = fullRef(ref!)
  const current = await repo.git.store.getRef(name)
  if (current === undefined) return invalid("Reference does not exist")
  await moveRef(repo, name, current, undefined)
  return { status: 204 }
}

/** Routes of the git database API. */
export const gitDataRoutes: ReadonlyArray<Route> = [
  route("POST", "git\\/blobs", inRepo(createBlob)),
  route("GET", "git\\/blobs\\/([^/]+)", inRepo(getBlob)),
  route("POST", "git\\/trees", inRepo(createTree)),
  route("GET", "git\\/trees\\/(.+)", inRepo(getTree)),
  route("POST", "git\\/commits", inRepo(createCommit)),
  route("GET", "git\\/commits\\/([^/]+)", inRepo(getCommit)),
  route("GET", "git\\/ref\\/(.+)", inRepo(getRef)),
  route("GET", "git\\/refs\\/(.+)", inRepo(getRef)),
  route("POST", "git\\/refs", inRepo(createRef), true),
  route("PATCH", "git\\/refs\\/(.+)", inRepo(updateRef), true),
  route("DELETE", "git\\/refs\\/(.+)", inRepo(deleteRef))
]
