/**
 * `POST /graphql` for Discussions: documents are validated against GitHub's schema, charged
 * to the caller's GraphQL budget, then executed on the hub's subset. `author.login` always
 * comes from the token, never from the request.
 */
import { buildSchema, execute, GraphQLError, validate, type DocumentNode, type OperationDefinitionNode } from "graphql"
import { snapshot } from "../domain/budget.js"
import { budgetsOf, charge, limitedReply } from "./budget-gate.js"
import { ARCHIVED_MESSAGE, graphqlSecondaryRefusal } from "./fault-gate.js"
import { githubError, parseForGithub } from "./graphql-github.js"
import { HUB_SCHEMA_SDL } from "./graphql-schema.js"
import { isoSeconds, json, type Ctx, type Reply } from "./http.js"
import { isMaintainer, newNodeId, statsOf, type Category, type Discussion, type DiscussionComment, type RepoState } from "./state.js"
import { HTML_HOST } from "./rest/shapes.js"

/** GitHub's page-size ceiling for every connection. */
export const MAX_PAGE_SIZE = 100
/** Mutations that count as content creation (the 80/min and 500/h window). */
export const CONTENT_CREATING_MUTATIONS: ReadonlySet<string> = new Set(["createDiscussion", "addDiscussionComment", "updateDiscussionComment"])
/** Bounds stored text like GitHub's 65,536-character body limit. */
export const MAX_BODY_CHARS = 65_536

const hubSchema = buildSchema(HUB_SCHEMA_SDL)

const fail = (type: string, message: string): never => {
  throw new GraphQLError(message, { extensions: { type } })
}

interface PageArgs {
  readonly first?: number | null
  readonly last?: number | null
  readonly after?: string | null
  readonly before?: string | null
}

const cursorOf = (key: number): string => Buffer.from(`cursor:v2:${key}`).toString("base64")
const keyOf = (cursor: string): number => {
  const m = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"))
  return m === null ? fail("INVALID_CURSOR_ARGUMENTS", `\`${cursor}\` does not appear to be a valid cursor.`) : Number(m[1])
}

/** A GitHub connection over items sorted by ascending key, with GitHub's pagination rules. */
const connection = <A>(items: ReadonlyArray<A>, key: (a: A, index: number) => number, args: PageArgs, name: string) => {
  const { first, last, after, before } = args
  if ((first ?? null) === null && (last ?? null) === null) {
    fail("MISSING_PAGINATION_BOUNDARIES", `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`)
  }
  for (const [arg, n] of [["first", first], ["last", last]] as const) {
    if (n !== undefined && n !== null && (n < 0 || n > MAX_PAGE_SIZE)) {
      fail("EXCESSIVE_PAGINATION", `Requesting ${n} records on the \`${name}\` connection exceeds the \`${arg}\` limit of ${MAX_PAGE_SIZE} records.`)
    }
  }
  const keyed = items.map((item, i) => ({ item, k: key(item, i) }))
  const lo = after === undefined || after === null ? -Infinity : keyOf(after)
  const hi = before === undefined || before === null ? Infinity : keyOf(before)
  let window = keyed.filter((e) => e.k > lo && e.k < hi)
  if (first !== undefined && first !== null) window = window.slice(0, first)
  if (last !== undefined && last !== null) window = window.slice(Math.max(0, window.length - last))
  const startIdx = window.length === 0 ? -1 : keyed.indexOf(window[0]!)
  const endIdx = window.length === 0 ? -1 : keyed.indexOf(window[window.length - 1]!)
  return {
    totalCount: items.length,
    nodes: window.map((e) => e.item),
    edges: window.map((e) => ({ cursor: cursorOf(e.k), node: e.item })),
    pageInfo: {
      hasNextPage: endIdx >= 0 && endIdx < keyed.length - 1,
      hasPreviousPage: startIdx > 0,
      startCursor: window.length === 0 ? null : cursorOf(window[0]!.k),
      endCursor: window.length === 0 ? null : cursorOf(window[window.length - 1]!.k)
    }
  }
}

/** The resolvers of one request, closed over its context. */
const resolvers = (ctx: Ctx) => {
  const viewer = ctx.user!.login
  const state = ctx.state
  let contentChanged: RepoState | undefined

  const actor = (login: string) => {
    const a = state.accounts.get(login)
    return {
      __typename: a?.type ?? "User",
      id: Buffer.from(`04:${a?.type ?? "User"}${a?.id ?? 0}`).toString("base64"),
      databaseId: a?.id ?? 0,
      login,
      name: login,
      avatarUrl: `https://avatars.githubusercontent.com/u/${a?.id ?? 0}?v=4`,
      url: `${HTML_HOST}/${login}`
    }
  }

  const categoryNode = (repo: RepoState, c: Category) => ({
    __typename: "DiscussionCategory",
    id: c.id,
    name: c.name,
    slug: c.slug,
    description: null,
    emoji: ":speech_balloon:",
    emojiHTML: "<div>💬</div>",
    isAnswerable: false,
    createdAt: isoSeconds(repo.createdAt),
    updatedAt: isoSeconds(repo.createdAt),
    repository: () => repoNode(repo)
  })

  const commentNode = (repo: RepoState, d: Discussion, c: DiscussionComment): Record<string, unknown> => ({
    __typename: "DiscussionComment",
    id: c.id,
    body: c.body,
    url: `${HTML_HOST}/${repo.fullName}/discussions/${d.number}#discussioncomment-${c.serial}`,
    author: actor(c.author),
    createdAt: isoSeconds(c.createdAt),
    updatedAt: isoSeconds(c.updatedAt),
    lastEditedAt: c.edits.length === 0 ? null : isoSeconds(c.updatedAt),
    deletedAt: null,
    isMinimized: false,
    viewerCanUpdate: c.author === viewer || isMaintainer(state, repo, viewer),
    viewerCanDelete: c.author === viewer || isMaintainer(state, repo, viewer),
    // GitHub's `editor`: who last edited the comment (null when never edited).
    editor: c.edits.length === 0 ? null : actor(c.edits[c.edits.length - 1]!.editor),
    discussion: () => discussionNode(repo, d),
    replyTo: () => {
      const parent = d.comments.find((x) => x.id === c.replyTo)
      return parent === undefined ? null : commentNode(repo, d, parent)
    },
    replies: (args: PageArgs) => {
      const replies = d.comments.filter((x) => x.replyTo === c.id)
      return connection(replies.map((x) => commentNode(repo, d, x)), (_, i) => replies[i]!.serial, args, "replies")
    },
    userContentEdits: (args: PageArgs) =>
      connection(
        c.edits.map((e, i) => ({
          __typename: "UserContentEdit",
          id: `UCE_${c.id}_${i}`,
          createdAt: isoSeconds(e.at),
          editedAt: isoSeconds(e.at),
          updatedAt: isoSeconds(e.at),
          deletedAt: null,
          diff: e.previous,
          editor: actor(e.editor)
        })),
        (_, i) => i,
        args,
        "userContentEdits"
      )
  })

  const discussionNode = (repo: RepoState, d: Discussion): Record<string, unknown> => ({
    __typename: "Discussion",
    id: d.id,
    number: d.number,
    title: d.title,
    body: d.body,
    url: `${HTML_HOST}/${repo.fullName}/discussions/${d.number}`,
    author: actor(d.author),
    category: () => categoryNode(repo, repo.categories.find((c) => c.id === d.categoryId) ?? { id: d.categoryId, name: "General", slug: "general" }),
    repository: () => repoNode(repo),
    createdAt: isoSeconds(d.createdAt),
    updatedAt: isoSeconds(d.updatedAt),
    lastEditedAt: null,
    comments: (args: PageArgs) => {
      const top = d.comments.filter((c) => c.replyTo === undefined)
      return connection(top.map((c) => commentNode(repo, d, c)), (_, i) => top[i]!.serial, args, "comments")
    }
  })

  const repoNode = (repo: RepoState): Record<string, unknown> => ({
    __typename: "Repository",
    id: repo.nodeId,
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: repo.fullName,
    owner: actor(repo.owner.login),
    url: `${HTML_HOST}/${repo.fullName}`,
    isPrivate: true,
    hasDiscussionsEnabled: repo.discussionsEnabled,
    discussionCategories: (args: PageArgs & { filterByAssignable?: boolean | null }) => {
      // `filterByAssignable`: only categories the viewer may start a discussion in (Announcements are maintainers-only).
      const usable = repo.categories.filter((c) => args.filterByAssignable !== true || c.maintainersOnly !== true || isMaintainer(state, repo, viewer))
      return connection(repo.discussionsEnabled ? usable.map((c) => categoryNode(repo, c)) : [], (_, i) => i, args, "discussionCategories")
    },
    discussions: (args: PageArgs & { categoryId?: string | null; orderBy?: { field: string; direction: string } }) => {
      const field = args.orderBy?.field === "CREATED_AT" ? "createdAt" : "updatedAt"
      const sign = args.orderBy?.direction === "ASC" ? 1 : -1
      const list = repo.discussions
        .filter((d) => args.categoryId === undefined || args.categoryId === null || d.categoryId === args.categoryId)
        .sort((a, b) => sign * (a[field] - b[field] || a.number - b.number))
      return connection(list.map((d) => discussionNode(repo, d)), (_, i) => i, args, "discussions")
    },
    discussion: ({ number }: { number: number }) => {
      const d = repo.discussions.find((x) => x.number === number)
      return d === undefined ? fail("NOT_FOUND", `Could not resolve to a Discussion with the number of ${number}.`) : discussionNode(repo, d)
    }
  })

  const findRepoById = (id: string): RepoState => {
    const repo = [...state.repos.values()].find((r) => r.nodeId === id && canSee(r))
    return repo ?? fail("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`)
  }
  const canSee = (r: RepoState) => r.owner.login === viewer || r.collaborators === undefined || r.collaborators.has(viewer)
  const findDiscussion = (id: string): { repo: RepoState; d: Discussion } => {
    for (const repo of state.repos.values()) {
      const d = repo.discussions.find((x) => x.id === id)
      if (d !== undefined && canSee(repo)) return { repo, d }
    }
    return fail("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`)
  }
  const findComment = (id: string): { repo: RepoState; d: Discussion; c: DiscussionComment } => {
    for (const repo of state.repos.values()) {
      for (const d of repo.discussions) {
        const c = d.comments.find((x) => x.id === id)
        if (c !== undefined && canSee(repo)) return { repo, d, c }
      }
    }
    return fail("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`)
  }
  const checkBody = (body: string): string => (body.length > MAX_BODY_CHARS ? fail("UNPROCESSABLE", `Body is too long (maximum is ${MAX_BODY_CHARS} characters)`) : body)
  const mayEdit = (repo: RepoState, author: string, what: string): void => {
    notArchived()
    if (author !== viewer && !isMaintainer(state, repo, viewer)) fail("FORBIDDEN", `${viewer} does not have permission to ${what}.`)
  }
  const notArchived = (): void => {
    if (state.faults.archived) fail("UNPROCESSABLE", ARCHIVED_MESSAGE)
  }
  // GitHub's search syntax, the part SkyGit uses: `repo:OWNER/NAME`, `in:title`, words and "quoted phrases".
  const searchDiscussions = (query: string): Array<{ repo: RepoState; d: Discussion }> => {
    const tokens = [...query.matchAll(/(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)]
    const repos = tokens.filter((t) => t[1] === "repo").map((t) => t[2]!.toLowerCase())
    const titleOnly = tokens.some((t) => t[1] === "in" && t[2] === "title")
    const terms = tokens.filter((t) => t[1] === undefined).map((t) => (t[3] ?? t[4] ?? "").toLowerCase()).filter((t) => t !== "")
    const hits: Array<{ repo: RepoState; d: Discussion }> = []
    for (const repo of state.repos.values()) {
      if (!canSee(repo) || (repos.length > 0 && !repos.includes(repo.fullName.toLowerCase()))) continue
      for (const d of repo.discussions) {
        const text = (titleOnly ? d.title : `${d.title}\n${d.body}`).toLowerCase()
        if (terms.every((t) => text.includes(t))) hits.push({ repo, d })
      }
    }
    return hits.sort((x, y) => x.d.number - y.d.number)
  }
  const changed = (repo: RepoState) => {
    contentChanged = repo
  }

  const root = {
    viewer: () => actor(viewer),
    search: (args: PageArgs & { query: string; type: string }) => {
      const hits = args.type === "DISCUSSION" ? searchDiscussions(args.query) : []
      const page = connection(hits.map((h) => discussionNode(h.repo, h.d)), (_, i) => i, args, "search")
      return { ...page, discussionCount: hits.length, issueCount: 0, repositoryCount: 0, userCount: 0, wikiCount: 0, codeCount: 0 }
    },
    rateLimit: () => {
      const b = snapshot(budgetsOf(state, viewer).graphql, ctx.now)
      return { cost: 1, limit: b.limit, nodeCount: 0, remaining: b.remaining, resetAt: isoSeconds(b.resetAt), used: b.used }
    },
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const repo = state.repos.get(`${owner}/${name}`.toLowerCase())
      return repo === undefined || !canSee(repo) ? fail("NOT_FOUND", `Could not resolve to a Repository with the name '${owner}/${name}'.`) : repoNode(repo)
    },
    node: ({ id }: { id: string }) => {
      for (const repo of state.repos.values()) {
        if (!canSee(repo)) continue
        if (repo.nodeId === id) return repoNode(repo)
        for (const d of repo.discussions) {
          if (d.id === id) return discussionNode(repo, d)
          const c = d.comments.find((x) => x.id === id)
          if (c !== undefined) return commentNode(repo, d, c)
        }
      }
      return fail("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`)
    },
    createDiscussion: ({ input }: { input: { repositoryId: string; categoryId: string; title: string; body: string; clientMutationId?: string } }) => {
      const repo = findRepoById(input.repositoryId)
      notArchived()
      if (!repo.discussionsEnabled) fail("UNPROCESSABLE", "Discussions are disabled for this repository.")
      const category = repo.categories.find((c) => c.id === input.categoryId)
      if (category === undefined) fail("NOT_FOUND", `Could not resolve to a node with the global id of '${input.categoryId}'`)
      if (category?.maintainersOnly === true && !isMaintainer(state, repo, viewer)) {
        fail("FORBIDDEN", `${viewer} does not have the correct permissions to execute \`CreateDiscussion\``)
      }
      if (input.title.trim() === "") fail("UNPROCESSABLE", "Title can't be blank")
      const d: Discussion = {
        id: newNodeId(state, "D"),
        number: repo.nextDiscussionNumber++,
        title: input.title,
        body: checkBody(input.body),
        author: viewer,
        categoryId: input.categoryId,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        comments: []
      }
      repo.discussions.push(d)
      changed(repo)
      return { clientMutationId: input.clientMutationId ?? null, discussion: discussionNode(repo, d) }
    },
    addDiscussionComment: ({ input }: { input: { discussionId: string; body: string; replyToId?: string | null; clientMutationId?: string } }) => {
      const { repo, d } = findDiscussion(input.discussionId)
      notArchived()
      const replyTo = input.replyToId ?? undefined
      if (replyTo !== undefined && !d.comments.some((c) => c.id === replyTo && c.replyTo === undefined)) {
        fail("NOT_FOUND", `Could not resolve to a node with the global id of '${replyTo}'`)
      }
      if (input.body.trim() === "") fail("UNPROCESSABLE", "Body can't be blank")
      const serial = state.nextNodeSerial
      const c: DiscussionComment = {
        id: newNodeId(state, "DC"),
        serial,
        discussionId: d.id,
        body: checkBody(input.body),
        author: viewer,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        edits: [],
        replyTo
      }
      d.comments.push(c)
      changed(repo)
      return { clientMutationId: input.clientMutationId ?? null, comment: commentNode(repo, d, c) }
    },
    updateDiscussionComment: ({ input }: { input: { commentId: string; body: string; clientMutationId?: string } }) => {
      const { repo, d, c } = findComment(input.commentId)
      mayEdit(repo, c.author, "update this comment")
      if (input.body.trim() === "") fail("UNPROCESSABLE", "Body can't be blank")
      c.edits.push({ at: ctx.now, editor: viewer, previous: c.body })
      c.body = checkBody(input.body)
      c.updatedAt = ctx.now
      changed(repo)
      return { clientMutationId: input.clientMutationId ?? null, comment: commentNode(repo, d, c) }
    },
    deleteDiscussionComment: ({ input }: { input: { id: string; clientMutationId?: string } }) => {
      const { repo, d, c } = findComment(input.id)
      mayEdit(repo, c.author, "delete this comment")
      // Replies go with their comment, as on GitHub.
      for (let i = d.comments.length - 1; i >= 0; i--) if (d.comments[i]!.id === c.id || d.comments[i]!.replyTo === c.id) d.comments.splice(i, 1)
      changed(repo)
      return { clientMutationId: input.clientMutationId ?? null, comment: commentNode(repo, d, c) }
    },
    deleteDiscussion: ({ input }: { input: { id: string; clientMutationId?: string } }) => {
      const { repo, d } = findDiscussion(input.id)
      mayEdit(repo, d.author, "delete this discussion")
      repo.discussions.splice(repo.discussions.indexOf(d), 1)
      changed(repo)
      return { clientMutationId: input.clientMutationId ?? null, discussion: discussionNode(repo, d) }
    }
  }
  return { root, saved: () => contentChanged?.persist() ?? Promise.resolve() }
}

const operationOf = (document: DocumentNode, name: string | undefined): OperationDefinitionNode | undefined =>
  document.definitions.find((d): d is OperationDefinitionNode => d.kind === "OperationDefinition" && (name === undefined || d.name?.value === name))

/** Answers `POST /graphql` like GitHub: HTTP 200 with `data` and/or `errors`. */
export const graphqlHandler = async (ctx: Ctx): Promise<Reply> => {
  const login = ctx.user!.login
  const query = ctx.body["query"]
  if (typeof query !== "string") return json(200, { errors: [{ message: "A query attribute must be specified and must be a string." }] })
  const parsed = parseForGithub(query)
  if ("errors" in parsed) return json(200, { errors: parsed.errors })
  const operationName = typeof ctx.body["operationName"] === "string" ? ctx.body["operationName"] : undefined
  const op = operationOf(parsed.document, operationName)
  const creates =
    op?.operation === "mutation" && op.selectionSet.selections.some((s) => s.kind === "Field" && CONTENT_CREATING_MUTATIONS.has(s.name.value))
  const secondary = graphqlSecondaryRefusal(ctx.state, login, ctx.now)
  if (secondary !== undefined) {
    statsOf(ctx.state, login).rateLimited++
    return secondary
  }
  const verdict = charge(ctx.state, login, "graphql", creates, ctx.now)
  if (verdict._tag === "Limited") {
    if (verdict.limit === "secondary") return limitedReply(ctx.state, login, verdict)
    statsOf(ctx.state, login).rateLimited++
    // GitHub answers an exhausted GraphQL budget with HTTP 200 and an error body.
    const id = ctx.state.accounts.get(login)?.id ?? 0
    return json(200, { errors: [{ type: "RATE_LIMITED", message: `API rate limit already exceeded for user ID ${id}.` }] })
  }
  const unsupported = validate(hubSchema, parsed.document)
  if (unsupported.length > 0) {
    return json(200, {
      errors: unsupported.map((e) => ({ ...githubError(e), type: "HUB_UNSUPPORTED", message: `Valid on GitHub but not implemented by the local hub: ${e.message}` }))
    })
  }
  const { root, saved } = resolvers(ctx)
  const variables = ctx.body["variables"]
  const result = await execute({
    schema: hubSchema,
    document: parsed.document,
    rootValue: root,
    variableValues: typeof variables === "object" && variables !== null ? (variables as Record<string, unknown>) : {},
    operationName: operationName ?? null
  })
  await saved()
  return json(200, result.errors === undefined ? { data: result.data } : { data: result.data ?? null, errors: result.errors.map(githubError) })
}
