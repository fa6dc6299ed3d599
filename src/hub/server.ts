/** Serves a hub's fetch-style handler over node:http. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** Requests above this size are refused before buffering (GitHub's own cap is about 100 MB). */
export const MAX_REQUEST_BYTES = 150 * 1024 * 1024

const toRequest = async (req: IncomingMessage, origin: string): Promise<Request> => {
  const chunks: Array<Buffer> = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_REQUEST_BYTES) throw new Error("request too large")
    chunks.push(chunk as Buffer)
  }
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one)
  }
  const method = req.method ?? "GET"
  const body = method === "GET" || method === "HEAD" || chunks.length === 0 ? null : Buffer.concat(chunks)
  return new Request(new URL(req.url ?? "/", origin), { method, headers, body })
}

const write = async (res: ServerResponse, response: Response): Promise<void> => {
  const headers: Record<string, string> = {}
  response.headers.forEach((v, k) => {
    headers[k] = v
  })
  res.writeHead(response.status, headers)
  res.end(Buffer.from(await response.arrayBuffer()))
}

/** Listens on host:port (127.0.0.1, 0 = ephemeral) and answers with `hub.handle`. */
export const serveHub = async (
  hub: { readonly handle: (request: Request) => Promise<Response> },
  options: { port?: number; host?: string } = {}
): Promise<{ url: string; close: () => Promise<void> }> => {
  const host = options.host ?? "127.0.0.1"
  let origin = ""
  const server = createServer((req, res) => {
    toRequest(req, origin)
      .then((request) => hub.handle(request))
      .then((response) => write(res, response))
      .catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(400, { "content-type": "application/json; charset=utf-8" })
        res.end(JSON.stringify({ message: `Bad request: ${String(e)}`, documentation_url: "https://docs.github.com/rest" }))
      })
  })
  // Polling clients keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  origin = `http://${host}:${port}`
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
