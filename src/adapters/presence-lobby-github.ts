/**
 * The lobby (src/adapters/presence-lobby.ts) on GitHub: presence.json and the presence
 * Discussion "SkyGit Presence: owner/repo" over the session's one client (one budget), the
 * permission from `GET /repos` (`permissions.push`), and a check for the Discussion that
 * never creates it: the oldest page of discussions, then a search by exact title (the two
 * requests the Discussion form's own lookup makes), asked only by pushers, rarely.
 */
import { Effect, Layer } from "effect"
import { Presence, PresenceUnavailable, type PresenceError, type PresenceService } from "../ports/Presence.js"
import { makeSkygitBranch } from "./github/branch.js"
import { GitHub, type GitHubClient } from "./github/client.js"
import { presenceTitle } from "./github/discussion-locate.js"
import { makeGitHubDiscussionPresence } from "./github/discussion-presence.js"
import { FIND_PRESENCE, FoundPresence, SEARCH_PRESENCE, SearchFound } from "./github/discussion-queries.js"
import { makeGitHubFilePresence, type FilePresenceOptions } from "./github/file-presence.js"
import { toPresenceError } from "./github/port-errors.js"
import { makeLobbyPresence } from "./presence-lobby.js"

/** What a reader is told when the lobby cannot be used, and what to do about it. */
export const lobbyUnusable = (owner: string, repo: string, why: "disabled" | "no-category" | "forbidden"): string => {
  const where = `${owner}/${repo}`
  const title = presenceTitle(owner, repo)
  const lobby = `You can read ${where} but not push, so you would join through the lobby, the Discussion "${title}"`
  const meanwhile = "Until then people who are not connected to you yet cannot find you."
  switch (why) {
    case "disabled":
      return `${lobby}; but Discussions are disabled on ${where}. A maintainer must enable them (Settings > General > Features > Discussions), or give you write access. ${meanwhile}`
    case "no-category":
      return `${lobby}; but it does not exist and there is no category you may start it in. A maintainer must create the Discussion titled exactly "${title}" (in any category), or give you write access. ${meanwhile}`
    case "forbidden":
      return `${lobby}; but GitHub does not let you start it or comment in it (an organization may keep starting discussions to triage access and above, and a locked discussion takes no comments). A maintainer must create the Discussion titled exactly "${title}" (and keep it unlocked), or give you write access. ${meanwhile}`
  }
}

/** Whether the presence Discussion exists: never creates it. */
export const presenceDiscussionExists = (client: GitHubClient): Effect.Effect<boolean, PresenceError> =>
  Effect.gen(function* () {
    const title = presenceTitle(client.owner, client.repo)
    const first = yield* client.graphql(FIND_PRESENCE, { owner: client.owner, name: client.repo, after: null }, FoundPresence)
    const d = first.repository.discussions
    if (!first.repository.hasDiscussionsEnabled) return false
    if (d.nodes.some((n) => n.title === title)) return true
    if (!d.pageInfo.hasNextPage) return false
    const q = `repo:${client.owner}/${client.repo} in:title ${JSON.stringify(title)}`
    const found = yield* client.graphql(SEARCH_PRESENCE, { q }, SearchFound)
    return found.search.nodes.some((n) => n !== null && n.title === title)
  }).pipe(Effect.mapError((f) => toPresenceError(f, "looking for the presence Discussion")))

/**
 * A lobby failure in the words a reader needs: a Discussion that cannot be made or written in
 * (Discussions disabled, no category to start it in, GitHub answering FORBIDDEN) is permanent.
 */
export const explainLobbyFailure =
  (owner: string, repo: string) =>
  (e: PresenceError): PresenceError => {
    if (e._tag !== "PresenceUnavailable") return e
    const cause = e.cause as { readonly _tag?: unknown; readonly detail?: unknown; readonly type?: unknown } | undefined
    const detail = String(cause?.detail ?? "")
    const why =
      cause?._tag === "GitHubMisconfigured"
        ? /discussions are disabled/i.test(detail)
          ? "disabled"
          : /may not start a discussion/i.test(detail)
            ? "no-category"
            : undefined
        : cause?._tag === "GitHubHttpError" && cause.type === "FORBIDDEN"
          ? "forbidden"
          : undefined
    return why === undefined ? e : new PresenceUnavailable({ detail: lobbyUnusable(owner, repo, why), permanent: true, cause })
  }

/** File-form presence with the lobby, over `client`. */
export const makeGitHubLobbyPresence = (client: GitHubClient, options: FilePresenceOptions = {}): Effect.Effect<PresenceService> =>
  Effect.gen(function* () {
    const branch = yield* makeSkygitBranch(client, options.branch)
    return yield* makeLobbyPresence({
      file: yield* makeGitHubFilePresence(client, options),
      lobby: yield* makeGitHubDiscussionPresence(client),
      canPush: branch.canPush.pipe(Effect.orElseSucceed(() => true)),
      lobbyExists: presenceDiscussionExists(client),
      explain: explainLobbyFailure(client.owner, client.repo)
    })
  })

/** Layer: file-form presence with the lobby over the session's one GitHub client. */
export const layerGitHubLobbyPresence = (options: FilePresenceOptions = {}): Layer.Layer<Presence, never, GitHub> =>
  Layer.effect(Presence, Effect.flatMap(GitHub, (client) => makeGitHubLobbyPresence(client, options)))
