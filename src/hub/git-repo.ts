/**
 * Repository operations over a GitStore: resolve paths, build trees from changes,
 * walk history. Everything the REST handlers need, nothing HTTP-specific.
 */
import {
  decodeCommit,
  decodeTree,
  encodeCommit,
  encodeTree,
  FILE_MODE,
  isTreeMode,
  TREE_MODE,
  type Commit,
  type GitObject,
  type Signature,
  type TreeEntry
} from "./git-objects.js"
import type { GitStore } from "./git-store.js"

/** History walks stop here: a runaway walk must not stall the hub. */
export const MAX_WALK_COMMITS = 100_000

/** A tree entry with its full path from the root. */
export interface PathEntry extends TreeEntry {
  readonly path: string
  readonly type: "blob" | "tree" | "commit"
}

/** One change to apply on a tree: set a path to an entry, or delete it (entry null). */
export interface TreeChange {
  readonly path: string
  readonly entry: { readonly mode: string; readonly sha: string } | null
}

/** Whether a repository path is one git can store: relative, no empty, ".", ".." or ".git" segment, no control characters. */
export const isValidPath = (path: string): boolean =>
  path !== "" &&
  !/[\u0000-\u001f\u007f]/.test(path) &&
  path.split("/").every((s) => s !== "" && s !== "." && s !== ".." && s.toLowerCase() !== ".git")

/** The object type an entry's mode points at. */
export const typeOfMode = (mode: string): "blob" | "tree" | "commit" =>
  isTreeMode(mode) ? "tree" : mode === "160000" ? "commit" : "blob"

/** Typed access to one repository's objects. */
export const gitRepo = (store: GitStore) => {
  const getTyped = async (sha: string, type: GitObject["type"]): Promise<GitObject | undefined> => {
    const obj = await store.get(sha)
    return obj?.type === type ? obj : undefined
  }
  const readTree = async (sha: string): Promise<ReadonlyArray<TreeEntry> | undefined> => {
    const obj = await getTyped(sha, "tree")
    return obj === undefined ? undefined : decodeTree(obj.data)
  }
  const readCommit = async (sha: string): Promise<Commit | undefined> => {
    const obj = await getTyped(sha, "commit")
    return obj === undefined ? undefined : decodeCommit(obj.data)
  }

  /** The entry at `path` under a root tree ("" is the root itself). */
  const resolve = async (rootTree: string, path: string): Promise<PathEntry | undefined> => {
    const parts = path.split("/").filter((p) => p !== "")
    let current: PathEntry = { mode: TREE_MODE, name: "", sha: rootTree, path: "", type: "tree" }
    for (const [i, part] of parts.entries()) {
      if (current.type !== "tree") return undefined
      const entries = await readTree(current.sha)
      const e = entries?.find((x) => x.name === part)
      if (e === undefined) return undefined
      current = { ...e, path: parts.slice(0, i + 1).join("/"), type: typeOfMode(e.mode) }
    }
    return current
  }

  /** Every entry under a tree, depth first, with full paths (git's `ls-tree -r -t`). */
  const flatten = async (treeSha: string, prefix = ""): Promise<Array<PathEntry>> => {
    const out: Array<PathEntry> = []
    for (const e of (await readTree(treeSha)) ?? []) {
      const path = prefix === "" ? e.name : `${prefix}/${e.name}`
      const type = typeOfMode(e.mode)
      out.push({ ...e, path, type })
      if (type === "tree") out.push(...(await flatten(e.sha, path)))
    }
    return out
  }

  /** A new tree: `base` (or empty) with the changes applied; emptied subtrees disappear like in git. */
  const applyChanges = async (base: string | undefined, changes: ReadonlyArray<TreeChange>): Promise<string> => {
    const entries = new Map<string, TreeEntry>()
    for (const e of base === undefined ? [] : ((await readTree(base)) ?? [])) entries.set(e.name, e)
    const nested = new Map<string, Array<TreeChange>>()
    for (const c of changes) {
      const slash = c.path.indexOf("/")
      if (slash < 0) {
        if (c.entry === null) entries.delete(c.path)
        else entries.set(c.path, { name: c.path, mode: c.entry.mode, sha: c.entry.sha })
      } else {
        const dir = c.path.slice(0, slash)
        const list = nested.get(dir) ?? []
        list.push({ path: c.path.slice(slash + 1), entry: c.entry })
        nested.set(dir, list)
      }
    }
    for (const [dir, list] of nested) {
      const existing = entries.get(dir)
      const sub = existing !== undefined && isTreeMode(existing.mode) ? existing.sha : undefined
      const sha = await applyChanges(sub, list)
      const empty = ((await readTree(sha)) ?? []).length === 0
      if (empty) entries.delete(dir)
      else entries.set(dir, { name: dir, mode: TREE_MODE, sha })
    }
    return store.put(encodeTree([...entries.values()]))
  }

  /** Writes a commit object; returns its sha. */
  const writeCommit = (c: Commit): Promise<string> => store.put(encodeCommit(c))

  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  const isAncestor = async (ancestor: string, descendant: string): Promise<boolean> => {
    const seen = new Set<string>()
    const queue = [descendant]
    while (queue.length > 0 && seen.size < MAX_WALK_COMMITS) {
      const sha = queue.shift()!
      if (sha === ancestor) return true
      if (seen.has(sha)) continue
      seen.add(sha)
      queue.push(...((await readCommit(sha))?.parents ?? []))
    }
    return false
  }

  /** Commits reachable from `head` but not from `base`, in walk order from `head`. */
  const commitsBetween = async (base: string | undefined, head: string): Promise<Array<string>> => {
    // Fast path for the usual fast-forward: walk back from head and stop at base.
    if (base !== undefined) {
      const out: Array<string> = []
      const seen = new Set<string>()
      const q = [head]
      let reachedRoot = false
      while (q.length > 0 && seen.size < MAX_WALK_COMMITS) {
        const sha = q.shift()!
        if (sha === base || seen.has(sha)) continue
        seen.add(sha)
        out.push(sha)
        const parents = (await readCommit(sha))?.parents ?? []
        if (parents.length === 0) reachedRoot = true
        q.push(...parents)
      }
      if (!reachedRoot) return out
    }
    // General case (diverged histories): everything reachable from head minus base's history.
    const excluded = new Set<string>()
    if (base !== undefined) {
      const q = [base]
      while (q.length > 0 && excluded.size < MAX_WALK_COMMITS) {
        const sha = q.shift()!
        if (excluded.has(sha)) continue
        excluded.add(sha)
        q.push(...((await readCommit(sha))?.parents ?? []))
      }
    }
    const out: Array<string> = []
    const seen = new Set<string>()
    const q = [head]
    while (q.length > 0 && seen.size < MAX_WALK_COMMITS) {
      const sha = q.shift()!
      if (seen.has(sha) || excluded.has(sha)) continue
      seen.add(sha)
      out.push(sha)
      q.push(...((await readCommit(sha))?.parents ?? []))
    }
    return out
  }

  /** Paths of files whose blob differs between two trees (added, changed or removed). */
  const changedPaths = async (before: string | undefined, after: string): Promise<Array<string>> => {
    const files = async (t: string | undefined) =>
      new Map((t === undefined ? [] : await flatten(t)).filter((e) => e.type !== "tree").map((e) => [e.path, e.sha]))
    const a = await files(before)
    const b = await files(after)
    const paths = new Set([...a.keys(), ...b.keys()])
    return [...paths].filter((p) => a.get(p) !== b.get(p)).sort()
  }

  /** A commit on top of `parent` (or a root commit) writing text files. */
  const commitFiles = async (
    parent: string | undefined,
    files: ReadonlyArray<{ readonly path: string; readonly data: Uint8Array }>,
    message: string,
    who: Signature
  ): Promise<string> => {
    const base = parent === undefined ? undefined : (await readCommit(parent))?.tree
    const changes: Array<TreeChange> = []
    for (const f of files) {
      changes.push({ path: f.path, entry: { mode: FILE_MODE, sha: await store.put({ type: "blob", data: f.data }) } })
    }
    const tree = await applyChanges(base, changes)
    return writeCommit({ tree, parents: parent === undefined ? [] : [parent], author: who, committer: who, message })
  }

  return { store, getTyped, readTree, readCommit, resolve, flatten, applyChanges, writeCommit, isAncestor, commitsBetween, changedPaths, commitFiles }
}

/** The operations of one repository. */
export type GitRepo = ReturnType<typeof gitRepo>
