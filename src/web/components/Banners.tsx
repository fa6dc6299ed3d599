/** Plain-language notices: GitHub slowing us down, history not being saved, the presence channel failing, call problems. */
import { createSignal, onCleanup, Show } from "solid-js"
import type { CallsView } from "../../app/calls.js"
import type { PeerView } from "../../app/peer-state.js"

const clock = (at: number): string => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })

export const Banners = (props: { readonly view: PeerView; readonly calls: CallsView }) => {
  const [now, setNow] = createSignal(Date.now())
  const timer = setInterval(() => setNow(Date.now()), 1_000)
  onCleanup(() => clearInterval(timer))
  const rate = () => {
    const n = props.view.rateNotice
    return n !== undefined && n.until > now() ? n : undefined
  }
  return (
    <div class="banners">
      <Show when={rate()}>
        {(n) => (
          <p class="banner warn" data-testid="rate-notice">
            GitHub is limiting how fast we may use it ({n().limit === "primary" ? "hourly request budget used up" : "too many writes in a short time"}). Finding new
            people and saving history are paused until {clock(n().until)}; chat with people already connected keeps working.
            <span class="muted small"> {n().detail}</span>
          </p>
        )}
      </Show>
      <Show when={props.view.historyNotice}>
        {(n) => (
          <p class="banner warn" data-testid="history-notice">
            {n()}
          </p>
        )}
      </Show>
      <Show when={props.view.presenceProblem}>
        {(p) => (
          <p class="banner error" data-testid="presence-problem">
            People who are not connected yet may not find you. {p()}
          </p>
        )}
      </Show>
      <Show when={Object.keys(props.view.refused).length > 0}>
        <p class="banner info small" data-testid="refused-counts">
          Refused from others: {Object.entries(props.view.refused).map(([kind, n]) => `${kind} ${n}`).join(", ")}
        </p>
      </Show>
      <Show when={props.calls.call !== undefined && props.calls.call.endedAt === undefined && props.calls.problems.at(-1)}>
        {(p) => <p class="banner info">Call: {p()}</p>}
      </Show>
    </div>
  )
}
