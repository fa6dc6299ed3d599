/**
 * Where a repository's objects and refs live. Two implementations: memory (tests,
 * simulator) and disk (a bare repository plain `git` can clone).
 */
import type { GitObject } from "./git-objects.js"

/** Objects by sha and refs by full name (`refs/heads/main`). */
export interface GitStore {
  /** Stores an object; returns its sha. Storing an existing object is a no-op. */
  readonly put: (obj: GitObject) => Promise<string>
  /** The object with this sha, if stored. */
  readonly get: (sha: string) => Promise<GitObject | undefined>
  /** The sha a ref points at, if the ref exists. */
  readonly getRef: (name: string) => Promise<string | undefined>
  /** Points a ref at a sha, or deletes it when sha is undefined. Callers serialise CAS themselves. */
  readonly setRef: (name: string, sha: string | undefined) => Promise<void>
  /** Every ref name, sorted. */
  readonly listRefs: () => Promise<ReadonlyArray<string>>
  /** Whether the store already held a repository before this process opened it. */
  readonly existed: boolean
}
