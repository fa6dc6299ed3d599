/**
 * An in-memory Media for tests: capture makes track handles, and a track sent by
 * one session appears as a remote track at the session it was sent to (once that
 * session opened the sender). It is a real implementation that tests inspect,
 * not a mock: which tracks are live, enabled, and on which connection.
 */
import { Effect, Layer, PubSub, type Scope } from "effect"
import { subscribeTo } from "../../ports/subscription.js"
import { peerKey, type PeerId } from "../../domain/identity.js"
import {
  Media,
  MediaDenied,
  type CaptureError,
  MediaLinkError,
  MediaUnavailable,
  type LocalTrack,
  type MediaService,
  type MediaSource,
  type RemoteTrackEvent
} from "../../ports/Media.js"

/** How fake capture behaves. */
export interface FakeMediaOptions {
  /** Sources whose capture the "user" refuses. */
  readonly deny?: ReadonlyArray<MediaSource>
  /** Sources with no device. */
  readonly missing?: ReadonlyArray<MediaSource>
}

interface FakeTrack {
  readonly track: LocalTrack
  enabled: boolean
  stopped: boolean
}

interface Session {
  readonly self: PeerId
  readonly options: FakeMediaOptions
  readonly tracks: Map<string, FakeTrack>
  /** Peer key -> ids of our tracks on the connection to that peer. */
  readonly sending: Map<string, Set<string>>
  /** Peer keys whose tracks this session reports. */
  readonly opened: Set<string>
  readonly events: PubSub.PubSub<RemoteTrackEvent>
}

/** Many sessions' fake media, connected to each other. */
export class FakeMediaWorld {
  private readonly sessions = new Map<string, Session>()
  private nextId = 1

  /** Whether two sessions can carry media; tests cut it to play a missing connection. */
  connected: (a: PeerId, b: PeerId) => boolean = () => true

  /** The Media of `self`, for as long as the scope lives. */
  attach(self: PeerId, options: FakeMediaOptions = {}): Effect.Effect<MediaService, never, Scope.Scope> {
    return Effect.gen(this, function* () {
      const events = yield* PubSub.unbounded<RemoteTrackEvent>()
      const session: Session = { self, options, tracks: new Map(), sending: new Map(), opened: new Set(), events }
      this.sessions.set(peerKey(self), session)
      yield* Effect.addFinalizer(() => Effect.sync(() => this.sessions.delete(peerKey(self))))
      return this.service(session)
    })
  }

  /** The layer of `self`'s Media. */
  layer(self: PeerId, options: FakeMediaOptions = {}): Layer.Layer<Media> {
    return Layer.scoped(Media, this.attach(self, options))
  }

  /** Tracks of `self` that are captured and not stopped. */
  live(self: PeerId): ReadonlyArray<LocalTrack & { readonly enabled: boolean }> {
    const s = this.sessions.get(peerKey(self))
    return s === undefined ? [] : Array.from(s.tracks.values()).filter((t) => !t.stopped).map((t) => ({ ...t.track, enabled: t.enabled }))
  }

  /** Every track `self` ever captured, with whether it was stopped. */
  captured(self: PeerId): ReadonlyArray<{ readonly track: LocalTrack; readonly stopped: boolean }> {
    const s = this.sessions.get(peerKey(self))
    return s === undefined ? [] : Array.from(s.tracks.values()).map((t) => ({ track: t.track, stopped: t.stopped }))
  }

  /** Sources `self` currently sends to `peer`. */
  sending(self: PeerId, peer: PeerId): ReadonlyArray<MediaSource> {
    const s = this.sessions.get(peerKey(self))
    const ids = s?.sending.get(peerKey(peer)) ?? new Set<string>()
    return Array.from(ids).flatMap((id) => {
      const t = s?.tracks.get(id)
      return t === undefined ? [] : [t.track.source]
    })
  }

  private emit(to: Session | undefined, from: PeerId, track: LocalTrack, tag: RemoteTrackEvent["_tag"]): Effect.Effect<void> {
    if (to === undefined || !to.opened.has(peerKey(from))) return Effect.void
    return PubSub.publish(to.events, { _tag: tag, track: { id: track.id, peer: from, kind: track.kind } }).pipe(Effect.asVoid)
  }

  private service(s: Session): MediaService {
    const world = this
    const trackOf = (track: LocalTrack) => s.tracks.get(track.id)
    const remove = (peer: PeerId, id: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        const ids = s.sending.get(peerKey(peer))
        const t = s.tracks.get(id)
        if (ids === undefined || t === undefined || !ids.delete(id)) return Effect.void
        return world.emit(world.sessions.get(peerKey(peer)), s.self, t.track, "Removed")
      })
    return {
      capture: (source) =>
        Effect.suspend((): Effect.Effect<LocalTrack, CaptureError> => {
          if (s.options.deny?.includes(source) === true) return Effect.fail(new MediaDenied({ source, detail: "denied by the test" }))
          if (s.options.missing?.includes(source) === true) return Effect.fail(new MediaUnavailable({ source, detail: "no such device" }))
          const track: LocalTrack = { id: `fake-${world.nextId++}`, source, kind: source === "microphone" ? "audio" : "video" }
          s.tracks.set(track.id, { track, enabled: true, stopped: false })
          return Effect.succeed(track)
        }),
      setEnabled: (track, enabled) =>
        Effect.sync(() => {
          const t = trackOf(track)
          if (t !== undefined && !t.stopped) t.enabled = enabled
        }),
      stop: (track) =>
        Effect.sync(() => {
          const t = trackOf(track)
          if (t !== undefined) t.stopped = true
        }),
      open: (peer) =>
        Effect.suspend(() => {
          if (!world.connected(s.self, peer)) return Effect.fail(new MediaLinkError({ peer, reason: "no-connection", detail: "no connection" }))
          if (s.opened.has(peerKey(peer))) return Effect.void
          s.opened.add(peerKey(peer))
          // Tracks the peer already sends us show up now.
          const other = world.sessions.get(peerKey(peer))
          const ids = other?.sending.get(peerKey(s.self)) ?? new Set<string>()
          return Effect.forEach(ids, (id) => {
            const t = other?.tracks.get(id)
            return t === undefined ? Effect.void : world.emit(s, peer, t.track, "Added")
          }, { discard: true })
        }),
      send: (peer, track) =>
        Effect.suspend(() => {
          if (!world.connected(s.self, peer)) return Effect.fail(new MediaLinkError({ peer, reason: "no-connection", detail: "no connection" }))
          const t = trackOf(track)
          if (t === undefined || t.stopped) return Effect.fail(new MediaLinkError({ peer, reason: "failed", detail: "track is not live" }))
          const ids = s.sending.get(peerKey(peer)) ?? new Set<string>()
          s.sending.set(peerKey(peer), ids)
          if (ids.has(track.id)) return Effect.void
          ids.add(track.id)
          return world.emit(world.sessions.get(peerKey(peer)), s.self, track, "Added")
        }),
      unsend: (peer, track) => remove(peer, track.id),
      close: (peer) =>
        Effect.gen(function* () {
          for (const id of Array.from(s.sending.get(peerKey(peer)) ?? [])) yield* remove(peer, id)
          s.sending.delete(peerKey(peer))
          if (!s.opened.has(peerKey(peer))) return
          const other = world.sessions.get(peerKey(peer))
          for (const id of other?.sending.get(peerKey(s.self)) ?? []) {
            const t = other?.tracks.get(id)
            if (t !== undefined) yield* world.emit(s, peer, t.track, "Removed")
          }
          s.opened.delete(peerKey(peer))
        }),
      remote: subscribeTo(s.events)
    }
  }
}

/** A fresh world of fake media sessions. */
export const makeFakeMediaWorld = (): FakeMediaWorld => new FakeMediaWorld()
