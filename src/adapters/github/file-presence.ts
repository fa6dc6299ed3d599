/**
 * Presence, file form: `.messages/presence.json` on SkyGit's branch, read with a
 * conditional GET (a 304 is free and returns the cached document) and written with
 * compare-and-swap on the blob sha: a versioned store under the one loop of every presence
 * adapter (`../presence-cas.ts`). Every attempt waits for its write slot, reads the latest
 * version (free when unchanged), and the loop merges the change into it and writes; a writer
 * that loses anyway (409 stale sha, 422 missing sha) retries on the loop's jittered Schedule,
 * so no write is lost silently and racing writers spread out. A corrupt or oversized document
 * fails reads with a reason and is replaced by the next publish, built on the last good version read.
 */
import { Clock, Effect, Either, Layer, Option, Ref } from "effect"
import { PRESENCE_PATH } from "../../domain/commit-layout.js"
import { decodeDocument, emptyDocument, encodeDocument, type PresenceDocument } from "../../domain/presence-doc.js"
import {
  Presence,
  PresenceMalformed,
  PresenceUnavailable,
  type PresenceError,
  type PresenceService,
  type PresenceSnapshot
} from "../../ports/Presence.js"
import { decodeBase64Utf8, encodeBase64Utf8 } from "./base64.js"
import { makeSkygitBranch, SKIP_CI } from "./branch.js"
import { classifyWrite, readOnlyFilePresence, type PermanentReason } from "./refusals.js"
import { GitHub, type GitHubClient } from "./client.js"
import type { GitHubFailure } from "./errors.js"
import { toPresenceError } from "./port-errors.js"
import { ContentsFile, ContentsWritten } from "./wire.js"
import { Lost, publishVia, reportingWrites, type Versioned, type VersionedStore } from "../presence-cas.js"

export { MAX_PUBLISH_ATTEMPTS } from "../presence-cas.js"

/** The commit message of every presence write. */
export const PRESENCE_COMMIT_MESSAGE = `SkyGit presence ${SKIP_CI}`

// GitHub answers a PUT to a missing branch 404 "Branch x not found" (some paths say 422).
const MISSING_BRANCH = /branch .* not found/i

/** What this client last saw of the file. */
interface Seen {
  /** Blob sha of the file; undefined when it does not exist (or was never read). */
  readonly sha: string | undefined
  readonly etag: string | undefined
  readonly snapshot: PresenceSnapshot
  /** Why the current file cannot be read (it is still replaced by the next publish). */
  readonly malformed: string | undefined
  readonly everRead: boolean
}

const initial: Seen = { sha: undefined, etag: undefined, snapshot: { document: emptyDocument, skipped: [], changed: false }, malformed: undefined, everRead: false }

/** Options of the file-form adapter. */
export interface FilePresenceOptions {
  /** SkyGit's branch; default `skygit`. */
  readonly branch?: string
}

/** Presence in file form over `client`. */
export const makeGitHubFilePresence = (client: GitHubClient, options: FilePresenceOptions = {}): Effect.Effect<PresenceService> =>
  Effect.gen(function* () {
    const branch = yield* makeSkygitBranch(client, options.branch)
    const seen = yield* Ref.make(initial)
    const fail = (f: GitHubFailure | Parameters<typeof toPresenceError>[0], what: string) => Effect.fail(toPresenceError(f, what))

    const malformed = (sha: string, etag: string | undefined, detail: string) =>
      Effect.zipRight(
        Ref.update(seen, (s) => ({ ...s, sha, etag, malformed: detail, everRead: true })),
        Effect.fail(new PresenceMalformed({ detail: `${PRESENCE_PATH}@${sha.slice(0, 12)}: ${detail}; the next publish replaces it` }))
      )

    const read: Effect.Effect<PresenceSnapshot, PresenceError> = Effect.gen(function* () {
      const before = yield* Ref.get(seen)
      const r = yield* client
        .requestIfChanged("GET /repos/{owner}/{repo}/contents/{path}", { path: PRESENCE_PATH, ref: branch.name }, ContentsFile, before.etag)
        .pipe(
          Effect.map(Either.right),
          // A missing file or branch is an empty channel, not an error.
          Effect.catchIf((f) => f._tag === "GitHubHttpError" && f.status === 404, () => Effect.succeed(Either.left<"missing">("missing"))),
          Effect.catchAll((f) => fail(f, `reading ${PRESENCE_PATH}`))
        )
      if (Either.isLeft(r)) {
        const snapshot: PresenceSnapshot = { document: emptyDocument, skipped: [], changed: before.snapshot.document !== emptyDocument }
        yield* Ref.set(seen, { ...initial, snapshot: { ...snapshot, changed: false }, everRead: true })
        return snapshot
      }
      if (Option.isNone(r.right)) {
        if (before.malformed !== undefined) return yield* malformed(before.sha ?? "unknown", before.etag, before.malformed)
        return { ...before.snapshot, changed: false }
      }
      const file = r.right.value.data
      const etag = r.right.value.headers["etag"]
      if (file.encoding !== "base64" || typeof file.content !== "string") {
        return yield* malformed(file.sha, etag, `${file.size ?? "?"} bytes, over the 1 MB the contents API returns inline`)
      }
      let text: string
      try {
        text = decodeBase64Utf8(file.content)
      } catch (e) {
        return yield* malformed(file.sha, etag, `not UTF-8 text (${String(e)})`)
      }
      return yield* Either.match(decodeDocument(text), {
        onLeft: (e) => malformed(file.sha, etag, e.detail),
        onRight: ({ document, skipped }) => {
          const snapshot: PresenceSnapshot = { document, skipped, changed: true }
          return Effect.as(Ref.set(seen, { sha: file.sha, etag, snapshot, malformed: undefined, everRead: true }), snapshot)
        }
      })
    })

    // Read the version a write goes over; a corrupt document is simply overwritten.
    const reread = read.pipe(Effect.asVoid, Effect.catchTag("PresenceMalformed", () => Effect.void))
    // Whether the branch is known to exist (a file read, a write or a creation proved it).
    const branchSeen = yield* Ref.make(false)

    /**
     * The version a write goes over. It waits for its write slot first, then reads (a 304 is
     * free), so the sha it writes over is as fresh as can be: reading first and then waiting
     * a second for the slot lost most races when peers started together. A missing file on a
     * missing branch creates the branch first, instead of a PUT that is refused 404.
     */
    const current: Effect.Effect<Versioned<string>, PresenceError | Lost> = Effect.gen(function* () {
      yield* client.writeSlot.pipe(Effect.catchAll((f) => fail(f, `writing ${PRESENCE_PATH}`)))
      yield* reread
      const s = yield* Ref.get(seen)
      if (s.sha === undefined && !(yield* Ref.get(branchSeen))) {
        const created = yield* branch.ensure.pipe(
          Effect.catchAll((e) => {
            const meaning = e._tag === "GitHubMisconfigured" ? undefined : classifyWrite(e, { owner: client.owner, repo: client.repo, branch: branch.name })
            return meaning?._tag === "Permanent" ? Effect.fail(permanentlyRefused(meaning, client.owner, client.repo, e)) : fail(e, `creating branch ${branch.name}`)
          })
        )
        yield* Ref.set(branchSeen, true)
        // Creating it spent the write slot: wait for the next one and read again before writing.
        if (created) return yield* Effect.fail(new Lost())
      }
      // Over a corrupt document, the last good version this client read (its snapshot) is the base:
      // the repair keeps everyone's entries and fingerprints it can.
      return { version: s.sha, document: s.snapshot.document, intact: s.malformed === undefined }
    })

    /** One PUT over `over.version`; a stale or missing sha is a loss, and the next attempt reads again. */
    const write = (over: Versioned<string>, merged: (now: number) => PresenceDocument): Effect.Effect<void, PresenceError | Lost> =>
      Effect.gen(function* () {
        const next = merged(yield* Clock.currentTimeMillis)
        const params = {
          path: PRESENCE_PATH,
          branch: branch.name,
          message: PRESENCE_COMMIT_MESSAGE,
          content: encodeBase64Utf8(encodeDocument(next)),
          ...(over.version === undefined ? {} : { sha: over.version })
        }
        const outcome = yield* client.request("PUT /repos/{owner}/{repo}/contents/{path}", params, ContentsWritten, { kind: "content" }).pipe(Effect.either)
        if (Either.isRight(outcome)) {
          const sha = outcome.right.data.content.sha
          yield* Ref.set(branchSeen, true)
          yield* Ref.set(seen, { sha, etag: undefined, snapshot: { document: next, skipped: [], changed: true }, malformed: undefined, everRead: true })
          return
        }
        const f = outcome.left
        const meaning = classifyWrite(f, { owner: client.owner, repo: client.repo, branch: branch.name })
        // No push access, protection, archived: told once in plain words, never retried.
        if (meaning._tag === "Permanent") return yield* Effect.fail(permanentlyRefused(meaning, client.owner, client.repo, f))
        if (f._tag === "GitHubHttpError" && ((f.status === 404 || f.status === 422) && MISSING_BRANCH.test(f.message))) {
          // The branch went missing since: create it again, then retry.
          yield* Ref.set(branchSeen, false)
          return yield* Effect.fail(new Lost())
        }
        // A stale sha (409), or none while the file exists (422): the next attempt reads again.
        if (f._tag === "GitHubHttpError" && (f.status === 409 || f.status === 422)) return yield* Effect.fail(new Lost())
        return yield* fail(f, `writing ${PRESENCE_PATH}`)
      })

    const store: VersionedStore<string> = {
      path: PRESENCE_PATH,
      prepare: Effect.gen(function* () {
        // Never write before knowing the branch is not the default one.
        yield* branch.defaultBranch.pipe(Effect.catchAll((e) => fail(e, "reading the repository")))
        // A user who may not push is told so, without a write GitHub would refuse (from the same read).
        if (!(yield* branch.canPush.pipe(Effect.catchAll((e) => fail(e, "reading the repository"))))) {
          return yield* Effect.fail(new PresenceUnavailable({ detail: readOnlyFilePresence(client.owner, client.repo), permanent: true }))
        }
      }),
      current,
      write
    }

    // A write reads the file too (right before it writes); what such a read fetched is still news
    // to the poller, which must not take the 304 that follows for "nothing changed".
    const poll = reportingWrites(read)

    return { form: "file", identities: "claimed", writesForOthers: true, publish: publishVia(store), read: poll } satisfies PresenceService
  })

/** A permanent refusal as the presence error; a permission refusal is told in the file form's words. */
const permanentlyRefused = (meaning: { readonly reason: PermanentReason; readonly detail: string }, owner: string, repo: string, cause: unknown): PresenceUnavailable =>
  new PresenceUnavailable({ detail: meaning.reason === "permission" ? readOnlyFilePresence(owner, repo) : meaning.detail, permanent: true, cause })

/** Layer: file-form presence over the session's one GitHub client (so it shares the budget). */
export const layerGitHubFilePresence = (options: FilePresenceOptions = {}): Layer.Layer<Presence, never, GitHub> =>
  Layer.effect(Presence, Effect.flatMap(GitHub, (client) => makeGitHubFilePresence(client, options)))
