/**
 * Finding (or creating) the one presence Discussion "SkyGit Presence: owner/repo". Its number,
 * once known, is recorded for everyone (`.messages/skygit.json`), and then it is found in one
 * request; without it, or when the record is stale, by the oldest page and a search by title.
 * When two clients race to create it, every client picks the same one, the oldest (smallest
 * number), and a client whose own creation lost deletes it (or, failing that, ignores it).
 */
import { Effect, Option } from "effect"
import { makeSkygitBranch } from "./branch.js"
import type { GitHubClient } from "./client.js"
import { makeGitHubRepoSettings } from "./repo-settings.js"
import {
  AnyData,
  CREATE_PRESENCE,
  CreatedPresence,
  DELETE_DISCUSSION,
  FIND_PRESENCE,
  FoundByNumber,
  FoundPresence,
  PRESENCE_BY_NUMBER,
  SEARCH_PRESENCE,
  SearchFound
} from "./discussion-queries.js"
import { GitHubMisconfigured, type GitHubFailure } from "./errors.js"

/** The category chosen when the user may post in it; else the first plain one the user may post in. */
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
  readonly categories: ReadonlyArray<{ readonly id: string; readonly name: string; readonly isAnswerable?: boolean | undefined }>
  /** Discussions with the presence title, oldest first. */
  readonly matches: ReadonlyArray<{ readonly id: string; readonly number: number }>
}

/**
 * At most two requests, whatever the number of discussions: the oldest page (where the
 * presence Discussion sits in a repository that had few when it was made), then a search
 * by its exact title. Scanning every page never ended in a busy repository.
 */
const scan = (client: GitHubClient, title: string): Effect.Effect<Scan, GitHubFailure> =>
  Effect.gen(function* () {
    const first = yield* client.graphql(FIND_PRESENCE, { owner: client.owner, name: client.repo, after: null }, FoundPresence)
    const d = first.repository.discussions
    const matches: Array<{ readonly id: string; readonly number: number }> = d.nodes.filter((n) => n.title === title).map((n) => ({ id: n.id, number: n.number }))
    if (matches.length === 0 && d.pageInfo.hasNextPage) {
      const q = `repo:${client.owner}/${client.repo} in:title ${JSON.stringify(title)}`
      const found = yield* client.graphql(SEARCH_PRESENCE, { q }, SearchFound)
      for (const n of found.search.nodes) {
        // Search matches words, not the exact title: keep exact matches only.
        if (n !== null && n.title === title && typeof n.id === "string" && typeof n.number === "number") matches.push({ id: n.id, number: n.number })
      }
    }
    const r = first.repository
    return {
      viewer: first.viewer.login,
      repositoryId: r.id,
      enabled: r.hasDiscussionsEnabled,
      categories: r.discussionCategories.nodes,
      matches: matches.sort((a, b) => a.number - b.number)
    }
  })

/** Where the presence Discussion's number is kept for everyone; failures to read or write it are not errors. */
export interface DiscussionNumberRecord {
  /** The recorded number, if any. */
  readonly read: Effect.Effect<Option.Option<number>>
  /** Records `number` (when this user may, and the record says the Discussion form). */
  readonly write: (number: number) => Effect.Effect<void>
}

/** No record: always found by scanning and searching. */
export const noNumberRecord: DiscussionNumberRecord = { read: Effect.succeed(Option.none()), write: () => Effect.void }

/**
 * The number kept in the repository's SkyGit settings (`.messages/skygit.json`): read
 * conditionally (free while unchanged); written over the version read, only by a user who
 * may push and only into a record of the Discussion form (a lost race is ignored: the
 * winner recorded the same Discussion, or the form changed).
 */
export const settingsNumberRecord = (client: GitHubClient): Effect.Effect<DiscussionNumberRecord> =>
  Effect.gen(function* () {
    const settings = yield* makeGitHubRepoSettings(client)
    const branch = yield* makeSkygitBranch(client)
    return {
      read: settings.read.pipe(
        Effect.map(Option.flatMap((r) => Option.fromNullable(r.settings.discussion))),
        Effect.orElseSucceed(() => Option.none<number>())
      ),
      write: (number) =>
        Effect.gen(function* () {
          const seen = yield* settings.read
          if (Option.isNone(seen)) return
          const { settings: current, version } = seen.value
          if (current.presence !== "discussion" || current.discussion === number) return
          if (!(yield* branch.canPush)) return
          yield* settings.write({ ...current, discussion: number }, Option.some(version))
        }).pipe(Effect.ignore)
    }
  })

const isNotFound = (f: GitHubFailure): boolean => f._tag === "GitHubHttpError" && f.type === "NOT_FOUND"

/** The Discussion numbered `number` when it is the presence Discussion; none when missing or another one. */
const byNumber = (client: GitHubClient, title: string, number: number): Effect.Effect<Option.Option<LocatedDiscussion>, GitHubFailure> =>
  client.graphql(PRESENCE_BY_NUMBER, { owner: client.owner, name: client.repo, number }, FoundByNumber).pipe(
    Effect.map((r) => {
      const d = r.repository.discussion
      return d !== null && d.title === title ? Option.some({ id: d.id, number: d.number, viewer: r.viewer.login }) : Option.none()
    }),
    // A stale record (the Discussion was deleted): found the long way, and recorded again.
    Effect.catchIf(isNotFound, () => Effect.succeed(Option.none()))
  )

/**
 * Finds the presence Discussion, creating it when missing; the same one for every client.
 * With its number recorded: one request, whatever the number of discussions.
 */
export const locateDiscussion = (
  client: GitHubClient,
  record: DiscussionNumberRecord = noNumberRecord
): Effect.Effect<LocatedDiscussion, GitHubFailure | GitHubMisconfigured> =>
  Effect.gen(function* () {
    const title = presenceTitle(client.owner, client.repo)
    const recorded = yield* record.read
    if (Option.isSome(recorded)) {
      const found = yield* byNumber(client, title, recorded.value)
      if (Option.isSome(found)) return found.value
    }
    const remember = (d: LocatedDiscussion) =>
      Option.isSome(recorded) && recorded.value === d.number ? Effect.succeed(d) : Effect.as(record.write(d.number), d)
    const first = yield* scan(client, title)
    const winner = first.matches[0]
    if (winner !== undefined) return yield* remember({ ...winner, viewer: first.viewer })
    const where = `${client.owner}/${client.repo}`
    if (!first.enabled) {
      return yield* Effect.fail(
        new GitHubMisconfigured({ detail: `Discussions are disabled on ${where}: enable them (Settings > General > Features > Discussions) or use the file form of presence` })
      )
    }
    // Only categories this user may start a discussion in (`filterByAssignable`): never Announcements
    // for a non-maintainer; a plain one before a Q&A one.
    const category =
      first.categories.find((c) => c.name === PREFERRED_CATEGORY) ?? first.categories.find((c) => c.isAnswerable !== true) ?? first.categories[0]
    if (category === undefined) {
      return yield* Effect.fail(
        new GitHubMisconfigured({
          detail: `You may not start a discussion in any category of ${where}: a maintainer must create the Discussion titled exactly "${title}" (in any category), or use the file form of presence`
        })
      )
    }
    const created = yield* client.graphql(
      CREATE_PRESENCE,
      { repositoryId: first.repositoryId, categoryId: category.id, title, body: DISCUSSION_BODY },
      CreatedPresence,
      "content"
    )
    const mine = created.createDiscussion.discussion
    // Converge: whoever created first (smallest number) wins; a losing creation is removed.
    const again = yield* scan(client, title)
    const chosen = again.matches[0] ?? mine
    if (chosen.number !== mine.number) {
      yield* client.graphql(DELETE_DISCUSSION, { id: mine.id }, AnyData, "mutation").pipe(Effect.ignore)
    }
    return yield* remember({ id: chosen.id, number: chosen.number, viewer: first.viewer })
  })
