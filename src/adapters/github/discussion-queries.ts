/** The GraphQL documents of the Discussion form, each validated against GitHub's schema in test/github. */

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

/** Wire shape of a by-number answer. */
export interface FoundByNumber {
  readonly viewer: { readonly login: string }
  readonly repository: { readonly discussion: { readonly id: string; readonly number: number; readonly title: string } | null }
}

/**
 * Discussions whose title holds the presence title: one request whatever the number of
 * discussions (GitHub search; its index can lag a new discussion by a little).
 */
export const SEARCH_PRESENCE = `query SkygitSearchPresence($q: String!) {
  search(query: $q, type: DISCUSSION, first: 20) {
    nodes { ... on Discussion { id number title } }
  }
}`

/** Wire shape of a search answer. */
export interface SearchFound {
  readonly search: { readonly nodes: ReadonlyArray<{ readonly id?: string; readonly number?: number; readonly title?: string } | null> }
}

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

/** Wire shapes of the answers. */
export interface FoundPresence {
  readonly viewer: { readonly login: string }
  readonly repository: {
    readonly id: string
    readonly hasDiscussionsEnabled: boolean
    readonly discussionCategories: { readonly nodes: ReadonlyArray<{ readonly id: string; readonly name: string; readonly isAnswerable?: boolean }> }
    readonly discussions: {
      readonly nodes: ReadonlyArray<{ readonly id: string; readonly number: number; readonly title: string }>
      readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null }
    }
  }
}

/** One page of comments. */
export interface CommentsPage {
  readonly repository: {
    readonly discussion: {
      readonly id: string
      readonly comments: {
        readonly nodes: ReadonlyArray<{
          readonly id: string
          readonly body: string
          readonly author: { readonly login: string } | null
          /** Who last edited it (null when never edited): a maintainer can edit anyone's comment. */
          readonly editor?: { readonly login: string } | null
          readonly lastEditedAt?: string | null
        }>
        readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null }
      }
    } | null
  }
}
