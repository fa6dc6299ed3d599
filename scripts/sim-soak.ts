/**
 * `npm run sim:soak -- --schedules N [--from S] [--peers P] [--minutes M]
 *   [--presence file|discussion|both] [--workers W] [--deadline SECONDS] [--json]`
 * Runs N seeded random fault schedules (seeds S..S+N-1, each in every presence form
 * asked for) in parallel child processes, and checks the targets of every run: no
 * message lost, none committed twice, none unseen, and no commit wait longer than
 * 10 minutes plus the time GitHub refused writes, not counting the time no running device
 * held the message (only devices that were off had it: nobody could commit it). A
 * schedule that does not finish within its deadline (real seconds) fails too: its worker
 * is killed and a fresh one takes the next schedule, so one runaway schedule cannot stall
 * the soak. For every failing schedule it prints the `npm run sim` command that reproduces
 * it. Exit code 1 when any schedule fails.
 */
import { fork } from "node:child_process"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { describeSchedule, randomSchedule, refusedMs } from "../src/sim/fault-schedule.js"
import type { SimReport } from "../src/sim/simulate.js"
import type { SoakAnswer, SoakJob } from "./sim-soak-worker.js"

/** The promise: every message committed within ten minutes (plus the time GitHub refused writes). */
const COMMIT_PROMISE_MS = 10 * 60_000
/**
 * Defaults that make 1,000 schedules per presence form practical on a 2-core machine:
 * four peers for 20 simulated minutes (faults from minute 3 to 14, then quiet).
 */
const DEFAULT_PEERS = 4
const DEFAULT_MINUTES = 20
/**
 * Real seconds one schedule may take before it counts as a runaway. The default
 * schedule takes about one CPU second; the margin covers a loaded machine.
 */
const DEFAULT_DEADLINE_S = 300
/** Most schedules one soak accepts. */
const MAX_SCHEDULES = 100_000

const fail = (message: string): never => {
  process.stderr.write(`sim:soak: ${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    schedules: { type: "string", default: "20" },
    from: { type: "string", default: "1" },
    peers: { type: "string", default: String(DEFAULT_PEERS) },
    minutes: { type: "string", default: String(DEFAULT_MINUTES) },
    presence: { type: "string", default: "both" },
    workers: { type: "string", default: String(Math.max(1, Math.min(2, availableParallelism()))) },
    deadline: { type: "string", default: String(DEFAULT_DEADLINE_S) },
    json: { type: "boolean", default: false }
  }
})
const int = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}
const schedules = int("schedules", values.schedules, 1, MAX_SCHEDULES)
const from = int("from", values.from, 0, 2 ** 31 - 1 - schedules)
const peers = int("peers", values.peers, 2, 50)
const minutes = int("minutes", values.minutes, 10, 24 * 60)
const workers = int("workers", values.workers, 1, 64)
const deadlineMs = int("deadline", values.deadline, 1, 24 * 3600) * 1000
const forms: ReadonlyArray<"file" | "discussion"> =
  values.presence === "both" ? ["file", "discussion"] : values.presence === "file" || values.presence === "discussion" ? [values.presence] : fail(`--presence must be file, discussion or both`)

const jobs: Array<SoakJob> = []
for (const presence of forms) for (let seed = from; seed < from + schedules; seed++) jobs.push({ seed, peers, minutes, presence })

/** The command that replays one schedule. */
const replay = (j: SoakJob) => `npm run sim -- --peers ${j.peers} --minutes ${j.minutes} --presence ${j.presence} --seed ${j.seed} --schedule random --json`

/** The longest commit wait, less the time no running device held the message. */
const heldWait = (r: SimReport): number => r.maxCommitLatencyHeldMs ?? r.maxCommitLatencyMs

/** What is wrong with one run, if anything. */
const problems = (j: SoakJob, r: SimReport): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (r.messagesLost > 0) out.push(`${r.messagesLost} lost`)
  if (r.duplicatesCommitted > 0) out.push(`${r.duplicatesCommitted} committed twice`)
  if (r.messagesUnseen > 0) out.push(`${r.messagesUnseen} unseen`)
  const allowed = COMMIT_PROMISE_MS + refusedMs(randomSchedule(j.seed, j.minutes))
  if (heldWait(r) > allowed) out.push(`commit wait ${(heldWait(r) / 1000).toFixed(0)} s while held by a running device > ${(allowed / 1000).toFixed(0)} s`)
  return out
}

interface FormTotals {
  schedules: number
  failing: number
  sent: number
  lost: number
  duplicates: number
  unseen: number
  maxCommitWaitMs: number
  maxCommitWaitHeldMs: number
  maxOverPromiseMs: number
  cpuMs: number
}
const totals = new Map<string, FormTotals>(
  forms.map((f) => [f, { schedules: 0, failing: 0, sent: 0, lost: 0, duplicates: 0, unseen: 0, maxCommitWaitMs: 0, maxCommitWaitHeldMs: 0, maxOverPromiseMs: Number.NEGATIVE_INFINITY, cpuMs: 0 }])
)
const failures: Array<{ readonly job: SoakJob; readonly problems: ReadonlyArray<string>; readonly command: string; readonly schedule: string }> = []
const startedAt = Date.now()

const workerPath = fileURLToPath(new URL("./sim-soak-worker.ts", import.meta.url))
let next = 0
let done = 0

/** Records one finished (or abandoned) schedule. */
const record = (answer: SoakAnswer) => {
  const t = totals.get(answer.job.presence)!
  t.schedules += 1
  done += 1
  const schedule = describeSchedule(randomSchedule(answer.job.seed, answer.job.minutes))
  if ("error" in answer) {
    t.failing += 1
    failures.push({ job: answer.job, problems: [`the run failed: ${answer.error.split("\n")[0]}`], command: replay(answer.job), schedule })
  } else {
    const r = answer.report
    t.sent += r.messagesSent
    t.lost += r.messagesLost
    t.duplicates += r.duplicatesCommitted
    t.unseen += r.messagesUnseen
    t.maxCommitWaitMs = Math.max(t.maxCommitWaitMs, r.maxCommitLatencyMs)
    t.maxCommitWaitHeldMs = Math.max(t.maxCommitWaitHeldMs, heldWait(r))
    t.maxOverPromiseMs = Math.max(t.maxOverPromiseMs, heldWait(r) - COMMIT_PROMISE_MS - refusedMs(randomSchedule(answer.job.seed, answer.job.minutes)))
    t.cpuMs += answer.cpuMs
    const wrong = problems(answer.job, r)
    if (wrong.length > 0) {
      t.failing += 1
      failures.push({ job: answer.job, problems: wrong, command: replay(answer.job), schedule })
    }
  }
  if (!values.json && process.stderr.isTTY) process.stderr.write(`\r${done}/${jobs.length} schedules, ${failures.length} failing`)
}

await new Promise<void>((resolve) => {
  let alive = 0
  /** One worker process; when it must be killed for a runaway schedule, another replaces it. */
  const startWorker = () => {
    alive += 1
    const child = fork(workerPath, [], { execArgv: ["--max-semi-space-size=128", "--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] })
    let current: SoakJob | undefined
    let timer: NodeJS.Timeout | undefined
    const give = () => {
      if (next < jobs.length) {
        current = jobs[next++]!
        const job = current
        timer = setTimeout(() => {
          current = undefined
          record({ job, error: `did not finish within ${deadlineMs / 1000} s of real time` })
          child.kill("SIGKILL")
          startWorker()
        }, deadlineMs)
        child.send(job)
      } else child.disconnect()
    }
    child.on("message", (answer: SoakAnswer) => {
      clearTimeout(timer)
      current = undefined
      record(answer)
      give()
    })
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      // A worker that dies of itself (out of memory, say) fails the schedule it held, and another takes its place.
      if (current !== undefined) {
        record({ job: current, error: `the worker exited (${signal ?? `code ${code}`})` })
        current = undefined
        startWorker()
      }
      alive -= 1
      if (alive === 0) resolve()
    })
    give()
  }
  for (let w = 0; w < Math.min(workers, jobs.length); w++) startWorker()
})
if (!values.json && process.stderr.isTTY) process.stderr.write("\n")
if (done < jobs.length) fail(`only ${done} of ${jobs.length} schedules ran`)

failures.sort((a, b) => a.job.presence.localeCompare(b.job.presence) || a.job.seed - b.job.seed)
const wallMs = Date.now() - startedAt
const summary = {
  schedules,
  from,
  peers,
  minutes,
  workers,
  wallSeconds: Math.round(wallMs / 1000),
  forms: Object.fromEntries(
    Array.from(totals, ([form, t]) => [
      form,
      { ...t, maxOverPromiseMs: t.schedules === 0 ? 0 : t.maxOverPromiseMs, cpuSecondsPerSchedule: Math.round(t.cpuMs / Math.max(1, t.schedules)) / 1000 }
    ])
  ),
  failures
}
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
else {
  const lines = [`${schedules} schedules per form (seeds ${from}..${from + schedules - 1}), ${peers} peers, ${minutes} simulated minutes, ${workers} workers, ${summary.wallSeconds} s`]
  for (const [form, t] of totals) {
    lines.push(
      `${form}: ${t.schedules - t.failing}/${t.schedules} pass; ${t.sent} sent, ${t.lost} lost, ${t.duplicates} committed twice, ${t.unseen} unseen; longest commit wait ${(t.maxCommitWaitMs / 1000).toFixed(1)} s (${(t.maxCommitWaitHeldMs / 1000).toFixed(1)} s while held by a running device); ${(t.cpuMs / Math.max(1, t.schedules) / 1000).toFixed(2)} CPU s per schedule`
    )
  }
  for (const f of failures) lines.push(`FAIL ${f.job.presence} seed ${f.job.seed}: ${f.problems.join(", ")}\n  ${f.command}\n  schedule: ${f.schedule}`)
  process.stdout.write(`${lines.join("\n")}\n`)
}
process.exit(failures.length > 0 ? 1 : 0)
