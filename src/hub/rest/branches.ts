/**
 * Branch heads: resolving `ref` parameters and moving heads, counting the commits that
 * land on each branch (the simulator's "commits on the default branch" target reads this).
 */
import { isSha } from "../git-objects.js"
import { MAX_STALE_MS } from "../github-faults.js"
import type { RepoState } from "../state.js"

/**
 * The value of a full ref at time `asOf` (default: now). Reads under `stale-reads` pass an
 * earlier time: GitHub's reads right after a write can show the previous head for seconds
 * (PyGithub issues 1787 and 2709).
 */
export const refAt = async (repo: RepoState, ref: string, asOf?: number): Promise<string | undefined> => {
  const log = asOf === undefined ? undefined : repo.refLog.get(ref)
  if (log === undefined || log.length === 0) return repo.git.store.getRef(ref)
  let value = log[0]!.previous
  for (const change of log) {
    if (change.at > asOf!) break
    value = change.sha
  }
  return value
}

/** The commit a `ref` query parameter names: a branch, a full ref, or a commit sha (as of `asOf`). */
export const resolveRef = async (repo: RepoState, ref: string | null, asOf?: number): Promise<string | undefined> => {
  const name = ref === null || ref === "" ? repo.defaultBranch : ref
  const candidates = name.startsWith("refs/") ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`]
  for (const c of candidates) {
    const sha = await refAt(repo, c, asOf)
    if (sha !== undefined) return sha
  }
  if (isSha(name) && (await repo.git.readCommit(name)) !== undefined) return name
  return undefined
}

// Remembers a ref move; forgets moves older than any stale read can reach, keeping the last of them.
const logRefChange = (repo: RepoState, ref: string, previous: string | undefined, sha: string | undefined): void => {
  const now = repo.clock()
  const log = repo.refLog.get(ref) ?? []
  log.push({ at: now, previous, sha })
  while (log.length > 1 && log[1]!.at <= now - MAX_STALE_MS) log.shift()
  repo.refLog.set(ref, log)
}

/** Points `refs/heads/<branch>` (or any full ref) at `next`, counting commits new to that branch. */
export const moveRef = async (repo: RepoState, ref: string, previous: string | undefined, next: string | undefined): Promise<void> => {
  logRefChange(repo, ref, await repo.git.store.getRef(ref), next)
  await repo.git.store.setRef(ref, next)
  if (next === undefined || !ref.startsWith("refs/heads/")) return
  const branch = ref.slice("refs/heads/".length)
  const added = (await repo.git.commitsBetween(previous, next)).length
  // A new branch created at an existing commit brings no new commits: count only what its base lacked.
  const counted = previous === undefined ? Math.max(0, added - (await baseCount(repo, next, branch))) : added
  repo.commitsByBranch.set(branch, (repo.commitsByBranch.get(branch) ?? 0) + counted)
}

// Commits of a new branch's head already reachable from other branches (not new to the repository).
const baseCount = async (repo: RepoState, head: string, branch: string): Promise<number> => {
  let best = 0
  for (const ref of await repo.git.store.listRefs()) {
    if (ref === `refs/heads/${branch}`) continue
    const other = await repo.git.store.getRef(ref)
    if (other === undefined) continue
    const all = (await repo.git.commitsBetween(undefined, head)).length
    const fresh = (await repo.git.commitsBetween(other, head)).length
    best = Math.max(best, all - fresh)
  }
  return best
}
