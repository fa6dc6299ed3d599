/**
 * Presence, Discussion form: each user keeps ONE comment in the presence Discussion whose
 * body is the presence document of that user's sessions, and edits it on every heartbeat
 * (a new comment would notify every watcher). An entry's identity is the comment's
 * `author.login`, which GitHub sets: identities are verified. Reads page through all
 * comments, decoded and merged as on the in-memory host (`../presence-comments.ts`).
 * Writes are a versioned store under the one loop of every presence adapter
 * (`../presence-cas.ts`): the version is this user's comment; an edit of a comment that was
 * deleted since is a loss, after which the next attempt reads the comments again.
 */
import { Clock, Effect, Layer, Option, Ref } from "effect"
import { emptyDocument, type PresenceDocument } from "../../domain/presence-doc.js"
import { Presence, PresenceUnavailable, type PresenceError, type PresenceService, type PresenceSnapshot } from "../../ports/Presence.js"
import { Lost, publishVia, type Versioned, type VersionedStore } from "../presence-cas.js"
import { fittedComment, overlongComment, readComments, type PresenceComment } from "../presence-comments.js"
import { GitHub, type GitHubClient } from "./client.js"
import { ADD_COMMENT, AddedComment, AnyData, CommentsPage, DELETE_COMMENT, PRESENCE_COMMENTS, UPDATE_COMMENT, UpdatedComment } from "./discussion-queries.js"
import { locateDiscussion, settingsNumberRecord, type LocatedDiscussion } from "./discussion-locate.js"
import { describe, NO_RESPONSE, GitHubMisconfigured, type GitHubFailure } from "./errors.js"
import { toPresenceError } from "./port-errors.js"

export { commentBody, documentText, fittedComment, MAX_COMMENT_BODY_CHARS } from "../presence-comments.js"

/** Pages of comments read (100 each): bounds a read however many users ever posted. */
export const MAX_COMMENT_PAGES = 20

interface State {
  readonly discussion: Option.Option<LocatedDiscussion>
  /** This user's comment (the oldest, if a race left several): the version a write goes over. */
  readonly ownId: string | undefined
  /** Surplus comments of this user, deleted on the next publish. */
  readonly surplus: ReadonlyArray<string>
  /** This user's document as last read or written. */
  readonly own: PresenceDocument
  /** Whether the comments were read since the last start or loss: the first write learns this user's comment first. */
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
        detail: `${describe(f, what)}; in a browser this is also how a refused CORS request to /graphql looks: use the file form of presence`,
        cause: f
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

    const comments = (d: LocatedDiscussion): Effect.Effect<ReadonlyArray<PresenceComment>, GitHubFailure> =>
      Effect.gen(function* () {
        const out: Array<PresenceComment> = []
        let after: string | null = null
        for (let page = 0; page < MAX_COMMENT_PAGES; page++) {
          const r: CommentsPage = yield* client.graphql(PRESENCE_COMMENTS, { owner: client.owner, name: client.repo, number: d.number, after }, CommentsPage)
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
      if (before.fingerprint === fingerprint) return yield* Effect.as(Ref.update(state, (s) => ({ ...s, everRead: true })), { ...before.last, changed: false })
      const seen = readComments(list, d.viewer)
      yield* Ref.update(state, (s) => ({ ...s, ownId: seen.ownId, surplus: seen.surplus, own: seen.own, everRead: true, fingerprint, last: seen.snapshot }))
      return seen.snapshot
    })

    const withRelocate = <A>(op: Effect.Effect<A, GitHubFailure | GitHubMisconfigured>) =>
      op.pipe(Effect.catchIf((f): f is GitHubFailure => f._tag !== "GitHubMisconfigured" && isNotFound(f), () => Effect.zipRight(forget, op)))

    const read: Effect.Effect<PresenceSnapshot, PresenceError> = withRelocate(readOnce).pipe(Effect.catchAll((f) => Effect.fail(toError(f, "reading the presence Discussion"))))

    // Learn this user's existing comment (another tab's sessions) before the first write, and
    // again after a loss.
    const current: Effect.Effect<Versioned<string>, GitHubFailure | GitHubMisconfigured> = Effect.gen(function* () {
      yield* located
      if (!(yield* Ref.get(state)).everRead) yield* readOnce
      const s = yield* Ref.get(state)
      return { version: s.ownId, document: s.own, intact: true }
    })

    const write = (over: Versioned<string>, merged: (now: number) => PresenceDocument): Effect.Effect<void, GitHubFailure | GitHubMisconfigured | Lost> =>
      Effect.gen(function* () {
        const d = yield* located
        const fitted = fittedComment(merged(yield* Clock.currentTimeMillis))
        if (fitted === undefined) return yield* Effect.fail(new GitHubMisconfigured({ detail: overlongComment }))
        const { document: next, body } = fitted
        const id =
          over.version === undefined
            ? yield* client.graphql(ADD_COMMENT, { discussionId: d.id, body }, AddedComment, "content").pipe(Effect.map((r) => r.addDiscussionComment.comment.id))
            : yield* client.graphql(UPDATE_COMMENT, { commentId: over.version, body }, UpdatedComment, "content").pipe(
                Effect.as(over.version),
                // Our comment was deleted since (by hand, or by another tab tidying up): the version
                // is gone. Read again (another tab may have added one) before writing.
                Effect.catchIf(isNotFound, () => Effect.zipRight(Ref.update(state, (x) => ({ ...x, everRead: false })), Effect.fail(new Lost())))
              )
        const { surplus } = yield* Ref.get(state)
        for (const extra of surplus) yield* client.graphql(DELETE_COMMENT, { id: extra }, AnyData, "mutation").pipe(Effect.ignore)
        yield* Ref.update(state, (x) => ({ ...x, ownId: id, surplus: [], own: next }))
      })

    const asPresenceError = (what: string) => (f: GitHubFailure | GitHubMisconfigured): PresenceError => toError(f, what)
    const store: VersionedStore<string> = {
      path: "this user's presence comment",
      current: withRelocate(current).pipe(Effect.mapError(asPresenceError("reading the presence Discussion"))),
      write: (over, merged) =>
        write(over, merged).pipe(
          // The Discussion itself is gone: find (or create) it again, and read before the next attempt.
          Effect.catchIf(
            (f): f is GitHubFailure => f._tag !== "Lost" && f._tag !== "GitHubMisconfigured" && isNotFound(f),
            () => Effect.zipRight(forget, Effect.fail(new Lost()))
          ),
          Effect.mapError((f) => (f instanceof Lost ? f : asPresenceError("writing this user's presence comment")(f)))
        )
    }

    return { form: "discussion", identities: "verified", writesForOthers: false, publish: publishVia(store), read } satisfies PresenceService
  })

/** Layer: Discussion-form presence over the session's one GitHub client (so it shares the budget). */
export const layerGitHubDiscussionPresence: Layer.Layer<Presence, never, GitHub> = Layer.effect(Presence, Effect.flatMap(GitHub, makeGitHubDiscussionPresence))
