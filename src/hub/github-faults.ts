/**
 * GitHub's behaviours the plain hub does not show, switchable per run (`--fault NAME[:ARG]`,
 * repeatable; `HubOptions.faults` in-process). Unlike the scripted rules of `faults.ts`, each
 * of these is a standing property of the repository, answered with the status and message
 * shape GitHub uses. Sources are cited where each one is applied:
 *   - read-only: a classic token without push access gets 404 "Not Found" on writes
 *     (octokit/octokit.js#1649, piotrmurach/github#300, gr2m/octokit-plugin-create-pull-request#20:
 *     "The GitHub API often returns a 404 if the authentication is not sufficient").
 *   - protected: contents PUT 409 "Could not create file: Required status check ... is expected."
 *     (yegor256/rultor#1273); ref create/update 422 "Reference update failed" /
 *     "Repository rule violations found" (actions/github-script#455, googleapis/repo-automation-bots#5551).
 *   - archived: 403 "Repository was archived so is read-only." (GitHub REST docs, archived repositories).
 *   - empty: 409 "Git Repository is empty." on git database calls (GitHub REST docs, git database).
 *   - stale-reads / branch-moves: reads seconds stale after a write; contents PUT 409
 *     "is at SHA but expected SHA" when the branch moved (PyGithub#1787, #2709, octokit/octokit.net#2365).
 *   - graphql-secondary: secondary limits answered HTTP 200 with an error and `retry-after`
 *     ("Rate limits and query limits for the GraphQL API").
 *   - announcements-only / maintainer-edits: category permissions and comment edits by
 *     maintainers ("Using the GraphQL API for Discussions", `filterByAssignable`, `editor`).
 */

/** One switchable GitHub behaviour. */
export type GitHubFault =
  | { readonly _tag: "read-only"; readonly user: string }
  | { readonly _tag: "protected"; readonly branch: string }
  | { readonly _tag: "archived" }
  | { readonly _tag: "empty" }
  | { readonly _tag: "stale-reads"; readonly ms: number }
  | { readonly _tag: "branch-moves" }
  | { readonly _tag: "graphql-secondary"; readonly every: number }
  | { readonly _tag: "announcements-only" }
  | { readonly _tag: "many-discussions"; readonly count: number }
  | { readonly _tag: "maintainer-edits"; readonly user: string }

/** Every fault name, as `--fault` accepts it. */
export const FAULT_NAMES = [
  "read-only",
  "protected",
  "archived",
  "empty",
  "stale-reads",
  "branch-moves",
  "graphql-secondary",
  "announcements-only",
  "many-discussions",
  "maintainer-edits"
] as const

/** Longest staleness a `stale-reads` read may show (bounds memory of old ref values). */
export const MAX_STALE_MS = 10 * 60_000
/** Most unrelated discussions `many-discussions` seeds. */
export const MAX_SEEDED_DISCUSSIONS = 100_000
/** Default for `graphql-secondary` without ARG: every 10th GraphQL request is refused. */
export const DEFAULT_GRAPHQL_SECONDARY_EVERY = 10
/** The `retry-after` (seconds) a `graphql-secondary` refusal carries; requests before it elapses are refused too. */
export const GRAPHQL_SECONDARY_RETRY_AFTER_S = 60

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/
const BRANCH = /^[^\s~^:?*[\\]+$/

const intArg = (name: string, arg: string | undefined, min: number, max: number): number => {
  const n = Number(arg)
  if (arg === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`--fault ${name}:N needs an integer N from ${min} to ${max}, got ${arg ?? "nothing"}`)
  return n
}

const loginArg = (name: string, arg: string | undefined): string => {
  if (arg === undefined || !LOGIN.test(arg)) throw new Error(`--fault ${name}:USER needs a GitHub login, got ${arg ?? "nothing"}`)
  return arg
}

/** Parses `NAME[:ARG]`; throws an Error that names the accepted forms on bad input. */
export const parseFault = (spec: string): GitHubFault => {
  const at = spec.indexOf(":")
  const name = at < 0 ? spec : spec.slice(0, at)
  const arg = at < 0 ? undefined : spec.slice(at + 1)
  switch (name) {
    case "read-only":
      return { _tag: "read-only", user: loginArg(name, arg) }
    case "maintainer-edits":
      return { _tag: "maintainer-edits", user: loginArg(name, arg) }
    case "protected":
      if (arg === undefined || !BRANCH.test(arg)) throw new Error(`--fault protected:BRANCH needs a branch name, got ${arg ?? "nothing"}`)
      return { _tag: "protected", branch: arg }
    case "archived":
    case "empty":
    case "branch-moves":
    case "announcements-only":
      if (arg !== undefined) throw new Error(`--fault ${name} takes no argument`)
      return { _tag: name }
    case "stale-reads":
      return { _tag: "stale-reads", ms: intArg(name, arg, 0, MAX_STALE_MS) }
    case "graphql-secondary":
      return { _tag: "graphql-secondary", every: arg === undefined ? DEFAULT_GRAPHQL_SECONDARY_EVERY : intArg(name, arg, 1, 1_000_000) }
    case "many-discussions":
      return { _tag: "many-discussions", count: intArg(name, arg, 0, MAX_SEEDED_DISCUSSIONS) }
    default:
      throw new Error(`unknown --fault ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(", ")}`)
  }
}

/** The faults of a run folded into the switches the handlers read. */
export interface FaultSwitches {
  readonly readOnly: ReadonlySet<string>
  readonly protectedBranches: ReadonlySet<string>
  readonly archived: boolean
  readonly empty: boolean
  readonly staleReadsMs: number
  readonly branchMoves: boolean
  /** 0 = off. */
  readonly graphqlSecondaryEvery: number
  readonly announcementsOnly: boolean
  readonly manyDiscussions: number
  /** Users with maintain access: they may edit anyone's comment and post in Announcements. */
  readonly maintainers: ReadonlySet<string>
}

/** No fault on. */
export const noFaults: FaultSwitches = {
  readOnly: new Set(),
  protectedBranches: new Set(),
  archived: false,
  empty: false,
  staleReadsMs: 0,
  branchMoves: false,
  graphqlSecondaryEvery: 0,
  announcementsOnly: false,
  manyDiscussions: 0,
  maintainers: new Set()
}

/** Folds faults (parsed or as `NAME[:ARG]` text) into switches. */
export const switchesOf = (faults: ReadonlyArray<GitHubFault | string>): FaultSwitches => {
  const readOnly = new Set<string>()
  const protectedBranches = new Set<string>()
  const maintainers = new Set<string>()
  let s = { ...noFaults }
  for (const raw of faults) {
    const f = typeof raw === "string" ? parseFault(raw) : raw
    switch (f._tag) {
      case "read-only":
        readOnly.add(f.user)
        break
      case "protected":
        protectedBranches.add(f.branch)
        break
      case "maintainer-edits":
        maintainers.add(f.user)
        break
      case "archived":
        s = { ...s, archived: true }
        break
      case "empty":
        s = { ...s, empty: true }
        break
      case "branch-moves":
        s = { ...s, branchMoves: true }
        break
      case "announcements-only":
        s = { ...s, announcementsOnly: true }
        break
      case "stale-reads":
        s = { ...s, staleReadsMs: Math.max(s.staleReadsMs, f.ms) }
        break
      case "graphql-secondary":
        s = { ...s, graphqlSecondaryEvery: f.every }
        break
      case "many-discussions":
        s = { ...s, manyDiscussions: f.count }
        break
    }
  }
  return { ...s, readOnly, protectedBranches, maintainers }
}

/** A small seeded PRNG (mulberry32): stale-read lags repeat for a fixed seed, so simulator runs do too. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
