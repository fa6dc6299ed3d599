/**
 * Presence, Discussion form: each user keeps ONE comment in the presence Discussion whose
 * body is the presence document of that user's sessions, and edits it on every heartbeat
 * (a new comment would notify every watcher). An entry's identity is the comment's
 * `author.login`, which GitHub sets: identities are verified. Reads page through all
 * comments; one broken comment is skipped with a reason and hides no one else.
 */
import { Clock, Effect, Either, Layer, Option, Ref } from "effect"
import { applyChange, changeProblem, decodeDocument, emptyDocument, encodeDocument, mergeAuthored, type PresenceChange, type PresenceDocument, type Skipped } from "../../domain/presence-doc.js"
import { sameUser } from "../../domain/identity.js"
import { Presence, PresenceMalformed, PresenceUnavailable, type PresenceError, type PresenceService, type PresenceSnapshot } from "../../ports/Presence.js"
import { GitHub, type GitHubClient } from "./client.js"
import { ADD_COMMENT, DELETE_COMMENT, PRESENCE_COMMENTS, UPDATE_COMMENT, type CommentsPage } from "./discussion-queries.js"
import { locateDiscussion, settingsNumberRecord, type LocatedDiscussion } from "./discussion-locate.js"
import { describe, NO_RESPONSE, GitHubMisconfigured, type GitHubFailure } from "./errors.js"
import { toPresenceError } from "./port-errors.js"

/** Pages of comments read (100 each): bounds a read however many users ever posted. */
export const MAX_COMMENT_PAGES = 20

// Comments are written as a fenced JSON block so they stay readable on GitHub; bare JSON is read too.
const FENCED = /^\s*```(?:json)?\s*\n([\s\S]*?)\n```\s*$/

/** A comment's body for a document. */
export const commentBody = (doc: PresenceDocument): string => "```json\n" + encodeDocument(doc) + "\n```"

/** GitHub refuses a comment body over this many characters ("Body is too long"). */
export const MAX_COMMENT_BODY_CHARS = 65_536

/**
 * The comment for `doc`, held to GitHub's body limit: when a sponsor's batch of signals does
 * not fit, the oldest signals are left out (their offers are retried like any unanswered one).
 * Undefined when even the document without signals or call slots does not fit.
 */
export const fittedComment = (doc: PresenceDocument): { readonly document: PresenceDocument; readonly body: string; readonly dropped: number } | undefined => {
  let body = commentBody(doc)
  if (body.length <= MAX_COMMENT_BODY_CHARS) return { document: doc, body, dropped: 0 }
  const signals = [...doc.signals].sort((a, b) => a.at - b.at)
  // Drop the oldest half, quarter... until it fits: O(log n) encodings, not one per signal.
  let lo = 0
  let hi = signals.length
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (commentBody({ ...doc, signals: signals.slice(mid) }).length <= MAX_COMMENT_BODY_CHARS) hi = mid
    else lo = mid + 1
  }
  const document = { ...doc, signals: signals.slice(lo) }
  body = commentBody(document)
  return body.length <= MAX_COMMENT_BODY_CHARS ? { document, body, dropped: lo } : undefined
}

/** The document text inside a comment's body. */
export const documentText = (body: string): string => FENCED.exec(body)?.[1] ?? body

interface Comment {
  readonly id: string
  readonly body: string
  readonly author: string | undefined
  /** Who last edited it, when someone did. */
  readonly editor: string | undefined
  readonly lastEditedAt: string | undefined
}

interface State {
  readonly discussion: Option.Option<LocatedDiscussion>
  /** This user's comment (the oldest, if a race left several). */
  readonly ownId: string | undefined
  /** Surplus comments of this user, deleted on the next publish. */
  readonly surplus: ReadonlyArray<string>
  /** This user's document as last read or written. */
  readonly own: PresenceDocument
  readonly everRead: boolean
  /** The comments of the last read, to answer "not changed" without decoding again. */
  readonly fingerprint: string | undefined
  readonly last: PresenceSnapshot
}

const initial: State = {
  discussion: Option.none(),
  ownId: undefined,
  surplus: [],
  own: emptyDocument,
  everRead: false,
  fingerprint: undefined,
  last: { document: emptyDocument, skipped: [], changed: false }
}

/** A Discussion-form failure as a port error; an unreachable /graphql names the likely cause. */
const toError = (f: GitHubFailure | GitHubMisconfigured, what: string): PresenceError =>
  f._tag === "GitHubHttpError" && f.status === NO_RESPONSE
    ? new PresenceUnavailable({
        detail: `${describe(f, what)}; in a browser this is also how a refused CORS request to /graphql looks: use the file form of presence`
      })
    : toPresenceError(f, what)

const isNotFound = (f: GitHubFailure): boolean => f._tag === "GitHubHttpError" && f.type === "NOT_FOUND"

/** Presence in Discussion form over `client`. */
export const makeGitHubDiscussionPresence = (client: GitHubClient): Effect.Effect<PresenceService> =>
  Effect.gen(function* () {
    const state = yield* Ref.make(initial)
    // The Discussion's number as the repository records it: found in one request once known.
    const numberRecord = yield* settingsNumberRecord(client)
    // One locate at a time, so one client never creates the Discussion twice.
    const locating = yield* Effect.makeSemaphore(1)

    const located = locating.withPermits(1)(
      Effect.flatMap(Ref.get(state), (s) =>
        Option.match(s.discussion, {
          onSome: Effect.succeed,
          onNone: () => Effect.tap(locateDiscussion(client, numberRecord), (d) => Ref.update(state, (x) => ({ ...x, discussion: Option.some(d) })))
        })
      )
    )
    // The Discussion was deleted under us: find (or create) it again next time.
    const forget = Ref.update(state, (s) => ({ ...initial, own: s.own }))

    const comments = (d: LocatedDiscussion): Effect.Effect<ReadonlyArray<Comment>, GitHubFailure> =>
      Effect.gen(function* () {
        const out: Array<Comment> = []
        let after: string | null = null
        for (let page = 0; page < MAX_COMMENT_PAGES; page++) {
          const r: CommentsPage = yield* client.graphql<CommentsPage>(PRESENCE_COMMENTS, { owner: client.owner, name: client.repo, number: d.number, after })
          const c = r.repository.discussion?.comments
          if (c === undefined) break
          out.push(...c.nodes.map((n) => ({ id: n.id, body: n.body, author: n.author?.login, editor: n.editor?.login ?? undefined, lastEditedAt: n.lastEditedAt ?? undefined })))
          if (!c.pageInfo.hasNextPage || c.pageInfo.endCursor === null) break
          after = c.pageInfo.endCursor
        }
        return out
      })

    const readOnce = Effect.gen(function* () {
      const d = yield* located
      const list = yield* comments(d)
      const fingerprint = list.map((c) => `${c.id}\u0000${c.body}\u0000${c.editor ?? ""}`).join("\u0001")
      const before = yield* Ref.get(state)
      if (before.fingerprint === fingerprint) return { ...before.last, changed: false }
      const skipped: Array<Skipped> = []
      const docs: Array<{ author: string; document: PresenceDocument }> = []
      const mine = list.filter((c) => c.author !== undefined && sameUser(c.author, d.viewer))
      let own: PresenceDocument = emptyDocument
      for (const c of list) {
        if (c.author === undefined) {
          skipped.push({ detail: `comment ${c.id} has no author (deleted account)` })
          continue
        }
        // The author is the identity of everything in a comment; maintainers can edit anyone's,
        // so a comment last edited by someone else speaks for nobody (its author's next heartbeat rewrites it).
        if (c.editor !== undefined && !sameUser(c.editor, c.author)) {
          skipped.push({ detail: `comment by ${c.author} was edited by ${c.editor}${c.lastEditedAt === undefined ? "" : ` at ${c.lastEditedAt}`}: skipped, only its author may speak for it` })
          continue
        }
        Either.match(decodeDocument(documentText(c.body)), {
          onLeft: (e) => skipped.push({ detail: `comment by ${c.author}: ${e.detail}` }),
          onRight: ({ document, skipped: s }) => {
            skipped.push(...s.map((x) => ({ detail: `comment by ${c.author}: ${x.detail}` })))
            docs.push({ author: c.author!, document })
            if (c.id === mine[0]?.id) own = document
          }
        })
      }
      const merged = mergeAuthored(docs)
      const last: PresenceSnapshot = { document: merged.document, skipped: [...skipped, ...merged.skipped], changed: true }
      yield* Ref.update(state, (s) => ({
        ...s,
        ownId: mine[0]?.id,
        surplus: mine.slice(1).map((c) => c.id),
        own,
        everRead: true,
        fingerprint,
        last
      }))
      return last
    })

    const withRelocate = <A>(op: Effect.Effect<A, GitHubFailure | GitHubMisconfigured>) =>
      op.pipe(Effect.catchIf((f): f is GitHubFailure => f._tag !== "GitHubMisconfigured" && isNotFound(f), () => Effect.zipRight(forget, op)))

    const read: Effect.Effect<PresenceSnapshot, PresenceError> = withRelocate(readOnce).pipe(Effect.catchAll((f) => Effect.fail(toError(f, "reading the presence Discussion"))))

    const write = (change: PresenceChange) =>
      Effect.gen(function* () {
        const d = yield* located
        // Learn this user's existing comment (another tab's sessions) before the first write.
        if (!(yield* Ref.get(state)).everRead) yield* readOnce
        const s = yield* Ref.get(state)
        const fitted = fittedComment(applyChange(s.own, change, yield* Clock.currentTimeMillis))
        if (fitted === undefined) {
          return yield* Effect.fail(new GitHubMisconfigured({ detail: `this user's presence comment would exceed GitHub's ${MAX_COMMENT_BODY_CHARS} characters even without signals` }))
        }
        const { document: next, body } = fitted
        const add = client
          .graphql<{ addDiscussionComment: { comment: { id: string } } }>(ADD_COMMENT, { discussionId: d.id, body }, "content")
          .pipe(Effect.map((r) => r.addDiscussionComment.comment.id))
        const id =
          s.ownId === undefined
            ? yield* add
            : yield* client.graphql(UPDATE_COMMENT, { commentId: s.ownId, body }, "content").pipe(
                Effect.as(s.ownId),
                // Our comment was deleted by hand: add a new one.
                Effect.catchIf(isNotFound, () => add)
              )
        for (const extra of s.surplus) yield* client.graphql(DELETE_COMMENT, { id: extra }, "mutation").pipe(Effect.ignore)
        yield* Ref.update(state, (x) => ({ ...x, ownId: id, surplus: [], own: next }))
      })

    const publish = (change: PresenceChange): Effect.Effect<void, PresenceError> =>
      Effect.suspend(() => {
        const problem = changeProblem(change)
        return problem !== undefined
          ? Effect.fail(new PresenceMalformed({ detail: `change refused: ${problem}` }))
          : withRelocate(write(change)).pipe(Effect.catchAll((f) => Effect.fail(toError(f, "writing this user's presence comment"))))
      })

    return { form: "discussion", identities: "verified", writesForOthers: false, publish, read } satisfies PresenceService
  })

/** Layer: Discussion-form presence over the session's one GitHub client (so it shares the budget). */
export const layerGitHubDiscussionPresence: Layer.Layer<Presence, never, GitHub> = Layer.effect(Presence, Effect.flatMap(GitHub, makeGitHubDiscussionPresence))
