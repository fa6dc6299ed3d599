/**
 * Which presence form a session joins: the one the repository records; when nothing is
 * recorded yet, the one this user picked, recorded for everyone after. A change is an
 * explicit write over the version its author saw; sessions that watch the record move.
 */
import { Effect, Option } from "effect"
import type { Username } from "../domain/identity.js"
import { formToJoin, type PresenceForm } from "../domain/repo-settings.js"
import { SettingsUnavailable, type RecordedSettings, type RepoSettingsService, type SettingsConflict, type SettingsMalformed } from "../ports/RepoSettings.js"

/** The record and its service, as a session hands them to the UI. */
export type { RecordedSettings, RepoSettingsService }

/** What a join settled on. */
export interface SettledForm {
  readonly form: PresenceForm
  readonly recorded: RecordedSettings
  /** True when this user made the first choice (it was recorded now). */
  readonly choseNow: boolean
}

/** The form to join, recording `picked` if nobody chose yet (a lost race joins the winner's choice). */
export const settleForm = (
  settings: RepoSettingsService,
  picked: PresenceForm,
  by: Username,
  at: number
): Effect.Effect<SettledForm, SettingsUnavailable | SettingsMalformed> =>
  Effect.gen(function* () {
    const seen = yield* settings.read
    const decision = formToJoin(Option.map(seen, (r) => r.settings), picked)
    if (!decision.record) return { form: decision.form, recorded: Option.getOrThrow(seen), choseNow: false }
    const written = yield* settings.write({ v: 1, presence: picked, chosenBy: by, chosenAt: at }, Option.none()).pipe(Effect.either)
    if (written._tag === "Right") return { form: picked, recorded: written.right, choseNow: true }
    if (written.left._tag === "SettingsUnavailable") return yield* Effect.fail(written.left)
    // Someone chose first: theirs is the repository's form.
    const winner = Option.getOrUndefined(yield* settings.read)
    if (winner === undefined) return yield* Effect.fail(new SettingsUnavailable({ detail: "the settings changed while joining; try again" }))
    return { form: winner.settings.presence, recorded: winner, choseNow: false }
  })

/** Changes the recorded form on purpose, over the version the user saw (a corrupt record included). */
export const changeForm = (
  settings: RepoSettingsService,
  to: PresenceForm,
  by: Username,
  at: number,
  over: string
): Effect.Effect<RecordedSettings, SettingsUnavailable | SettingsConflict> =>
  settings.write({ v: 1, presence: to, chosenBy: by, chosenAt: at }, Option.some(over))
