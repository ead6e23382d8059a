/**
 * Reads image files into {@link ImageAttachment.ImageAttachment}s for
 * `codetether run --image FILE` (4.5.7 `prompt_with_events_and_images` takes
 * images as base64 data URLs).
 *
 * The format comes from the file's first bytes, never its name: PNG, JPEG,
 * GIF and WebP are accepted; anything else is an error naming the file and
 * what it was detected as. Files over {@link MAX_IMAGE_BYTES} are refused
 * before being read.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as ImageAttachment from "../schemas/ImageAttachment.ts"

/**
 * Largest image accepted: 20 MiB (20,971,520 bytes), the per-image limit of
 * the OpenAI API.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024

/**
 * Why an image could not be attached:
 * - `NotFound`: no file at that path;
 * - `NotAFile`: the path is a directory or another non-regular file;
 * - `UnsupportedType`: the bytes are not PNG, JPEG, GIF or WebP (the message
 *   says what they were detected as, and `mimeType` holds it);
 * - `TooLarge`: over {@link MAX_IMAGE_BYTES} (`size` holds the size in bytes);
 * - `Io`: the file could not be read (permissions, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class ImagesError extends Schema.TaggedError<ImagesError>()("ImagesError", {
  reason: Schema.Literals(["NotFound", "NotAFile", "UnsupportedType", "TooLarge", "Io"]),
  message: Schema.String,
  path: Schema.String,
  mimeType: Schema.optional(Schema.String),
  size: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * @since 0.1.0
 * @category services
 */
export class Images extends Context.Service<Images, {
  /**
   * Reads the image at `path` (relative paths resolve against the process
   * cwd) and returns it as a base64 data URL with the MIME type its bytes
   * show (`image/png`, `image/jpeg`, `image/gif` or `image/webp`).
   *
   * Fails with `NotFound`, `NotAFile`, `TooLarge` (checked before reading),
   * `UnsupportedType` or `Io`; every message names the file.
   */
  readonly read: (path: string) => Effect.Effect<ImageAttachment.ImageAttachment, ImagesError>
}>()("codetether/Images") {}

const formatBytes = (bytes: number): string => {
  const mib = bytes / (1024 * 1024)
  return `${mib >= 10 ? mib.toFixed(1) : mib.toFixed(2)} MiB (${bytes} bytes)`
}

const ioError = (path: string, action: string) => (cause: unknown): ImagesError => {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  if (code === "ENOENT" || code === "ENOTDIR") {
    return new ImagesError({ reason: "NotFound", path, message: `Image file not found: ${path}` })
  }
  if (code === "EISDIR") {
    return new ImagesError({ reason: "NotAFile", path, message: `Cannot attach ${path}: it is a directory` })
  }
  const detail = (cause as Error | undefined)?.message ?? String(cause)
  return new ImagesError({ reason: "Io", path, message: `Cannot ${action} image ${path}: ${detail}`, cause })
}

const supportedList = "PNG, JPEG, GIF and WebP"

/**
 * Reads an image file; see {@link Images} `read`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const read = Effect.fn("Images.read")(function*(path: string) {
  const absolute = NodePath.resolve(path)
  const stat = yield* Effect.tryPromise({
    try: () => NodeFs.promises.stat(absolute),
    catch: ioError(path, "read")
  })
  if (stat.isDirectory()) {
    return yield* new ImagesError({ reason: "NotAFile", path, message: `Cannot attach ${path}: it is a directory` })
  }
  if (!stat.isFile()) {
    return yield* new ImagesError({
      reason: "NotAFile",
      path,
      message: `Cannot attach ${path}: it is not a regular file`
    })
  }
  if (stat.size > MAX_IMAGE_BYTES) {
    return yield* new ImagesError({
      reason: "TooLarge",
      path,
      size: stat.size,
      message: `Image ${path} is ${formatBytes(stat.size)}; the limit is ${formatBytes(MAX_IMAGE_BYTES)}`
    })
  }
  const bytes = yield* Effect.tryPromise({
    try: () => NodeFs.promises.readFile(absolute),
    catch: ioError(path, "read")
  })
  // The file may have grown between stat and read.
  if (bytes.length > MAX_IMAGE_BYTES) {
    return yield* new ImagesError({
      reason: "TooLarge",
      path,
      size: bytes.length,
      message: `Image ${path} is ${formatBytes(bytes.length)}; the limit is ${formatBytes(MAX_IMAGE_BYTES)}`
    })
  }
  const detected = ImageAttachment.detectType(bytes)
  if (detected === undefined) {
    return yield* new ImagesError({
      reason: "UnsupportedType",
      path,
      message: `Cannot attach ${path}: the file is empty; supported image types are ${supportedList}`
    })
  }
  if (!detected.supported) {
    return yield* new ImagesError({
      reason: "UnsupportedType",
      path,
      mimeType: detected.mimeType,
      message: `Cannot attach ${path}: detected type is ${detected.label} (${detected.mimeType}), ` +
        `not a supported image; supported image types are ${supportedList}`
    })
  }
  return ImageAttachment.fromBase64(detected.mimeType, bytes.toString("base64"))
})

/**
 * The live service, reading the local file system.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Images> = Layer.succeed(Images, Images.of({ read }))
