/**
 * `npm run sim -- --peers N --minutes M --presence file|discussion --seed S
 *   [--history H] [--faults crash,partition,conflict,ratelimit] [--schedule random] [--stale N]
 *   [--github memory|hub [--hub-fault NAME[:ARG]]...] [--json]`
 * `--schedule random` adds the seed's random fault schedule (what `npm run sim:soak` runs);
 * `--stale N` leaves N sessions of crashed tabs in presence before anyone comes.
 * Runs a whole mesh in virtual time and prints its figures. `--github hub` runs the real
 * GitHub adapters (Octokit) against an in-process hub instead of the in-memory GitHub.
 */
import { parseArgs } from "node:util"
import { runHubSimulation } from "../src/sim/hub-backend.js"
import { parseFault } from "../src/hub/index.js"
import { simulate, simulationLimitMs, type Fault, type SimOptions, type SimReport } from "../src/sim/simulate.js"
import { runVirtualOrThrow } from "../src/sim/virtual-time.js"
import { describeSchedule, randomSchedule } from "../src/sim/fault-schedule.js"
import { MAX_PRESENCE_ENTRIES } from "../src/domain/presence-doc.js"

const FAULTS: ReadonlyArray<Fault> = ["crash", "partition", "conflict", "ratelimit"]

const fail = (message: string): never => {
  process.stderr.write(`sim: ${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    peers: { type: "string", default: "10" },
    minutes: { type: "string", default: "60" },
    presence: { type: "string", default: "file" },
    seed: { type: "string", default: "1" },
    history: { type: "string", default: "0" },
    faults: { type: "string", default: "" },
    github: { type: "string", default: "memory" },
    schedule: { type: "string", default: "none" },
    stale: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
    "hub-fault": { type: "string", multiple: true }
  }
})

const int = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}
const presence = values.presence === "file" || values.presence === "discussion" ? values.presence : fail(`--presence must be file or discussion`)
const faults = values.faults === "" ? [] : values.faults.split(",").map((f) => (FAULTS.includes(f as Fault) ? (f as Fault) : fail(`unknown fault "${f}" (known: ${FAULTS.join(", ")})`)))

const github = values.github === "memory" || values.github === "hub" ? values.github : fail(`--github must be memory or hub`)
// Real-GitHub behaviours of the hub (src/hub/github-faults.ts), e.g. --hub-fault stale-reads:2000 --hub-fault branch-moves.
const hubFaults = values["hub-fault"] ?? []
for (const f of hubFaults) {
  try {
    parseFault(f)
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e))
  }
}
if (hubFaults.length > 0 && github !== "hub") fail("--hub-fault needs --github hub")

const scheduled = values.schedule === "random" ? true : values.schedule === "none" ? false : fail(`--schedule must be random or none`)
const options: SimOptions = {
  peers: int("peers", values.peers, 1, 500),
  minutes: int("minutes", values.minutes, 1, 24 * 60),
  presence,
  seed: int("seed", values.seed, 0, 2 ** 31 - 1),
  history: int("history", values.history, 0, 10_000_000),
  faults,
  stale: int("stale", values.stale, 0, MAX_PRESENCE_ENTRIES / 2)
}
const withSchedule: SimOptions = scheduled ? { ...options, schedule: randomSchedule(options.seed, options.minutes) } : options
if (github === "hub") {
  // These faults are scripted on the in-memory GitHub; the hub has its own fault book.
  const unsupported = faults.filter((f) => f === "conflict" || f === "ratelimit")
  if (unsupported.length > 0) fail(`--faults ${unsupported.join(",")} is not available with --github hub (crash and partition are)`)
  if (options.history > 0) fail(`--history is not available with --github hub`)
  if (scheduled || (options.stale ?? 0) > 0) fail(`--schedule and --stale are scripted on the in-memory GitHub: not available with --github hub`)
}

const report: SimReport & { readonly hub?: Awaited<ReturnType<typeof runHubSimulation>>["hub"] } =
  github === "hub" ? await runHubSimulation(options, hubFaults) : runVirtualOrThrow(simulate(withSchedule), { limitMs: simulationLimitMs(options.minutes) })

if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`)
} else {
  const r = report
  process.stdout.write(
    [
      `${r.peers} peers, ${r.minutes} simulated minutes, ${r.presence} presence, seed ${r.seed}`,
      `messages: ${r.messagesSent} sent, ${r.messagesCommitted} committed, ${r.messagesLost} lost, ${r.duplicatesCommitted} duplicated, ${r.messagesUnseen} unseen`,
      ...(withSchedule.schedule === undefined ? [] : [`schedule: ${describeSchedule(withSchedule.schedule)}`]),
      `longest wait for a commit: ${(r.maxCommitLatencyMs / 1000).toFixed(1)} s`,
      `leaders: ${r.leaderChanges} changes, at most ${r.maxSimultaneousLeaders} at once`,
      `GitHub: ${r.github.requests} requests (+${r.github.notModified} free 304s), ${r.github.writes} writes, ${r.github.conflicts} conflicts, ${r.github.rateLimited} rate-limited`,
      `per peer per hour: ${r.perPeerPerHour.requests} requests, ${r.perPeerPerHour.writes} writes; repository writes per hour: ${r.repoWritesPerHour}`,
      `discovery: p50 ${r.discoveryMs.p50} ms, p99 ${r.discoveryMs.p99} ms; full mesh: p50 ${r.fullMeshMs.p50} ms, p99 ${r.fullMeshMs.p99} ms`,
      `commit size: p50 ${r.commitBytes.p50} B, max ${r.commitBytes.max} B`,
      ...(r.hub === undefined
        ? []
        : [
            `hub: ${r.hub.commits.skygit} commits on ${"skygit"} (${r.hub.commits.presence} presence, ${r.hub.commits.conversations} conversations), ${r.hub.commits.defaultBranch} on the default branch, ${r.hub.commitsWithoutSkipCi} without [skip ci]`,
            `hub: busiest user ${r.hub.maxUserRequestsPerHour} requests/h; ${r.hub.secondaryLimitHits} secondary and ${r.hub.primaryLimitHits} primary limit hits; ${r.hub.casConflicts} compare-and-swap conflicts`,
            `hub: Discussion ${r.hub.discussion.discussionsCreated} created, ${r.hub.discussion.commentsAdded} comments added, ${r.hub.discussion.commentEdits} edits (busiest user ${r.hub.discussion.maxCommentEditsPerUserPerHour}/h)`
          ]),
      ""
    ].join("\n")
  )
}
