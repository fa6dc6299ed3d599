/**
 * RepoSettings port: the SkyGit settings a repository records for everyone
 * (`.messages/skygit.json` on the SkyGit branch), written with compare-and-swap so that
 * the first choice wins and a change is made over the version its author saw.
 */
import { Context, Schema, type Effect, type Option } from "effect"
import type { RepoSettings } from "../domain/repo-settings.js"
import { withCause } from "./errors.js"

/** An opaque version of the settings file (its blob sha on GitHub). */
export type SettingsVersion = string

/** Settings as recorded, with the version they were read at. */
export interface RecordedSettings {
  readonly settings: RepoSettings
  readonly version: SettingsVersion
}

/** Someone recorded or changed the settings since `over`: re-read them. */
export class SettingsConflict extends Schema.TaggedError<SettingsConflict>()("SettingsConflict", withCause) {}
/** The file is there but cannot be used; `version` lets an explicit change replace it. */
export class SettingsMalformed extends Schema.TaggedError<SettingsMalformed>()("SettingsMalformed", { ...withCause, version: Schema.String }) {}
/** The repository could not be reached or refused (rate limits included, with their reason). */
export class SettingsUnavailable extends Schema.TaggedError<SettingsUnavailable>()("SettingsUnavailable", withCause) {}

/** The settings of one repository, as one user reaches them. */
export interface RepoSettingsService {
  /** The recorded settings; none when nobody chose yet. */
  readonly read: Effect.Effect<Option.Option<RecordedSettings>, SettingsMalformed | SettingsUnavailable>
  /** Records `settings` over version `over` (none: only if nothing is recorded yet). */
  readonly write: (settings: RepoSettings, over: Option.Option<SettingsVersion>) => Effect.Effect<RecordedSettings, SettingsConflict | SettingsUnavailable>
}

/** The repository settings service. */
export class RepoSettingsStore extends Context.Tag("skygit/RepoSettings")<RepoSettingsStore, RepoSettingsService>() {}
