/**
 * Reading git trees and blobs of SkyGit's branch one level at a time. Git objects are
 * immutable, so listings are cached by sha: after a commit only the folders on the path
 * to the new files cost a request again.
 */
import { Effect } from "effect"
import type { GitHubClient } from "./client.js"
import type { GitHubFailure } from "./errors.js"
import { decodeBase64Utf8 } from "./base64.js"
import { GitBlob, GitTree } from "./wire.js"

/** Listings kept; the oldest go first (a listing is a few hundred bytes per entry). */
export const MAX_CACHED_TREES = 2_048

/** One entry of a tree. */
export interface TreeEntry {
  readonly name: string
  readonly type: "blob" | "tree" | "commit"
  readonly sha: string
}

/** A tree: its own sha and its entries. */
export interface TreeListing {
  readonly sha: string
  readonly entries: ReadonlyArray<TreeEntry>
}

/** Cached reads of trees and blobs over one client. */
export interface GitTrees {
  /** The tree of a tree sha, or of a commit sha (its root tree). */
  readonly list: (treeish: string) => Effect.Effect<TreeListing, GitHubFailure>
  /** The UTF-8 text of a blob (fails the Effect with the decode error's message as a string). */
  readonly blobText: (sha: string) => Effect.Effect<string, GitHubFailure | string>
}

/** Tree and blob reads with a bounded cache. */
export const makeGitTrees = (client: GitHubClient): GitTrees => {
  const cache = new Map<string, TreeListing>()
  const remember = (key: string, listing: TreeListing) => {
    cache.set(key, listing)
    while (cache.size > MAX_CACHED_TREES) cache.delete(cache.keys().next().value!)
  }

  const list = (treeish: string): Effect.Effect<TreeListing, GitHubFailure> => {
    const hit = cache.get(treeish)
    if (hit !== undefined) return Effect.succeed(hit)
    return client.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", { tree_sha: treeish }, GitTree).pipe(
      Effect.map((r) => {
        const wire = r.data
        const listing: TreeListing = {
          sha: wire.sha,
          entries: wire.tree.map((e) => ({ name: e.path, type: e.type === "tree" ? "tree" : e.type === "commit" ? "commit" : "blob", sha: e.sha }))
        }
        remember(treeish, listing)
        remember(wire.sha, listing)
        return listing
      })
    )
  }

  const blobText = (sha: string): Effect.Effect<string, GitHubFailure | string> =>
    client.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", { file_sha: sha }, GitBlob).pipe(
      Effect.flatMap((r) =>
        Effect.try({
          try: () => decodeBase64Utf8(r.data.content),
          catch: (e) => `blob ${sha}: not UTF-8 text (${String(e)})`
        })
      )
    )

  return { list, blobText }
}
