/**
 * What a repository records about SkyGit for everyone: which presence form it uses.
 * The first person to enable SkyGit chooses; everyone after joins the recorded form;
 * changing it is an explicit rewrite. Kept in `.messages/skygit.json` on the SkyGit branch,
 * with the presence Discussion's number once it is known.
 */
import { Either, Option, ParseResult, Schema } from "effect"
import { MESSAGES_ROOT } from "./commit-layout.js"
import { Username } from "./identity.js"

/** Where the settings live on the SkyGit branch. */
export const SETTINGS_PATH = `${MESSAGES_ROOT}/skygit.json`
/** Largest settings file read (it holds a few fields). */
export const MAX_SETTINGS_BYTES = 4 * 1024

/** The presence channel's form. */
export const PresenceForm = Schema.Literal("file", "discussion")
/** The presence channel's form. */
export type PresenceForm = typeof PresenceForm.Type

/** The recorded settings. */
export const RepoSettings = Schema.Struct({
  v: Schema.Literal(1),
  presence: PresenceForm,
  /** Who chose (or last changed) the form. */
  chosenBy: Username,
  /** Epoch ms of that choice. */
  chosenAt: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /**
   * The number of the presence Discussion once someone found or created it, so every client
   * finds it in one request whatever the number of discussions (issue 9). Absent before.
   */
  discussion: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.positive()))
})
/** The recorded settings. */
export type RepoSettings = typeof RepoSettings.Type

const decode = Schema.decodeUnknownEither(Schema.parseJson(RepoSettings))

/** Decodes the settings file, or says why it cannot be used. */
export const decodeSettings = (text: string): Either.Either<RepoSettings, string> => {
  if (text.length > MAX_SETTINGS_BYTES) return Either.left(`${SETTINGS_PATH} is larger than ${MAX_SETTINGS_BYTES} bytes`)
  return Either.mapLeft(decode(text), (e) => `${SETTINGS_PATH}: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 300)}`)
}

/** The settings file's text. */
export const encodeSettings = (s: RepoSettings): string => `${JSON.stringify(Schema.encodeSync(RepoSettings)(s), null, 2)}\n`

/**
 * Which form to join: the recorded one when there is one (what this user picked does not
 * matter then), else the one this user picked, which is to be recorded.
 */
export const formToJoin = (
  recorded: Option.Option<RepoSettings>,
  picked: PresenceForm
): { readonly form: PresenceForm; readonly record: boolean } =>
  Option.match(recorded, { onNone: () => ({ form: picked, record: true }), onSome: (s) => ({ form: s.presence, record: false }) })
