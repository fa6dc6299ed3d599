/**
 * Base64 of UTF-8 bytes, browser-safe: `btoa` on raw text throws on anything outside
 * Latin-1 (any emoji), so text is encoded to bytes first and bytes are chunked into
 * `btoa` to keep the argument list bounded.
 */

/** Bytes per `String.fromCharCode` call: keeps the spread well under engines' argument limits. */
const CHUNK = 0x8000

const utf8Encoder = new TextEncoder()
// fatal: invalid UTF-8 is reported, not silently replaced.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })

/** Base64 of the UTF-8 bytes of `text`. */
export const encodeBase64Utf8 = (text: string): string => {
  const bytes = utf8Encoder.encode(text)
  let binary = ""
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  return btoa(binary)
}

/** The UTF-8 text of base64 `b64` (GitHub wraps it in newlines); throws on bad base64 or bad UTF-8. */
export const decodeBase64Utf8 = (b64: string): string => {
  const binary = atob(b64.replace(/\s+/g, ""))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return utf8Decoder.decode(bytes)
}
