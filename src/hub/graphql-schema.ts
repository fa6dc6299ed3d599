/**
 * The subset of GitHub's GraphQL schema the hub executes. Names, argument lists and
 * nullability copy GitHub's published schema, so a document valid there runs here unchanged.
 */
export const HUB_SCHEMA_SDL = /* GraphQL */ `
scalar DateTime
scalar URI
scalar HTML

interface Node { id: ID! }
interface Actor { login: String! avatarUrl(size: Int): URI! url: URI! }
interface RepositoryOwner { id: ID! login: String! url: URI! avatarUrl(size: Int): URI! }

type Query {
  viewer: User!
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  node(id: ID!): Node
  rateLimit(dryRun: Boolean = false): RateLimit
  search(after: String, before: String, first: Int, last: Int, query: String!, type: SearchType!): SearchResultItemConnection!
}

enum SearchType { DISCUSSION ISSUE REPOSITORY USER }
union SearchResultItem = Discussion
type SearchResultItemEdge { cursor: String! node: SearchResultItem }
type SearchResultItemConnection {
  codeCount: Int! discussionCount: Int! issueCount: Int! repositoryCount: Int! userCount: Int! wikiCount: Int!
  edges: [SearchResultItemEdge] nodes: [SearchResultItem] pageInfo: PageInfo!
}

type Mutation {
  createDiscussion(input: CreateDiscussionInput!): CreateDiscussionPayload
  addDiscussionComment(input: AddDiscussionCommentInput!): AddDiscussionCommentPayload
  updateDiscussionComment(input: UpdateDiscussionCommentInput!): UpdateDiscussionCommentPayload
  deleteDiscussionComment(input: DeleteDiscussionCommentInput!): DeleteDiscussionCommentPayload
  deleteDiscussion(input: DeleteDiscussionInput!): DeleteDiscussionPayload
}

type RateLimit { cost: Int! limit: Int! nodeCount: Int! remaining: Int! resetAt: DateTime! used: Int! }

type User implements Node & Actor & RepositoryOwner { id: ID! login: String! name: String avatarUrl(size: Int): URI! url: URI! databaseId: Int }
type Organization implements Node & Actor & RepositoryOwner { id: ID! login: String! name: String avatarUrl(size: Int): URI! url: URI! databaseId: Int }

type PageInfo { endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String }

enum OrderDirection { ASC DESC }
enum DiscussionOrderField { CREATED_AT UPDATED_AT }
enum DiscussionState { CLOSED OPEN }
input DiscussionOrder { direction: OrderDirection! field: DiscussionOrderField! }

type Repository implements Node {
  id: ID!
  databaseId: Int
  name: String!
  nameWithOwner: String!
  owner: RepositoryOwner!
  url: URI!
  isPrivate: Boolean!
  hasDiscussionsEnabled: Boolean!
  discussionCategories(after: String, before: String, filterByAssignable: Boolean = false, first: Int, last: Int): DiscussionCategoryConnection!
  discussions(after: String, answered: Boolean = null, before: String, categoryId: ID = null, first: Int, last: Int, orderBy: DiscussionOrder = {field: UPDATED_AT, direction: DESC}, states: [DiscussionState!] = []): DiscussionConnection!
  discussion(number: Int!): Discussion
}

type DiscussionCategory implements Node {
  id: ID! name: String! slug: String! description: String emoji: String! emojiHTML: HTML! isAnswerable: Boolean!
  createdAt: DateTime! updatedAt: DateTime! repository: Repository!
}
type DiscussionCategoryEdge { cursor: String! node: DiscussionCategory }
type DiscussionCategoryConnection { edges: [DiscussionCategoryEdge] nodes: [DiscussionCategory] pageInfo: PageInfo! totalCount: Int! }

type Discussion implements Node {
  id: ID! number: Int! title: String! body: String! url: URI!
  author: Actor category: DiscussionCategory! repository: Repository!
  createdAt: DateTime! updatedAt: DateTime! lastEditedAt: DateTime
  comments(after: String, before: String, first: Int, last: Int): DiscussionCommentConnection!
}
type DiscussionEdge { cursor: String! node: Discussion }
type DiscussionConnection { edges: [DiscussionEdge] nodes: [Discussion] pageInfo: PageInfo! totalCount: Int! }

type DiscussionComment implements Node {
  id: ID! body: String! url: URI! author: Actor editor: Actor
  createdAt: DateTime! updatedAt: DateTime! lastEditedAt: DateTime deletedAt: DateTime
  discussion: Discussion replyTo: DiscussionComment isMinimized: Boolean!
  viewerCanUpdate: Boolean! viewerCanDelete: Boolean!
  replies(after: String, before: String, first: Int, last: Int): DiscussionCommentConnection!
  userContentEdits(after: String, before: String, first: Int, last: Int): UserContentEditConnection
}
type DiscussionCommentEdge { cursor: String! node: DiscussionComment }
type DiscussionCommentConnection { edges: [DiscussionCommentEdge] nodes: [DiscussionComment] pageInfo: PageInfo! totalCount: Int! }

type UserContentEdit implements Node { id: ID! createdAt: DateTime! editedAt: DateTime! updatedAt: DateTime! deletedAt: DateTime diff: String editor: Actor }
type UserContentEditEdge { cursor: String! node: UserContentEdit }
type UserContentEditConnection { edges: [UserContentEditEdge] nodes: [UserContentEdit] pageInfo: PageInfo! totalCount: Int! }

input CreateDiscussionInput { body: String! categoryId: ID! clientMutationId: String repositoryId: ID! title: String! }
input AddDiscussionCommentInput { body: String! clientMutationId: String discussionId: ID! replyToId: ID }
input UpdateDiscussionCommentInput { body: String! clientMutationId: String commentId: ID! }
input DeleteDiscussionCommentInput { clientMutationId: String id: ID! }
input DeleteDiscussionInput { clientMutationId: String id: ID! }

type CreateDiscussionPayload { clientMutationId: String discussion: Discussion }
type AddDiscussionCommentPayload { clientMutationId: String comment: DiscussionComment }
type UpdateDiscussionCommentPayload { clientMutationId: String comment: DiscussionComment }
type DeleteDiscussionCommentPayload { clientMutationId: String comment: DiscussionComment }
type DeleteDiscussionPayload { clientMutationId: String discussion: Discussion }
`
