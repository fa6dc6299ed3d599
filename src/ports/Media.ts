/**
 * Media port: what calls need from the platform's media stack. It captures
 * microphone, camera and screen as opaque track handles, and carries them on the
 * connection to a peer (the transport's RTCPeerConnection, renegotiated in-band).
 * Capture and carriage are one port because the same platform object is behind
 * both: a handle from `capture` is only meaningful to the adapter that made it.
 */
import { Context, Schema, type Effect } from "effect"
import { PeerId } from "../domain/identity.js"
import { withCause } from "./errors.js"
import type { Subscribe } from "./subscription.js"

/** What a local track captures. */
export type MediaSource = "microphone" | "camera" | "screen"
/** What a track carries. */
export type TrackKind = "audio" | "video"

/** A captured local track; the adapter maps it to the platform's track. */
export interface LocalTrack {
  readonly id: string
  readonly source: MediaSource
  readonly kind: TrackKind
}

/** A track a peer sends us; the adapter maps it to the platform's track for rendering. */
export interface RemoteTrack {
  readonly id: string
  readonly peer: PeerId
  readonly kind: TrackKind
}

/** A remote track started or ended. */
export type RemoteTrackEvent =
  | { readonly _tag: "Added"; readonly track: RemoteTrack }
  | { readonly _tag: "Removed"; readonly track: RemoteTrack }

/** The user or the platform refused access to a source. */
export class MediaDenied extends Schema.TaggedError<MediaDenied>()("MediaDenied", { source: Schema.Literal("microphone", "camera", "screen"), ...withCause }) {}
/** No device for the source, or the platform cannot capture here. */
export class MediaUnavailable extends Schema.TaggedError<MediaUnavailable>()("MediaUnavailable", { source: Schema.Literal("microphone", "camera", "screen"), ...withCause }) {}
/** Tracks cannot go to `peer`: no connection, or the connection refused them. */
export class MediaLinkError extends Schema.TaggedError<MediaLinkError>()("MediaLinkError", {
  peer: PeerId,
  reason: Schema.Literal("no-connection", "failed"),
  ...withCause
}) {}

/** Everything that can go wrong when capturing. */
export type CaptureError = MediaDenied | MediaUnavailable

/** The media of one session. */
export interface MediaService {
  /** Captures one source; the track lives until `stop`. */
  readonly capture: (source: MediaSource) => Effect.Effect<LocalTrack, CaptureError>
  /** Mutes or unmutes a track without renegotiation (it sends silence or black frames). */
  readonly setEnabled: (track: LocalTrack, enabled: boolean) => Effect.Effect<void>
  /** Stops a track for good (the device is released); later calls do nothing. */
  readonly stop: (track: LocalTrack) => Effect.Effect<void>
  /** Starts reporting the peer's tracks as `remote` events; idempotent. */
  readonly open: (peer: PeerId) => Effect.Effect<void, MediaLinkError>
  /** Puts a local track on the connection to `peer`; a track already there is left alone. */
  readonly send: (peer: PeerId, track: LocalTrack) => Effect.Effect<void, MediaLinkError>
  /** Takes a local track off the connection to `peer`. */
  readonly unsend: (peer: PeerId, track: LocalTrack) => Effect.Effect<void>
  /** Takes every local track off the connection to `peer` and reports its tracks removed. */
  readonly close: (peer: PeerId) => Effect.Effect<void>
  /** Remote tracks as they start and end, on every opened peer (live when it returns). */
  readonly remote: Subscribe<RemoteTrackEvent>
}

/** The media service. */
export class Media extends Context.Tag("skygit/Media")<Media, MediaService>() {}
