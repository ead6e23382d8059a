/**
 * Images a user attaches to a prompt (`session::ImageAttachment` in
 * codetether-agent 4.5.7, used by `prompt_with_events_and_images`): a base64
 * `data:` URL and its MIME type. In memory only; once sent, an attachment is
 * saved in the session as an `image` content part (`url` = the data URL).
 *
 * Also the pure helpers around them: recognising an image format from its
 * first bytes ({@link detectType}), building a data URL, the user message
 * 4.5.7 appends (one `text` part, then one `image` part per attachment), and
 * splitting a data URL back into MIME type and base64 payload for providers.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { ImagePart, Message } from "./Message.ts"

/**
 * Wire shape (the HTTP API's): `{"data_url":…,"mime_type":…|null}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageAttachment = Schema.Struct({
  dataUrl: Schema.String,
  mimeType: Schema.NullOr(Schema.String)
}).pipe(Schema.encodeKeys({ dataUrl: "data_url", mimeType: "mime_type" }))

/**
 * An attached image. `dataUrl` should be a base64 `data:` URL; as in 4.5.7 it
 * is not validated here (the `Images` service only builds valid ones).
 *
 * @since 0.1.0
 * @category models
 */
export type ImageAttachment = typeof ImageAttachment.Type

/**
 * The image formats codetether attaches, by MIME type: PNG, JPEG, GIF, WebP
 * (the formats both the OpenAI and the Anthropic APIs accept).
 *
 * @since 0.1.0
 * @category constants
 */
export const SUPPORTED_MIME_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type SupportedMimeType = typeof SUPPORTED_MIME_TYPES[number]

/**
 * What the first bytes of a file say it is: a MIME type, a human label
 * (`"PNG image"`, `"PDF document"`, ...) and whether codetether can attach it.
 *
 * @since 0.1.0
 * @category models
 */
export interface DetectedType {
  readonly mimeType: string
  readonly label: string
  readonly supported: boolean
}

const ascii = (bytes: Uint8Array, start: number, text: string): boolean => {
  if (bytes.length < start + text.length) return false
  for (let i = 0; i < text.length; i++) {
    if (bytes[start + i] !== text.charCodeAt(i)) return false
  }
  return true
}

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)

const supported = (mimeType: SupportedMimeType, label: string): DetectedType => ({ mimeType, label, supported: true })
const other = (mimeType: string, label: string): DetectedType => ({ mimeType, label, supported: false })

const looksLikeText = (bytes: Uint8Array): boolean => {
  const n = Math.min(bytes.length, 512)
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false
  }
  return true
}

const isobmffBrand = (brand: string): DetectedType => {
  if (brand === "avif" || brand === "avis") return other("image/avif", "AVIF image")
  if (["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].includes(brand)) {
    return other("image/heic", "HEIC/HEIF image")
  }
  if (brand.startsWith("qt")) return other("video/quicktime", "QuickTime video")
  return other("video/mp4", `MP4 container (brand "${brand.trim()}")`)
}

/**
 * Recognises a file format from its first bytes (magic numbers), never from
 * the file name. Supported: PNG (`89 50 4E 47 0D 0A 1A 0A`), JPEG
 * (`FF D8 FF`), GIF (`GIF87a`/`GIF89a`), WebP (`RIFF` … `WEBP`). Other common
 * formats are named so an error can say what the file is (BMP, TIFF, ICO,
 * AVIF, HEIC, JPEG XL, PSD, SVG, PDF, ZIP, gzip, other RIFF data, text).
 * `undefined` for an empty input; `application/octet-stream` for anything
 * unrecognised. Needs at most the first 16 bytes, or 512 to tell text.
 *
 * @since 0.1.0
 * @category detection
 */
export const detectType = (bytes: Uint8Array): DetectedType | undefined => {
  if (bytes.length === 0) return undefined
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return supported("image/png", "PNG image")
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return supported("image/jpeg", "JPEG image")
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return supported("image/gif", "GIF image")
  if (ascii(bytes, 0, "RIFF") && bytes.length >= 12) {
    if (ascii(bytes, 8, "WEBP")) return supported("image/webp", "WebP image")
    const form = String.fromCharCode(...bytes.subarray(8, 12))
    return other("application/octet-stream", `RIFF ${JSON.stringify(form)} data (not WebP)`)
  }
  if (ascii(bytes, 0, "BM")) return other("image/bmp", "BMP image")
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return other("image/tiff", "TIFF image")
  }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return other("image/vnd.microsoft.icon", "ICO image")
  if (ascii(bytes, 4, "ftyp") && bytes.length >= 12) return isobmffBrand(String.fromCharCode(...bytes.subarray(8, 12)))
  if (startsWith(bytes, [0xff, 0x0a]) || (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c]) && ascii(bytes, 4, "JXL "))) {
    return other("image/jxl", "JPEG XL image")
  }
  if (ascii(bytes, 0, "8BPS")) return other("image/vnd.adobe.photoshop", "Photoshop document")
  if (ascii(bytes, 0, "%PDF-")) return other("application/pdf", "PDF document")
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return other("application/zip", "ZIP archive")
  if (startsWith(bytes, [0x1f, 0x8b])) return other("application/gzip", "gzip archive")
  if (looksLikeText(bytes)) {
    const head = new TextDecoder().decode(bytes.subarray(0, 512)).trimStart().toLowerCase()
    if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) {
      return other("image/svg+xml", "SVG image")
    }
    return other("text/plain", "text")
  }
  return other("application/octet-stream", "unrecognised binary data")
}

/**
 * `data:<mimeType>;base64,<base64>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dataUrl = (mimeType: string, base64: string): string => `data:${mimeType};base64,${base64}`

/**
 * An attachment from already base64-encoded bytes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromBase64 = (mimeType: string, base64: string): ImageAttachment => ({
  dataUrl: dataUrl(mimeType, base64),
  mimeType
})

/**
 * The `image` content part 4.5.7 saves for an attachment: `url` = the data
 * URL, `mime_type` as given.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toImagePart = (attachment: ImageAttachment): ImagePart => ({
  type: "image",
  url: attachment.dataUrl,
  mimeType: attachment.mimeType
})

/**
 * The user message a prompt appends (4.5.7 `prompt_with_events_and_images`,
 * BEHAVIOUR §6.2 step 6): one `text` part with `text` verbatim (even when
 * empty), followed by one `image` part per attachment, in order.
 *
 * @since 0.1.0
 * @category constructors
 */
export const userMessage = (text: string, images: ReadonlyArray<ImageAttachment> = []): Message => ({
  role: "user",
  content: [{ type: "text", text }, ...images.map(toImagePart)]
})

const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*?);base64,(.*)$/is

/**
 * Splits a base64 `data:` URL into its MIME type (lowercase, parameters
 * dropped; `null` when the URL names none) and base64 payload, for providers
 * that take images as `{media_type, data}` (Anthropic). `undefined` when `url`
 * is not a base64 data URL (e.g. an `https:` URL).
 *
 * @since 0.1.0
 * @category conversions
 */
export const parseDataUrl = (
  url: string
): { readonly mimeType: string | null; readonly base64: string } | undefined => {
  const m = DATA_URL.exec(url)
  if (m === null) return undefined
  const mimeType = m[1]!.trim().toLowerCase()
  return { mimeType: mimeType.length === 0 ? null : mimeType, base64: m[3]! }
}
