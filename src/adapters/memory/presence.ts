/**
 * Presence on the in-memory GitHub, in both forms: each is a versioned store under the one
 * compare-and-swap and merge loop of every presence adapter (`../presence-cas.ts`).
 * File form: one shared document whose version is its blob sha, so simultaneous writers
 * conflict exactly as on the contents API; the loser re-reads, merges its change and
 * retries on the GitHub adapter's jittered backoff. Discussion form: one comment per user
 * whose author the host sets, decoded and merged as on GitHub (`../presence-comments.ts`);
 * its version is the user's comment, which nobody else edits here, so edits never lose.
 */
import { Effect, Either } from "effect"
import { PRESENCE_PATH } from "../../domain/commit-layout.js"
import { normalizeLogin } from "../../domain/identity.js"
import { decodeDocument, emptyDocument, encodeDocument, type PresenceDocument } from "../../domain/presence-doc.js"
import {
  PresenceMalformed,
  PresenceUnavailable,
  type PresenceError,
  type PresenceService,
  type PresenceSnapshot
} from "../../ports/Presence.js"
import { Lost, publishVia, reportingWrites, type VersionedStore } from "../presence-cas.js"
import { fittedComment, overlongComment, readComments } from "../presence-comments.js"
import type { MemoryGitHub, WorldFailure } from "./github-world.js"


const toPresenceError = (f: WorldFailure): PresenceError =>
  f._tag === "RateLimited" ? f : new PresenceUnavailable({ detail: f.detail, cause: f })


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

  // Re-read after a loss; a corrupt document is replaced by this writer's change over the last
  // good version it read (the repair loses no one's entry).
  const reread = read.pipe(
    Effect.asVoid,
    Effect.catchTag("PresenceMalformed", () =>
      Effect.sync(() => {
        const file = world.presenceFile
        cached = file && { sha: file.sha, snapshot: { document: cached?.snapshot.document ?? emptyDocument, skipped: [], changed: true } }
      })
    )
  )

  // The version is the blob sha this writer last saw (a read, its own write, or the re-read after
  // a loss): the in-memory GitHub costs no request to know it, as a 304 costs GitHub nothing.
  const store: VersionedStore<string> = {
    path: PRESENCE_PATH,
    current: Effect.sync(() => ({ version: cached?.sha, document: cached?.snapshot.document ?? emptyDocument, intact: true })),
    write: (over, next) =>
      world
        .request(user, "write", (now) => {
          // Checked at the host's write time, as GitHub checks the sha it is sent: a stale sha
          // answers 409 and a missing one 422 on GitHub; both mean "lost". A file deleted since
          // is created again (over the last good document this writer read).
          const file = world.presenceFile
          if ((file !== undefined && file.sha !== over.version) || world.takeConflict()) return "lost" as const
          const text = encodeDocument(next(now))
          return { text, sha: world.writePresenceFile(text) }
        })
        .pipe(
          Effect.mapError(toPresenceError),
          Effect.flatMap((r) => {
            if (r === "lost") {
              world.statsOf(user).conflicts += 1
              return Effect.zipRight(reread, Effect.fail(new Lost()))
            }
            cached = { sha: r.sha, snapshot: { document: Either.getOrThrow(decode(r.text, r.sha)).document, skipped: [], changed: true } }
            return Effect.void
          })
        )
  }

  return { form: "file", identities: "claimed", writesForOthers: true, publish: publishVia(store), read: reportingWrites(read) }
}

/** Presence in Discussion form for `user` on `world`: one comment per user, author set by the host. */
export const makeDiscussionPresence = (world: MemoryGitHub, user: string): PresenceService => {
  let seenEtag = -1
  let last: PresenceSnapshot = { document: emptyDocument, skipped: [], changed: false }
  let own: PresenceDocument = emptyDocument
  let ownId: string | undefined
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
        const seen = readComments(r.comments, user)
        seenEtag = r.etag
        everRead = true
        last = seen.snapshot
        if (seen.ownId !== undefined) {
          own = seen.own
          ownId = seen.ownId
        }
        return last
      })
    )

  // Learn this user's existing comment (another tab's sessions, a crashed predecessor's signing
  // key) before the first write, as the GitHub adapter does: a blind first write replaced them.
  const store: VersionedStore<string> = {
    path: "the presence Discussion",
    current: Effect.suspend(() => {
      const here = Effect.sync(() => ({ version: ownId, document: own, intact: true }))
      return everRead ? here : Effect.zipRight(read, here)
    }),
    write: (_over, next) =>
      world
        .request(user, "write", (now) => {
          const fitted = fittedComment(next(now))
          if (fitted === undefined) return undefined
          world.putComment(user, fitted.body)
          return fitted.document
        })
        .pipe(
          Effect.mapError(toPresenceError),
          Effect.flatMap((written) => {
            if (written === undefined) return Effect.fail(new PresenceUnavailable({ detail: overlongComment }))
            own = written
            ownId = world.comments.get(normalizeLogin(user))?.id
            return Effect.void
          })
        )
  }

  return { form: "discussion", identities: "verified", writesForOthers: false, publish: publishVia(store), read }
}
