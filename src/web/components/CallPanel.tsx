/** The current call: ringing (accept / decline), in progress (videos, mute, camera, screen, hang up), or how it ended. */
import { createEffect, createMemo, createSignal, For, onCleanup, Show } from "solid-js"
import type { CallsView } from "../../app/calls.js"
import type { Call, Leg } from "../../domain/call.js"
import { peerKey, type PeerId } from "../../domain/identity.js"
import type { LocalTrack, RemoteTrack } from "../../app/calls.js"
import { run } from "../bridge.js"
import type { Session } from "../services.js"
import type { PeerView } from "../../app/peer-state.js"
import { claimedName, Unverified } from "./Unverified.js"

const LEG_TEXT: Record<Leg["state"], string> = {
  ringing: "ringing…",
  accepted: "in the call",
  rejected: "declined",
  busy: "busy",
  ended: "left",
  missed: "did not answer"
}

/** Plays the given platform tracks in one element (video when any is video). */
const Media = (props: { readonly tracks: ReadonlyArray<MediaStreamTrack>; readonly muted: boolean; readonly label: string }) => {
  const hasVideo = () => props.tracks.some((t) => t.kind === "video")
  let element: HTMLMediaElement | undefined
  createEffect(() => {
    hasVideo() // a switch between <audio> and <video> needs the stream again
    const stream = new MediaStream([...props.tracks])
    if (element !== undefined) {
      element.srcObject = stream
      void element.play().catch(() => undefined)
    }
  })
  onCleanup(() => {
    if (element !== undefined) element.srcObject = null
  })
  return (
    <figure class="tile" classList={{ "audio-only": !hasVideo() }}>
      <Show when={hasVideo()} fallback={<audio ref={(e) => (element = e)} autoplay muted={props.muted} />}>
        <video ref={(e) => (element = e)} autoplay playsinline muted={props.muted} data-testid="video" />
      </Show>
      <figcaption>{props.label}</figcaption>
    </figure>
  )
}

const natives = (session: Session, tracks: ReadonlyArray<LocalTrack | RemoteTrack>): ReadonlyArray<MediaStreamTrack> =>
  tracks.flatMap((t) => {
    const n = session.nativeTrack(t)
    return n === undefined ? [] : [n]
  })

const live = (call: Call | undefined): call is Call => call !== undefined && call.endedAt === undefined

export const CallPanel = (props: {
  readonly session: Session
  readonly calls: CallsView
  /** Whether other sessions' logins are claims (file form): every name in the call is tagged. */
  readonly identities: PeerView["identities"]
}) => {
  const calls = props.session.calls
  /** The ended call the user closed the summary of. */
  const [dismissed, setDismissed] = createSignal<string | undefined>()
  const call = () => (props.calls.call?.id === dismissed() ? undefined : props.calls.call)
  const incomingRinging = () => call()?.direction === "incoming" && call()?.phase === "ringing" && call()?.joined === false
  const remoteByPeer = createMemo(() => {
    const groups = new Map<string, { peer: PeerId; tracks: Array<RemoteTrack> }>()
    for (const t of props.calls.remote) {
      const g = groups.get(peerKey(t.peer)) ?? { peer: t.peer, tracks: [] }
      g.tracks.push(t)
      groups.set(peerKey(t.peer), g)
    }
    return [...groups.values()]
  })
  const localVideo = () => props.calls.local.filter((t) => t.kind === "video")
  const others = () => (call()?.legs ?? []).map((l) => l.peer.username).join(", ")

  return (
    <Show when={call()}>
      {(c) => (
        <section class="call" data-testid="call" data-phase={c().phase}>
          <Show
            when={live(c())}
            fallback={
              <p class="row spread muted">
                <span>
                  {c().media === "video" ? "Video" : "Audio"} call with {others()} ended{c().reason !== undefined ? `: ${c().reason}` : ""}.
                </span>
                <button class="link" data-testid="dismiss-call" onClick={() => setDismissed(c().id)}>
                  Close
                </button>
              </p>
            }
          >
            <header class="row spread">
              <strong>
                {c().media === "video" ? "Video" : "Audio"} call {c().direction === "incoming" ? `from ${c().initiator.username}` : `with ${others()}`}
              </strong>
              <Unverified identities={props.identities} />
              <span class="muted small">
                <For each={c().legs}>{(l) => <span class="leg">{`${l.peer.username}: ${LEG_TEXT[l.state]}${l.media.micMuted ? " (muted)" : ""} `}</span>}</For>
              </span>
            </header>
            <Show when={incomingRinging()}>
              <div class="row ringing">
                <span>
                  {c().initiator.username} is calling you ({c().media}).
                </span>
                <Unverified identities={props.identities} />
                <button class="primary" data-testid="accept" onClick={() => void run(calls.accept)}>
                  Accept
                </button>
                <button class="danger" data-testid="reject" onClick={() => void run(calls.reject)}>
                  Decline
                </button>
              </div>
            </Show>
            <div class="tiles">
              <For each={remoteByPeer()}>{(g) => <Media tracks={natives(props.session, g.tracks)} muted={false} label={claimedName(g.peer.username, props.identities)} />}</For>
              <Show when={localVideo().length > 0}>
                <Media tracks={natives(props.session, localVideo())} muted={true} label="you" />
              </Show>
            </div>
            <Show when={c().joined}>
              <div class="row controls">
                <button data-testid="mute" onClick={() => void run(calls.setMicMuted(!c().local.micMuted))}>
                  {c().local.micMuted ? "Unmute" : "Mute"}
                </button>
                <Show when={c().media === "video"}>
                  <button data-testid="camera" onClick={() => void run(calls.setCameraOff(!c().local.cameraOff))}>
                    {c().local.cameraOff ? "Camera on" : "Camera off"}
                  </button>
                </Show>
                <button data-testid="screen" onClick={() => void run(calls.setScreenSharing(!c().local.screenSharing))}>
                  {c().local.screenSharing ? "Stop sharing" : "Share screen"}
                </button>
                <button class="danger" data-testid="hang-up" onClick={() => void run(calls.hangUp)}>
                  Hang up
                </button>
              </div>
            </Show>
          </Show>
        </section>
      )}
    </Show>
  )
}
