/** Writes raw text as one user's presence comment, bypassing the adapter (corrupt input, forged entries). */
import { Effect } from "effect"
import type { GitHubClient } from "../../src/adapters/github/client.js"
import { locateDiscussion } from "../../src/adapters/github/discussion-locate.js"
import { ADD_COMMENT, AnyData, CommentsPage, PRESENCE_COMMENTS, UPDATE_COMMENT } from "../../src/adapters/github/discussion-queries.js"

/** Sets `client`'s user's comment in the presence Discussion to `text`. */
export const writeRawComment = (client: GitHubClient, text: string) =>
  Effect.gen(function* () {
    const d = yield* locateDiscussion(client)
    const page = yield* client.graphql(PRESENCE_COMMENTS, { owner: client.owner, name: client.repo, number: d.number, after: null }, CommentsPage)
    const mine = page.repository.discussion?.comments.nodes.find((n) => n.author?.login === d.viewer)
    if (mine === undefined) yield* client.graphql(ADD_COMMENT, { discussionId: d.id, body: text }, AnyData, "content")
    else yield* client.graphql(UPDATE_COMMENT, { commentId: mine.id, body: text }, AnyData, "content")
  })
