/**
 * The Discussion form's comments, decoded and merged once for both hosts (GitHub over
 * GraphQL, and the simulator's in-memory GitHub): each user keeps ONE comment whose body is
 * the presence document of that user's sessions; the comment's author (set by the host) is
 * the identity of everything in it. One broken comment is skipped with a reason and hides
 * no one else; a comment last edited by someone other than its author speaks for nobody.
 */
import { Either } from "effect"
import { sameUser } from "../domain/identity.js"
import { decodeDocument, emptyDocument, encodeDocument, mergeAuthored, type PresenceDocument, type Skipped } from "../domain/presence-doc.js"
import type { PresenceSnapshot } from "../ports/Presence.js"

/** GitHub refuses a comment body over this many characters ("Body is too long"). */
export const MAX_COMMENT_BODY_CHARS = 65_536

// Comments are written as a fenced JSON block so they stay readable on GitHub; bare JSON is read too.
const FENCED = /^\s*```(?:json)?\s*\n([\s\S]*?)\n```\s*$/

/** A comment's body for a document. */
export const commentBody = (doc: PresenceDocument): string => "```json\n" + encodeDocument(doc) + "\n```"

/** The document text inside a comment's body. */
export const documentText = (body: string): string => FENCED.exec(body)?.[1] ?? body

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

/** Why a user's presence comment cannot be written at all. */
export const overlongComment = `this user's presence comment would exceed GitHub's ${MAX_COMMENT_BODY_CHARS} characters even without signals`

/** One comment of the presence Discussion, as either host gives it. */
export interface PresenceComment {
  readonly id: string
  readonly body: string
  /** The author's login as the host set it; undefined for a deleted account. */
  readonly author: string | undefined
  /** Who last edited it, when someone did. */
  readonly editor?: string | undefined
  readonly lastEditedAt?: string | undefined
}

/** What one read of all comments says, for `viewer`. */
export interface CommentsRead {
  /** Everyone's entries and slots, merged; `changed` is true. */
  readonly snapshot: PresenceSnapshot
  /** The viewer's comment (the oldest, if a race left several): the version the next write goes over. */
  readonly ownId: string | undefined
  /** The viewer's other comments, deleted on the next write. */
  readonly surplus: ReadonlyArray<string>
  /** The document of the viewer's comment (empty when there is none or it cannot be read). */
  readonly own: PresenceDocument
}

/** Decodes and merges the comments of one read. */
export const readComments = (comments: ReadonlyArray<PresenceComment>, viewer: string): CommentsRead => {
  const skipped: Array<Skipped> = []
  const docs: Array<{ author: string; document: PresenceDocument }> = []
  const mine = comments.filter((c) => c.author !== undefined && sameUser(c.author, viewer))
  let own: PresenceDocument = emptyDocument
  for (const c of comments) {
    const author = c.author
    if (author === undefined) {
      skipped.push({ detail: `comment ${c.id} has no author (deleted account)` })
      continue
    }
    // The author is the identity of everything in a comment; maintainers can edit anyone's,
    // so a comment last edited by someone else speaks for nobody (its author's next heartbeat rewrites it).
    if (c.editor !== undefined && !sameUser(c.editor, author)) {
      skipped.push({ detail: `comment by ${author} was edited by ${c.editor}${c.lastEditedAt === undefined ? "" : ` at ${c.lastEditedAt}`}: skipped, only its author may speak for it` })
      continue
    }
    Either.match(decodeDocument(documentText(c.body)), {
      onLeft: (e) => skipped.push({ detail: `comment by ${author}: ${e.detail}` }),
      onRight: ({ document, skipped: s }) => {
        skipped.push(...s.map((x) => ({ detail: `comment by ${author}: ${x.detail}` })))
        docs.push({ author, document })
        if (c.id === mine[0]?.id) own = document
      }
    })
  }
  const merged = mergeAuthored(docs)
  return {
    snapshot: { document: merged.document, skipped: [...skipped, ...merged.skipped], changed: true },
    ownId: mine[0]?.id,
    surplus: mine.slice(1).map((c) => c.id),
    own
  }
}
