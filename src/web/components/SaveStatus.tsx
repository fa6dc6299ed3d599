/**
 * The status of saving: how many messages this device holds that are not saved to the
 * repository yet, and "Save now": a leader commits at once, a member asks the leader to.
 */
import { createSignal, Show } from "solid-js"
import type { PeerHandle } from "../../app/peer.js"
import type { PeerView } from "../../app/peer-state.js"
import { run } from "../bridge.js"
import { waitingText } from "../page-exit.js"

export const SaveStatus = (props: {
  readonly view: PeerView
  readonly peer: Pick<PeerHandle, "saveNow">
  /** Messages nobody else holds that would wait on this device if the page closed now. */
  readonly wouldWait: number
}) => {
  const [busy, setBusy] = createSignal(false)
  const [said, setSaid] = createSignal<string | undefined>()
  const save = async () => {
    setBusy(true)
    try {
      const outcome = await run(props.peer.saveNow)
      setSaid(
        outcome._tag === "committed"
          ? `Saved ${outcome.report.committed.length} message${outcome.report.committed.length === 1 ? "" : "s"}.`
          : outcome._tag === "asked"
            ? `Asked ${outcome.leader.username} (the leader) to save now.`
            : "No leader can be reached to save now; messages stay on this device until one can."
      )
    } catch (e) {
      setSaid(`Could not save: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="save-status row small" data-testid="save-status" aria-live="polite">
      <Show when={props.view.waiting > 0} fallback={<span class="muted">All messages saved to the repository.</span>}>
        <span data-testid="waiting" data-count={props.view.waiting}>
          {props.view.waiting} message{props.view.waiting === 1 ? "" : "s"} waiting to be saved
        </span>
        <button class="link" data-testid="save-now" disabled={busy()} onClick={() => void save()}>
          {busy() ? "Saving…" : "Save now"}
        </button>
      </Show>
      <Show when={props.wouldWait > 0}>
        <span class="warn" data-testid="would-wait" data-count={props.wouldWait}>
          {waitingText(props.wouldWait)}
        </span>
      </Show>
      <Show when={said()}>{(s) => <span class="muted" data-testid="save-outcome">{s()}</span>}</Show>
    </div>
  )
}
