/**
 * Presence on the in-memory GitHub, in both forms.
 * File form: one shared document, written with compare-and-swap on its blob sha,
 * so simultaneous writers conflict exactly as on the contents API; the loser
 * re-reads, merges its change and retries. Discussion form: one comment per user
 * whose author the host sets; edits never conflict.
 */
import { Effect, Either } from "effect"
import { PRESENCE_PATH } from "../../domain/commit-layout.js"
import {
  applyChange,
  changeProblem,
  decodeDocument,
  emptyDocument,
  encodeDocument,
  mergeAuthored,
  type PresenceChange,
  type PresenceDocument,
  type Skipped
} from "../../domain/presence-doc.js"
import {
  PresenceMalformed,
  PresenceRateLimited,
  PresenceUnavailable,
  type PresenceError,
  type PresenceService,
  type PresenceSnapshot
} from "../../ports/Presence.js"
import { Lost, publishByCas } from "../presence-cas.js"
import type { MemoryGitHub, WorldFailure } from "./github-world.js"


const toPresenceError = (f: WorldFailure): PresenceError =>
  f._tag === "RateLimited"
    ? new PresenceRateLimited({ limit: f.limit, retryAfterMs: f.retryAfterMs })
    : new PresenceUnavailable({ detail: f.detail })

/** A refusal of a change that would not be readable, before any request; undefined when it may go. */
const refuseUnreadable = (change: PresenceChange): Effect.Effect<never, PresenceMalformed> | undefined => {
  const problem = changeProblem(change)
  return problem === undefined ? undefined : Effect.fail(new PresenceMalformed({ detail: `change refused: ${problem}` }))
}


/**
 * The last version of each world's presence file, decoded. Decoding is pure and every
 * simulated reader of one version would decode the same text: once is enough in one
 * process (each real client decodes its own copy once).
 */
const lastDecoded = new WeakMap<MemoryGitHub, { readonly sha: string; readonly result: Either.Either<PresenceSnapshot, PresenceMalformed> }>()

const decodeVersion = (world: MemoryGitHub, text: string, sha: string): Either.Either<PresenceSnapshot, PresenceMalformed> => {
  const last = lastDecoded.get(world)
  if (last?.sha === sha) return last.result
  const result = Either.match(decodeDocument(text), {
    onLeft: (e) => Either.left(new PresenceMalformed({ detail: `${sha}: ${e.detail}` })),
    onRight: ({ document, skipped }) => Either.right<PresenceSnapshot>({ document, skipped, changed: true })
  })
  lastDecoded.set(world, { sha, result })
  return result
}

/** Presence in file form for `user` on `world`. */
export const makeFilePresence = (world: MemoryGitHub, user: string): PresenceService => {
  let cached: { sha: string; snapshot: PresenceSnapshot } | undefined
  const decode = (text: string, sha: string) => decodeVersion(world, text, sha)

  const unchanged = () => world.presenceFile !== undefined && cached !== undefined && cached.sha === world.presenceFile.sha
  const read: Effect.Effect<PresenceSnapshot, PresenceError> = Effect.flatMap(
    world
      .request(
        user,
        () => (unchanged() ? "notModified" : "read"),
        () => (unchanged() ? "unchanged" as const : world.presenceFile)
      )
      .pipe(Effect.mapError(toPresenceError)),
    (file) => {
      if (file === "unchanged") return Effect.succeed({ ...cached!.snapshot, changed: false })
      if (file === undefined) {
        if (cached !== undefined) return Effect.succeed({ ...cached.snapshot, changed: false })
        return Effect.succeed<PresenceSnapshot>({ document: emptyDocument, skipped: [], changed: false })
      }
      return Either.match(decode(file.text, file.sha), {
        onLeft: (e) => Effect.fail(e),
        onRight: (snapshot) => {
          cached = { sha: file.sha, snapshot }
          return Effect.succeed(snapshot)
        }
      })
    }
  )

  const attempt = (change: PresenceChange): Effect.Effect<void, PresenceError | Lost> =>
    world
      .request(user, "write", (now) => {
        // What this writer believes is current: its cached copy (or nothing). A stale
        // sha answers 409 and a missing one 422 on GitHub; both mean "lost".
        const base: PresenceDocument = cached?.snapshot.document ?? emptyDocument
        const file = world.presenceFile
        if ((file !== undefined && cached?.sha !== file.sha) || world.takeConflict()) return "lost" as const
        const text = encodeDocument(applyChange(base, change, now))
        return { text, sha: world.writePresenceFile(text) }
      })
      .pipe(
        Effect.mapError(toPresenceError),
        Effect.flatMap((r) => {
          if (r === "lost") {
            world.statsOf(user).conflicts += 1
            // Re-read before retrying; a corrupt document is replaced by this writer's change.
            return Effect.zipRight(
              read.pipe(
                Effect.catchTag("PresenceMalformed", () =>
                  Effect.sync(() => {
                    // Keep what the last good version held: the repair loses no one's entry.
                    const file = world.presenceFile
                    cached = file && { sha: file.sha, snapshot: { document: cached?.snapshot.document ?? emptyDocument, skipped: [], changed: true } }
                  })
                )
              ),
              Effect.fail(new Lost())
            )
          }
          cached = { sha: r.sha, snapshot: { document: Either.getOrThrow(decode(r.text, r.sha)).document, skipped: [], changed: true } }
          return Effect.void
        })
      )

  const publish = (change: PresenceChange): Effect.Effect<void, PresenceError> =>
    refuseUnreadable(change) ??
    publishByCas(attempt(change), PRESENCE_PATH)

  // A write reads the file too when it loses a race; what that read fetched (and what the
  // write itself made) is still news to the poller, which must not take the unchanged read
  // that follows for "nothing changed". The GitHub adapter does the same.
  let delivered: PresenceSnapshot["document"] = emptyDocument
  const poll: Effect.Effect<PresenceSnapshot, PresenceError> = Effect.map(read, (snap) => {
    const before = delivered
    delivered = snap.document
    return { ...snap, changed: snap.changed || before !== snap.document }
  })

  return { form: "file", identities: "claimed", writesForOthers: true, publish, read: poll }
}

/** Presence in Discussion form for `user` on `world`: one comment per user, author set by the host. */
export const makeDiscussionPresence = (world: MemoryGitHub, user: string): PresenceService => {
  let seenEtag = -1
  let last: PresenceSnapshot = { document: emptyDocument, skipped: [], changed: false }
  let own: PresenceDocument = emptyDocument
  let everRead = false

  const read: Effect.Effect<PresenceSnapshot, PresenceError> = world
    // GraphQL has no conditional requests: every read of the Discussion is charged, changed or not.
    .request(
      user,
      "read",
      () =>
        world.commentsEtag === seenEtag
          ? undefined
          : { etag: world.commentsEtag, comments: Array.from(world.comments.values()) }
    )
    .pipe(
      Effect.mapError(toPresenceError),
      Effect.map((r) => {
        if (r === undefined) return { ...last, changed: false }
        const skipped: Array<Skipped> = []
        const docs = r.comments.flatMap((c) =>
          Either.match(decodeDocument(c.body), {
            onLeft: (e) => (skipped.push({ detail: `comment by ${c.author}: ${e.detail}` }), []),
            onRight: ({ document, skipped: s }) => (skipped.push(...s), [{ author: c.author, document }])
          })
        )
        const merged = mergeAuthored(docs)
        seenEtag = r.etag
        everRead = true
        last = { document: merged.document, skipped: [...skipped, ...merged.skipped], changed: true }
        const mine = docs.find((d) => d.author.toLowerCase() === user.toLowerCase())
        if (mine !== undefined) own = mine.document
        return last
      })
    )

  // Learn this user's existing comment (another tab's sessions, a crashed predecessor's signing
  // key) before the first write, as the GitHub adapter does: a blind first write replaced them.
  const write = (change: PresenceChange): Effect.Effect<void, PresenceError> =>
    world
      .request(user, "write", (now) => {
        const next = applyChange(own, change, now)
        world.putComment(user, encodeDocument(next))
        return next
      })
      .pipe(
        Effect.mapError(toPresenceError),
        Effect.map((next) => {
          own = next
        })
      )
  const publish = (change: PresenceChange): Effect.Effect<void, PresenceError> =>
    refuseUnreadable(change) ?? (everRead ? write(change) : Effect.zipRight(read, Effect.suspend(() => write(change))))

  return { form: "discussion", identities: "verified", writesForOthers: false, publish, read }
}
