/**
 * The Media port in a browser: getUserMedia/getDisplayMedia for capture, and the
 * WebRTC transport's RTCPeerConnection of each peer for carriage. Adding or
 * removing a track fires `negotiationneeded`, which the transport answers with
 * perfect negotiation over the data channel; nothing here speaks SDP.
 */
import { Effect, Option, PubSub, Runtime, type Scope } from "effect"
import { subscribeTo } from "../../ports/subscription.js"
import { peerKey, type PeerId } from "../../domain/identity.js"
import type { WebRtcInternalsService } from "../webrtc/transport.js"
import {
  MediaDenied,
  MediaLinkError,
  MediaUnavailable,
  type CaptureError,
  type LocalTrack,
  type MediaService,
  type MediaSource,
  type RemoteTrack,
  type RemoteTrackEvent
} from "../../ports/Media.js"

/** Camera resolution asked for: enough for a call tile, cheap for a mesh that sends it to everyone. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } }
/** Microphone processing every call wants. */
export const MICROPHONE_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true }

/** The page's capture functions (pass `navigator.mediaDevices`). */
export type Devices = Pick<MediaDevices, "getUserMedia"> & Partial<Pick<MediaDevices, "getDisplayMedia">>

/** The browser Media, with the platform track behind each live handle (for `<video>.srcObject` and tests). */
export interface BrowserMedia extends MediaService {
  /** The platform track behind a local or remote handle of this Media, while it is live. */
  readonly nativeTrack: (handle: { readonly id: string }) => MediaStreamTrack | undefined
}

interface PeerMedia {
  readonly pc: RTCPeerConnection
  /** Local handle id -> its sender on this connection. */
  readonly senders: Map<string, RTCRtpSender>
  readonly remote: Map<string, RemoteTrack>
  readonly detach: () => void
}

const captureError = (source: MediaSource, e: unknown): CaptureError => {
  const name = e instanceof Error ? e.name : ""
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  return name === "NotAllowedError" || name === "SecurityError" ? new MediaDenied({ source, detail, cause: e }) : new MediaUnavailable({ source, detail, cause: e })
}

const request = (devices: Devices, source: MediaSource): Promise<MediaStream> => {
  switch (source) {
    case "microphone":
      return devices.getUserMedia({ audio: MICROPHONE_CONSTRAINTS })
    case "camera":
      return devices.getUserMedia({ video: CAMERA_CONSTRAINTS })
    case "screen":
      if (devices.getDisplayMedia === undefined) return Promise.reject(new Error("getDisplayMedia is not available"))
      return devices.getDisplayMedia({ video: true })
  }
}

/** Builds the browser Media over the transport's connections; local tracks stop when the scope closes. */
export const makeBrowserMedia = (devices: Devices, internals: WebRtcInternalsService): Effect.Effect<BrowserMedia, never, Scope.Scope> =>
  Effect.gen(function* () {
    // Platform tracks behind live handles: per Media, so two sessions in one page never share them.
    const natives = new Map<string, MediaStreamTrack>()
    const events = yield* PubSub.unbounded<RemoteTrackEvent>()
    const publish = Runtime.runSync(yield* Effect.runtime<never>())
    const peers = new Map<string, PeerMedia>()
    const local = new Map<string, LocalTrack>()
    // One stream for every local track, so the other side groups them as one participant.
    const stream = new MediaStream()

    const removeRemote = (entry: PeerMedia, handle: RemoteTrack) => {
      if (!entry.remote.delete(handle.id)) return
      natives.delete(handle.id)
      publish(PubSub.publish<RemoteTrackEvent>(events, { _tag: "Removed", track: handle }))
    }

    const addRemote = (peer: PeerId, entry: PeerMedia, track: MediaStreamTrack) => {
      const handle: RemoteTrack = { id: `remote:${peerKey(peer)}:${track.id}`, peer, kind: track.kind === "audio" ? "audio" : "video" }
      if (entry.remote.has(handle.id) || track.readyState === "ended") return
      entry.remote.set(handle.id, handle)
      natives.set(handle.id, track)
      track.addEventListener("ended", () => removeRemote(entry, handle), { once: true })
      publish(PubSub.publish<RemoteTrackEvent>(events, { _tag: "Added", track: handle }))
    }

    const forget = (key: string) => {
      const entry = peers.get(key)
      if (entry === undefined) return
      peers.delete(key)
      entry.detach()
      for (const handle of Array.from(entry.remote.values())) removeRemote(entry, handle)
    }

    const entryOf = (peer: PeerId): Effect.Effect<PeerMedia, MediaLinkError> =>
      Effect.flatMap(internals.peerConnection(peer), (found) => {
        if (Option.isNone(found)) return Effect.fail(new MediaLinkError({ peer, reason: "no-connection", detail: "no connection to this peer" }))
        const pc = found.value
        const key = peerKey(peer)
        const known = peers.get(key)
        if (known?.pc === pc) return Effect.succeed(known)
        // The transport replaced the connection: what we knew of the old one is gone.
        forget(key)
        const onTrack = (e: RTCTrackEvent) => addRemote(peer, entry, e.track)
        const entry: PeerMedia = { pc, senders: new Map(), remote: new Map(), detach: () => pc.removeEventListener("track", onTrack) }
        pc.addEventListener("track", onTrack)
        peers.set(key, entry)
        // Tracks negotiated before we listened (the peer's offer can overtake its accept) count too.
        for (const t of pc.getTransceivers()) {
          if (t.currentDirection === "sendrecv" || t.currentDirection === "recvonly") addRemote(peer, entry, t.receiver.track)
        }
        return Effect.succeed(entry)
      })

    const unsendFrom = (entry: PeerMedia, id: string) => {
      const sender = entry.senders.get(id)
      if (sender === undefined) return
      entry.senders.delete(id)
      try {
        entry.pc.removeTrack(sender)
        // Stopping the transceiver rejects its m-line, so the remote track ends instead of idling.
        entry.pc.getTransceivers().find((t) => t.sender === sender)?.stop()
      } catch {
        // A closed connection has no senders left to remove.
      }
    }

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const key of Array.from(peers.keys())) forget(key)
        for (const handle of local.values()) {
          natives.get(handle.id)?.stop()
          natives.delete(handle.id)
        }
        local.clear()
      }).pipe(Effect.zipRight(PubSub.shutdown(events)))
    )

    const service: BrowserMedia = {
      capture: (source) =>
        Effect.tryPromise({ try: () => request(devices, source), catch: (e) => captureError(source, e) }).pipe(
          Effect.flatMap((captured) => {
            const track = source === "microphone" ? captured.getAudioTracks()[0] : captured.getVideoTracks()[0]
            for (const other of captured.getTracks()) if (other !== track) other.stop()
            if (track === undefined) return Effect.fail(new MediaUnavailable({ source, detail: "the device gave no track" }))
            const handle: LocalTrack = { id: `local:${track.id}`, source, kind: source === "microphone" ? "audio" : "video" }
            natives.set(handle.id, track)
            local.set(handle.id, handle)
            return Effect.succeed(handle)
          })
        ),
      setEnabled: (track, enabled) =>
        Effect.sync(() => {
          const native = natives.get(track.id)
          if (native !== undefined) native.enabled = enabled
        }),
      stop: (track) =>
        Effect.sync(() => {
          for (const entry of peers.values()) unsendFrom(entry, track.id)
          const native = natives.get(track.id)
          if (native !== undefined) stream.removeTrack(native)
          native?.stop()
          natives.delete(track.id)
          local.delete(track.id)
        }),
      open: (peer) => Effect.asVoid(entryOf(peer)),
      send: (peer, track) =>
        Effect.flatMap(entryOf(peer), (entry) => {
          const native = natives.get(track.id)
          if (native === undefined) return Effect.fail(new MediaLinkError({ peer, reason: "failed", detail: "track is not live" }))
          if (entry.senders.has(track.id)) return Effect.void
          return Effect.try({
            try: () => {
              if (!stream.getTracks().includes(native)) stream.addTrack(native)
              entry.senders.set(track.id, entry.pc.addTrack(native, stream))
            },
            catch: (e) => new MediaLinkError({ peer, reason: "failed", detail: String(e) })
          })
        }),
      unsend: (peer, track) =>
        Effect.sync(() => {
          const entry = peers.get(peerKey(peer))
          if (entry !== undefined) unsendFrom(entry, track.id)
        }),
      close: (peer) =>
        Effect.sync(() => {
          const entry = peers.get(peerKey(peer))
          if (entry === undefined) return
          for (const id of Array.from(entry.senders.keys())) unsendFrom(entry, id)
          forget(peerKey(peer))
        }),
      remote: subscribeTo(events),
      nativeTrack: (handle) => natives.get(handle.id)
    }
    return service
  })
