/** Scripted faults: rules matched by method and path, consumed in the order they were injected. */

/** What a matching request gets: a canned response, or a delay before normal handling. */
export type FaultAction =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | { readonly delayMs: number }

/** One scripted fault; `method: "graphql"` matches `POST /graphql`. `times` defaults to 1. */
export interface FaultRule {
  readonly method?: string
  readonly path?: RegExp
  readonly times?: number
  readonly respond: FaultAction
}

/** The rule book: inject, consume, clear. */
export interface FaultBook {
  readonly inject: (rule: FaultRule) => void
  /** The action of the first rule matching this request, consuming one use of it. */
  readonly take: (method: string, path: string) => FaultAction | undefined
  readonly clear: () => void
}

/** An empty rule book. */
export const faultBook = (): FaultBook => {
  const rules: Array<{ rule: FaultRule; left: number }> = []
  const matches = (rule: FaultRule, method: string, path: string): boolean => {
    const m = rule.method?.toUpperCase()
    if (m === "GRAPHQL") return method === "POST" && path === "/graphql"
    return (m === undefined || m === method) && (rule.path === undefined || rule.path.test(path))
  }
  return {
    inject: (rule) => {
      rules.push({ rule, left: rule.times ?? 1 })
    },
    take: (method, path) => {
      const i = rules.findIndex((r) => r.left > 0 && matches(r.rule, method, path))
      if (i < 0) return undefined
      const r = rules[i]!
      r.left--
      if (r.left <= 0) rules.splice(i, 1)
      return r.rule.respond
    },
    clear: () => {
      rules.length = 0
    }
  }
}

const FAULT_MESSAGES: Readonly<Record<number, string>> = {
  403: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  409: "Conflict",
  422: "Validation Failed",
  429: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  500: "Server Error",
  502: "Server Error",
  503: "Service Unavailable"
}

/** The body a canned fault answers when the rule gives none: GitHub's error shape. */
export const defaultFaultBody = (status: number): unknown => ({
  message: FAULT_MESSAGES[status] ?? "Injected fault",
  documentation_url: "https://docs.github.com/rest",
  status: String(status)
})
