/**
 * The contents API: `GET` a file (base64, blob sha) or a directory listing, and `PUT` a file
 * as one commit with compare-and-swap on the blob sha (stale sha 409, missing sha 422).
 */
import { FILE_MODE, type Signature } from "../git-objects.js"
import { findRepo, ghError, githubBase64, invalid, isReply, json, notFound, str, type Ctx, type Reply, type Route } from "../http.js"
import { statsOf, type RepoState } from "../state.js"
import { isValidPath, type PathEntry } from "../git-repo.js"
import { moveRef, resolveRef } from "./branches.js"
import { gitCommitJson } from "./git-json.js"
import { HTML_HOST } from "./shapes.js"
import { branchMoved, isEmptyRepo, observeHead, readAsOf } from "../fault-gate.js"

/** Above this size the default media type answers no content (GitHub: "1-100 MB only with raw"). */
export const MAX_INLINE_CONTENT_BYTES = 1024 * 1024
/** GitHub refuses files above 100 MB outright. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024

/** GitHub lists at most this many entries of a directory (use the trees API for more). */
export const MAX_DIR_ENTRIES = 1_000

const OBJECT_MEDIA = /application\/vnd\.github(?:\.v3)?\.object/
const RAW_MEDIA = /application\/vnd\.github(?:\.v3)?\.raw(?:\+json)?/

const decodePath = (p: string | undefined): string =>
  (p ?? "")
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s))
    .join("/")

const entryJson = (ctx: Ctx, repo: RepoState, e: PathEntry, ref: string, size: number) => {
  const api = `${ctx.base}/repos/${repo.fullName}`
  const self = `${api}/contents/${e.path}?ref=${encodeURIComponent(ref)}`
  const type = e.type === "tree" ? "dir" : e.type === "commit" ? "submodule" : e.mode === "120000" ? "symlink" : "file"
  const git = `${api}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`
  const html = `${HTML_HOST}/${repo.fullName}/${e.type === "tree" ? "tree" : "blob"}/${ref}/${e.path}`
  return {
    name: e.path.split("/").at(-1) ?? "",
    path: e.path,
    sha: e.sha,
    size: e.type === "tree" ? 0 : size,
    url: self,
    html_url: html,
    git_url: git,
    download_url: type === "file" ? `https://raw.githubusercontent.com/${repo.fullName}/${ref}/${e.path}` : null,
    type,
    _links: { self, git, html }
  }
}

const blobBytes = async (repo: RepoState, sha: string): Promise<Uint8Array> => (await repo.git.getTyped(sha, "blob"))?.data ?? new Uint8Array()

const getContents = async (ctx: Ctx, [owner, name, rawPath]: ReadonlyArray<string | undefined>): Promise<Reply> => {
  const repo = findRepo(ctx, owner!, name!)
  if (isReply(repo)) return repo
  const refParam = ctx.url.searchParams.get("ref")
  const commitSha = await resolveRef(repo, refParam, readAsOf(ctx))
  if (commitSha === undefined) return ghError(404, `No commit found for the ref ${refParam ?? repo.defaultBranch}`)
  const ref = refParam ?? repo.defaultBranch
  observeHead(ctx, repo, ref.replace(/^refs\/heads\//, ""), commitSha)
  const commit = (await repo.git.readCommit(commitSha))!
  const path = decodePath(rawPath)
  const entry = await repo.git.resolve(commit.tree, path)
  if (entry === undefined) return notFound()
  if (entry.type === "tree") {
    const listing = []
    for (const e of ((await repo.git.readTree(entry.sha)) ?? []).slice(0, MAX_DIR_ENTRIES)) {
      const child = { ...e, path: path === "" ? e.name : `${path}/${e.name}`, type: e.mode === "40000" ? ("tree" as const) : e.mode === "160000" ? ("commit" as const) : ("blob" as const) }
      listing.push(entryJson(ctx, repo, child, ref, child.type === "blob" ? (await blobBytes(repo, e.sha)).length : 0))
    }
    // The object media type wraps a listing in the directory's own entry (a stable shape for clients).
    if (OBJECT_MEDIA.test(ctx.request.headers.get("accept") ?? "")) {
      return json(200, { ...entryJson(ctx, repo, entry, ref, 0), content: "", encoding: "none", entries: listing })
    }
    return json(200, listing)
  }
  const bytes = await blobBytes(repo, entry.sha)
  if (RAW_MEDIA.test(ctx.request.headers.get("accept") ?? "")) {
    if (bytes.length > MAX_FILE_BYTES) return ghError(403, "This API returns blobs up to 100 MB in size.")
    return { status: 200, raw: bytes, headers: { "content-type": "text/plain; charset=utf-8", "x-github-media-type": "github.v3; param=raw" } }
  }
  const inline = bytes.length <= MAX_INLINE_CONTENT_BYTES
  return json(200, {
    ...entryJson(ctx, repo, entry, ref, bytes.length),
    content: inline ? githubBase64(bytes) : "",
    encoding: inline ? "base64" : "none"
  })
}

/** Who a commit made through the API is by: the token's owner, or the body's `committer`/`author`. */
export const signatureOf = (ctx: Ctx, given: unknown): Signature => {
  const g = typeof given === "object" && given !== null ? (given as Record<string, unknown>) : {}
  const login = ctx.user!.login
  const date = typeof g["date"] === "string" ? Date.parse(g["date"]) : NaN
  return {
    name: typeof g["name"] === "string" ? g["name"] : login,
    email: typeof g["email"] === "string" ? g["email"] : `${login}@users.noreply.github.com`,
    seconds: Math.floor((Number.isFinite(date) ? date : ctx.now) / 1000),
    offset: "+0000"
  }
}

const BASE64 = /^[A-Za-z0-9+/=\s]*$/

const putContents = async (ctx: Ctx, [owner, name, rawPath]: ReadonlyArray<string | undefined>): Promise<Reply> => {
  const repo = findRepo(ctx, owner!, name!)
  if (isReply(repo)) return repo
  const path = decodePath(rawPath)
  const message = str(ctx.body, "message")
  const content = str(ctx.body, "content")
  if (message === undefined) return invalid('Invalid request.\n\n"message" wasn\'t supplied.')
  if (content === undefined) return invalid('Invalid request.\n\n"content" wasn\'t supplied.')
  if (!BASE64.test(content)) return invalid("content is not valid Base64")
  if (!isValidPath(path)) return invalid(`path is not a valid repository path: ${JSON.stringify(path)}`)
  const branch = str(ctx.body, "branch") ?? repo.defaultBranch
  const ref = `refs/heads/${branch}`
  const head = await repo.git.store.getRef(ref)
  // An empty repository takes a first commit on its default branch only (GitHub creates the branch).
  const first = head === undefined && branch === repo.defaultBranch && (await isEmptyRepo(repo))
  if (head === undefined && !first) return ghError(404, `Branch ${branch} not found`)
  const tree = head === undefined ? undefined : (await repo.git.readCommit(head))!.tree
  const existing = tree === undefined ? undefined : await repo.git.resolve(tree, path)
  const sha = str(ctx.body, "sha")
  if (existing !== undefined && sha === undefined) {
    statsOf(ctx.state, ctx.user!.login).conflicts++
    return invalid('Invalid request.\n\n"sha" wasn\'t supplied.')
  }
  if (sha !== undefined && existing?.sha !== sha) {
    statsOf(ctx.state, ctx.user!.login).conflicts++
    return ghError(409, `${path} does not match ${sha}`)
  }
  if (existing?.type === "tree") return invalid(`${path} is a directory`)
  const moved = head === undefined ? undefined : branchMoved(ctx, repo, branch, head)
  if (moved !== undefined) {
    statsOf(ctx.state, ctx.user!.login).conflicts++
    return moved
  }
  const bytes = new Uint8Array(Buffer.from(content, "base64"))
  if (bytes.length > MAX_FILE_BYTES) return invalid("File is too large (over 100 MB)")
  const blob = await repo.git.store.put({ type: "blob", data: bytes })
  const newTree = await repo.git.applyChanges(tree, [{ path, entry: { mode: FILE_MODE, sha: blob } }])
  const author = signatureOf(ctx, ctx.body["author"] ?? ctx.body["committer"])
  const committer = signatureOf(ctx, ctx.body["committer"])
  const commitSha = await repo.git.writeCommit({ tree: newTree, parents: head === undefined ? [] : [head], author, committer, message })
  await moveRef(repo, ref, head, commitSha)
  observeHead(ctx, repo, branch, commitSha)
  const entry = (await repo.git.resolve(newTree, path))!
  return json(existing === undefined ? 201 : 200, {
    content: entryJson(ctx, repo, entry, branch, bytes.length),
    commit: await gitCommitJson(ctx, repo, commitSha)
  })
}

/** Routes of the contents API. */
export const contentsRoutes: ReadonlyArray<Route> = [
  { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)\/contents(?:\/(.*))?$/, handle: getContents },
  { method: "PUT", pattern: /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/, contentCreating: true, handle: putContents }
]
