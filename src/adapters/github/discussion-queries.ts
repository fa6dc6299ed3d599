/**
 * The GraphQL documents of the Discussion form, each validated against GitHub's schema in
 * test/github, and the shapes of their answers as Schemas (the client decodes every answer).
 */
import { Schema } from "effect"

/** Discussions and comments per page: GitHub's maximum. */
export const PAGE_SIZE = 100

/** The viewer, the repository's Discussions setup, and one page of its discussions, oldest first. */
export const FIND_PRESENCE = `query SkygitFindPresence($owner: String!, $name: String!, $after: String) {
  viewer { login }
  repository(owner: $owner, name: $name) {
    id
    hasDiscussionsEnabled
    discussionCategories(first: 25, filterByAssignable: true) { nodes { id name isAnswerable } }
    discussions(first: ${PAGE_SIZE}, after: $after, orderBy: {field: CREATED_AT, direction: ASC}) {
      nodes { id number title }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

/** The viewer and one discussion by its number: the presence Discussion when its number is recorded. */
export const PRESENCE_BY_NUMBER = `query SkygitPresenceByNumber($owner: String!, $name: String!, $number: Int!) {
  viewer { login }
  repository(owner: $owner, name: $name) {
    discussion(number: $number) { id number title }
  }
}`

const Viewer = Schema.Struct({ login: Schema.String })
const DiscussionRef = Schema.Struct({ id: Schema.String, number: Schema.Number, title: Schema.String })

/** Wire shape of a by-number answer. */
export const FoundByNumber = Schema.Struct({
  viewer: Viewer,
  repository: Schema.Struct({ discussion: Schema.NullOr(DiscussionRef) })
})

/**
 * Discussions whose title holds the presence title: one request whatever the number of
 * discussions (GitHub search; its index can lag a new discussion by a little).
 */
export const SEARCH_PRESENCE = `query SkygitSearchPresence($q: String!) {
  search(query: $q, type: DISCUSSION, first: 20) {
    nodes { ... on Discussion { id number title } }
  }
}`

/** Wire shape of a search answer (a node that is not a Discussion has no fields). */
export const SearchFound = Schema.Struct({
  search: Schema.Struct({
    nodes: Schema.Array(
      Schema.NullOr(Schema.Struct({ id: Schema.optional(Schema.String), number: Schema.optional(Schema.Number), title: Schema.optional(Schema.String) }))
    )
  })
})

/** Creates the presence Discussion. */
export const CREATE_PRESENCE = `mutation SkygitCreatePresence($repositoryId: ID!, $categoryId: ID!, $title: String!, $body: String!) {
  createDiscussion(input: {repositoryId: $repositoryId, categoryId: $categoryId, title: $title, body: $body}) {
    discussion { id number }
  }
}`

/** Deletes a duplicate presence Discussion this client created. */
export const DELETE_DISCUSSION = `mutation SkygitDeleteDuplicate($id: ID!) {
  deleteDiscussion(input: {id: $id}) { discussion { id } }
}`

/** One page of the presence Discussion's comments. */
export const PRESENCE_COMMENTS = `query SkygitPresenceComments($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussion(number: $number) {
      id
      comments(first: ${PAGE_SIZE}, after: $after) {
        nodes { id body author { login } editor { login } lastEditedAt }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`

/** Adds this user's one comment. */
export const ADD_COMMENT = `mutation SkygitAddPresence($discussionId: ID!, $body: String!) {
  addDiscussionComment(input: {discussionId: $discussionId, body: $body}) { comment { id } }
}`

/** Edits this user's comment (every heartbeat after the first). */
export const UPDATE_COMMENT = `mutation SkygitUpdatePresence($commentId: ID!, $body: String!) {
  updateDiscussionComment(input: {commentId: $commentId, body: $body}) { comment { id } }
}`

/** Deletes a surplus comment of this user (two tabs that both added one). */
export const DELETE_COMMENT = `mutation SkygitDeletePresence($id: ID!) {
  deleteDiscussionComment(input: {id: $id}) { comment { id } }
}`

const PageInfo = Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) })

/** Wire shape of a scan: the viewer, the repository's Discussions setup and one page of discussions. */
export const FoundPresence = Schema.Struct({
  viewer: Viewer,
  repository: Schema.Struct({
    id: Schema.String,
    hasDiscussionsEnabled: Schema.Boolean,
    discussionCategories: Schema.Struct({
      nodes: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, isAnswerable: Schema.optional(Schema.Boolean) }))
    }),
    discussions: Schema.Struct({ nodes: Schema.Array(DiscussionRef), pageInfo: PageInfo })
  })
})

/** Wire shape of one page of comments (`discussion` null when it is gone). */
export const CommentsPage = Schema.Struct({
  repository: Schema.Struct({
    discussion: Schema.NullOr(
      Schema.Struct({
        id: Schema.String,
        comments: Schema.Struct({
          nodes: Schema.Array(
            Schema.Struct({
              id: Schema.String,
              body: Schema.String,
              author: Schema.NullOr(Viewer),
              /** Who last edited it (null when never edited): a maintainer can edit anyone's comment. */
              editor: Schema.optional(Schema.NullOr(Viewer)),
              lastEditedAt: Schema.optional(Schema.NullOr(Schema.String))
            })
          ),
          pageInfo: PageInfo
        })
      })
    )
  })
})
export type CommentsPage = typeof CommentsPage.Type

/** Wire shape of a created discussion. */
export const CreatedPresence = Schema.Struct({ createDiscussion: Schema.Struct({ discussion: Schema.Struct({ id: Schema.String, number: Schema.Number }) }) })

/** Wire shape of an added comment. */
export const AddedComment = Schema.Struct({ addDiscussionComment: Schema.Struct({ comment: Schema.Struct({ id: Schema.String }) }) })

/** Wire shape of an edited comment. */
export const UpdatedComment = Schema.Struct({ updateDiscussionComment: Schema.Struct({ comment: Schema.Struct({ id: Schema.String }) }) })

/** An answer whose data SkyGit does not use (a deletion). */
export const AnyData = Schema.Unknown
