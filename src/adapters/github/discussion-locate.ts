/**
 * Finding (or creating) the one presence Discussion "SkyGit Presence: owner/repo". When two
 * clients race to create it, every client picks the same one, the oldest (smallest number),
 * and a client whose own creation lost deletes it (or, failing that, ignores it).
 */
import { Effect } from "effect"
import type { GitHubClient } from "./client.js"
import { CREATE_PRESENCE, DELETE_DISCUSSION, FIND_PRESENCE, type FoundPresence } from "./discussion-queries.js"
import { GitHubMisconfigured, type GitHubFailure } from "./errors.js"

/** Pages of discussions searched for the presence one (100 each). */
export const MAX_DISCUSSION_PAGES = 50
/** The category chosen when the repository has it; else its first. */
export const PREFERRED_CATEGORY = "General"

/** The presence Discussion's title for `owner/repo`. */
export const presenceTitle = (owner: string, repo: string): string => `SkyGit Presence: ${owner}/${repo}`

/** Body of the Discussion itself, for people who find it on GitHub. */
const DISCUSSION_BODY =
  "SkyGit keeps the presence of its peers here: each user has one comment, which SkyGit edits. Please do not reply or edit by hand."

/** The presence Discussion and who is looking at it. */
export interface LocatedDiscussion {
  readonly id: string
  readonly number: number
  readonly viewer: string
}

interface Scan {
  readonly viewer: string
  readonly repositoryId: string
  readonly enabled: boolean
  readonly categories: ReadonlyArray<{ readonly id: string; readonly name: string }>
  /** Discussions with the presence title, oldest first. */
  readonly matches: ReadonlyArray<{ readonly id: string; readonly number: number }>
}

const scan = (client: GitHubClient, title: string): Effect.Effect<Scan, GitHubFailure> =>
  Effect.gen(function* () {
    const matches: Array<{ id: string; number: number }> = []
    let after: string | null = null
    let first: FoundPresence | undefined
    for (let page = 0; page < MAX_DISCUSSION_PAGES; page++) {
      const found: FoundPresence = yield* client.graphql<FoundPresence>(FIND_PRESENCE, { owner: client.owner, name: client.repo, after })
      first ??= found
      const d = found.repository.discussions
      matches.push(...d.nodes.filter((n) => n.title === title).map((n) => ({ id: n.id, number: n.number })))
      // Oldest first: once one is found the rest can only be later duplicates on this page.
      if (matches.length > 0 || !d.pageInfo.hasNextPage || d.pageInfo.endCursor === null) break
      after = d.pageInfo.endCursor
    }
    const r = first!.repository
    return {
      viewer: first!.viewer.login,
      repositoryId: r.id,
      enabled: r.hasDiscussionsEnabled,
      categories: r.discussionCategories.nodes,
      matches: matches.sort((a, b) => a.number - b.number)
    }
  })

/** Finds the presence Discussion, creating it when missing; the same one for every client. */
export const locateDiscussion = (client: GitHubClient): Effect.Effect<LocatedDiscussion, GitHubFailure | GitHubMisconfigured> =>
  Effect.gen(function* () {
    const title = presenceTitle(client.owner, client.repo)
    const first = yield* scan(client, title)
    const winner = first.matches[0]
    if (winner !== undefined) return { ...winner, viewer: first.viewer }
    const where = `${client.owner}/${client.repo}`
    if (!first.enabled) {
      return yield* Effect.fail(
        new GitHubMisconfigured({ detail: `Discussions are disabled on ${where}: enable them (Settings > General > Features > Discussions) or use the file form of presence` })
      )
    }
    const category = first.categories.find((c) => c.name === PREFERRED_CATEGORY) ?? first.categories[0]
    if (category === undefined) {
      return yield* Effect.fail(new GitHubMisconfigured({ detail: `${where} has no Discussion category: create one (e.g. "${PREFERRED_CATEGORY}") or use the file form of presence` }))
    }
    const created = yield* client.graphql<{ createDiscussion: { discussion: { id: string; number: number } } }>(
      CREATE_PRESENCE,
      { repositoryId: first.repositoryId, categoryId: category.id, title, body: DISCUSSION_BODY },
      "content"
    )
    const mine = created.createDiscussion.discussion
    // Converge: whoever created first (smallest number) wins; a losing creation is removed.
    const again = yield* scan(client, title)
    const chosen = again.matches[0] ?? mine
    if (chosen.number !== mine.number) {
      yield* client.graphql(DELETE_DISCUSSION, { id: mine.id }, "mutation").pipe(Effect.ignore)
    }
    return { id: chosen.id, number: chosen.number, viewer: first.viewer }
  })
