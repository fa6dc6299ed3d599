/**
 * A soak worker: a child process of `npm run sim:soak` that runs one schedule after
 * another as its parent sends them (one tsx start per worker, not per schedule) and
 * answers each with its report.
 */
import { randomSchedule } from "../src/sim/fault-schedule.js"
import { simulate, simulationLimitMs, type SimReport } from "../src/sim/simulate.js"
import { runVirtualOrThrow } from "../src/sim/virtual-time.js"

/** One schedule to run. */
export interface SoakJob {
  readonly seed: number
  readonly peers: number
  readonly minutes: number
  readonly presence: "file" | "discussion"
}

/** A worker's answer: the report, or why the run failed. */
export type SoakAnswer = { readonly job: SoakJob; readonly report: SimReport; readonly cpuMs: number } | { readonly job: SoakJob; readonly error: string }

process.on("message", (job: SoakJob) => {
  const started = process.cpuUsage()
  let answer: SoakAnswer
  try {
    const report = runVirtualOrThrow(
      simulate({ peers: job.peers, minutes: job.minutes, presence: job.presence, seed: job.seed, history: 0, faults: [], schedule: randomSchedule(job.seed, job.minutes) }),
      { limitMs: simulationLimitMs(job.minutes) }
    )
    const used = process.cpuUsage(started)
    answer = { job, report, cpuMs: Math.round((used.user + used.system) / 1000) }
  } catch (e) {
    answer = { job, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }
  }
  process.send!(answer)
})
