/**
 * What a refused GitHub write means. A lost race (the branch or file moved) is worth a
 * re-read and a retry; a permanent refusal (no push access, branch protection or a
 * ruleset, an archived or empty repository) is not, and must be told once in plain words
 * with what to do. GitHub's answers, as the hub models them (src/hub/fault-gate.ts):
 *   - 409 "X does not match SHA", 409 "is at X but expected Y", 422 "sha wasn't supplied",
 *     422 "Update is not a fast forward", 422 "Reference already exists": races;
 *   - 404 on a write (classic tokens), 403 "Resource not accessible by ...": no push access;
 *   - 409 "Required status check ... is expected", 422 "Repository rule violations found",
 *     422 "Reference update failed", "protected branch": protection or rulesets;
 *   - 403 "Repository was archived so is read-only.": archived;
 *   - 409 "Git Repository is empty.": no commit yet.
 */
import type { GitHubFailure } from "./errors.js"

/** Why a write can never succeed as things stand. */
export type PermanentReason = "permission" | "protected" | "archived" | "empty"

/** The meaning of a refused write. */
export type WriteRefusal =
  | { readonly _tag: "Race" }
  | { readonly _tag: "Permanent"; readonly reason: PermanentReason; readonly detail: string }
  | { readonly _tag: "Other" }

/** Where a write went: named in the plain-words explanation. */
export interface WriteTarget {
  readonly owner: string
  readonly repo: string
  readonly branch: string
}

const RACE = /does not match|is at [0-9a-f]+ but expected|sha.? wasn't supplied|not a fast forward|already exists/i
const PROTECTED = /required status check|rule violations|protected branch|reference update failed|cannot update this protected ref/i
const ARCHIVED = /archived/i
const EMPTY = /repository is empty/i
const MISSING_BRANCH = /branch .* not found/i
const NOT_ACCESSIBLE = /resource not accessible|must have push access|permission to .* denied/i

/** The plain-words explanation of a permanent refusal, with what to do about it. */
export const explainRefusal = (reason: PermanentReason, t: WriteTarget): string => {
  const where = `${t.owner}/${t.repo}`
  switch (reason) {
    case "permission":
      return `Your GitHub token cannot push to ${where}: chat works, but someone with write access must be online to save history. To save it yourself, ask a maintainer for write access, or use a token with Contents read/write (fine-grained) or "repo" (classic).`
    case "protected":
      return `GitHub refuses SkyGit's commits to the branch "${t.branch}" of ${where} (branch protection or a ruleset): a maintainer must exclude "${t.branch}" from the rules (Settings > Branches or Rules), or configure SkyGit with another branch.`
    case "archived":
      return `${where} is archived, so GitHub refuses every write: history cannot be saved until a maintainer unarchives it (Settings > General > Danger Zone).`
    case "empty":
      return `${where} has no commit yet, so SkyGit cannot create its branch "${t.branch}": push a first commit (for example a README) to ${where}, then reload.`
  }
}

/**
 * What a user who may read but not push is told in the file form of presence: it needs a
 * commit for every entry, so nobody can find them there (issue 9).
 */
export const readOnlyFilePresence = (owner: string, repo: string): string =>
  `You can read ${owner}/${repo} but not push; file-form presence needs push access, so people who are not connected to you yet cannot find you. Ask a maintainer to switch the repository to Discussion presence, or for write access.`

/** Classifies a failed write (contents PUT, git database POST, ref create/update). */
export const classifyWrite = (f: GitHubFailure, t: WriteTarget): WriteRefusal => {
  if (f._tag !== "GitHubHttpError") return { _tag: "Other" }
  const permanent = (reason: PermanentReason): WriteRefusal => ({ _tag: "Permanent", reason, detail: explainRefusal(reason, t) })
  const m = f.message
  if (f.status === 409 && EMPTY.test(m)) return permanent("empty")
  if (f.status === 403 && ARCHIVED.test(m)) return permanent("archived")
  if ((f.status === 409 || f.status === 422 || f.status === 403) && PROTECTED.test(m)) return permanent("protected")
  if ((f.status === 409 || f.status === 422) && RACE.test(m)) return { _tag: "Race" }
  // A write GitHub pretends not to see is one the token may not make (classic tokens get 404).
  if ((f.status === 404 && !MISSING_BRANCH.test(m)) || (f.status === 403 && NOT_ACCESSIBLE.test(m))) return permanent("permission")
  return { _tag: "Other" }
}
