/**
 * Branch heads: resolving `ref` parameters and moving heads, counting the commits that
 * land on each branch (the simulator's "commits on the default branch" target reads this).
 */
import { isSha } from "../git-objects.js"
import type { RepoState } from "../state.js"

/** The commit a `ref` query parameter names: a branch, a full ref, or a commit sha. */
export const resolveRef = async (repo: RepoState, ref: string | null): Promise<string | undefined> => {
  const name = ref === null || ref === "" ? repo.defaultBranch : ref
  const candidates = name.startsWith("refs/") ? [name] : [`refs/heads/${name}`, `refs/tags/${name}`]
  for (const c of candidates) {
    const sha = await repo.git.store.getRef(c)
    if (sha !== undefined) return sha
  }
  if (isSha(name) && (await repo.git.readCommit(name)) !== undefined) return name
  return undefined
}

/** Points `refs/heads/<branch>` (or any full ref) at `next`, counting commits new to that branch. */
export const moveRef = async (repo: RepoState, ref: string, previous: string | undefined, next: string | undefined): Promise<void> => {
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
