/**
 * Images: reading `--image` files into base64 data-URL attachments, and the
 * pure ImageAttachment helpers the prompt path uses.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Result, Schema } from "effect"
import * as ImageAttachment from "../../schemas/ImageAttachment.ts"
import * as Session from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as Images from "../../services/Images.ts"
import * as TempDir from "../utils/TempDir.ts"

const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number>>): Uint8Array =>
  Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part))))

const samples = {
  png: bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
  jpeg: bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], "JFIF", [0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]),
  gif: bytes("GIF89a", [1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x3b]),
  webp: bytes("RIFF", [26, 0, 0, 0], "WEBPVP8L", [13, 0, 0, 0, 0x2f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
} as const

const read = (path: string) => Effect.flatMap(Images.Images, (images) => images.read(path))

const failure = (exit: Exit.Exit<unknown, Images.ImagesError>): Images.ImagesError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error("expected a typed failure")
  return reason.error
}

const write = (dir: string, name: string, content: Uint8Array): string => {
  const path = NodePath.join(dir, name)
  NodeFs.writeFileSync(path, content)
  return path
}

describe("Images.read", () => {
  for (const [kind, mimeType] of [
    ["png", "image/png"],
    ["jpeg", "image/jpeg"],
    ["gif", "image/gif"],
    ["webp", "image/webp"]
  ] as const) {
    it.effect(`accepts ${kind} and returns a base64 data URL that decodes to the file's bytes`, () =>
      Effect.gen(function*() {
        const dir = yield* TempDir.make()
        const content = samples[kind]
        const attachment = yield* read(write(dir, `picture.${kind}`, content))
        expect(attachment.mimeType).toBe(mimeType)
        const parsed = ImageAttachment.parseDataUrl(attachment.dataUrl)
        expect(parsed?.mimeType).toBe(mimeType)
        expect(attachment.dataUrl.startsWith(`data:${mimeType};base64,`)).toBe(true)
        expect(new Uint8Array(Buffer.from(parsed!.base64, "base64"))).toEqual(new Uint8Array(content))
      }).pipe(Effect.provide(Images.layer)))
  }

  it.effect("takes the type from the bytes, not the file name", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const attachment = yield* read(write(dir, "actually-a-jpeg.png", samples.jpeg))
      expect(attachment.mimeType).toBe("image/jpeg")
    }).pipe(Effect.provide(Images.layer)))

  it.effect("refuses other types, naming the file and the detected type", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const cases = [
        ["scan.bmp", bytes("BM", [0x46, 0, 0, 0, 0, 0, 0, 0]), "BMP image (image/bmp)"],
        ["doc.png", bytes("%PDF-1.7\n%\xe2\xe3"), "PDF document (application/pdf)"],
        ["notes.jpg", bytes("just some notes\n"), "text (text/plain)"],
        ["icon.svg", bytes(`<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>`), "SVG image (image/svg+xml)"],
        ["photo.heic", bytes([0, 0, 0, 24], "ftypheic", [0, 0, 0, 0], "mif1heic"), "HEIC/HEIF image (image/heic)"],
        ["sound.webp", bytes("RIFF", [4, 0, 0, 0], "WAVEfmt "), `RIFF "WAVE" data (not WebP)`],
        ["blob.png", bytes([0x00, 0x01, 0x02, 0x03, 0xfe]), "unrecognised binary data (application/octet-stream)"]
      ] as const
      for (const [name, content, detected] of cases) {
        const path = write(dir, name, content)
        const error = failure(yield* Effect.exit(read(path)))
        expect(error.reason).toBe("UnsupportedType")
        expect(error.path).toBe(path)
        expect(error.message).toContain(path)
        expect(error.message).toContain(`detected type is ${detected}`)
        expect(error.message).toContain("PNG, JPEG, GIF and WebP")
      }
    }).pipe(Effect.provide(Images.layer)))

  it.effect("refuses an empty file", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const path = write(dir, "empty.png", new Uint8Array(0))
      const error = failure(yield* Effect.exit(read(path)))
      expect(error.reason).toBe("UnsupportedType")
      expect(error.message).toContain(`${path}: the file is empty`)
    }).pipe(Effect.provide(Images.layer)))

  it.effect("refuses a file over 20 MiB before reading it, stating its size; exactly 20 MiB is accepted", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const big = write(dir, "big.png", samples.png)
      NodeFs.truncateSync(big, Images.MAX_IMAGE_BYTES + 1)
      const error = failure(yield* Effect.exit(read(big)))
      expect(error.reason).toBe("TooLarge")
      expect(error.size).toBe(20 * 1024 * 1024 + 1)
      expect(error.message).toContain(big)
      expect(error.message).toContain("20.0 MiB (20971521 bytes)")
      expect(error.message).toContain("the limit is 20.0 MiB (20971520 bytes)")

      const limit = write(dir, "limit.png", samples.png)
      NodeFs.truncateSync(limit, Images.MAX_IMAGE_BYTES)
      const attachment = yield* read(limit)
      expect(attachment.mimeType).toBe("image/png")
      expect(Buffer.from(ImageAttachment.parseDataUrl(attachment.dataUrl)!.base64, "base64").length).toBe(
        Images.MAX_IMAGE_BYTES
      )
    }).pipe(Effect.provide(Images.layer)))

  it.effect("reports a missing file and a directory", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const missing = NodePath.join(dir, "nope.png")
      const notFound = failure(yield* Effect.exit(read(missing)))
      expect(notFound.reason).toBe("NotFound")
      expect(notFound.message).toBe(`Image file not found: ${missing}`)
      const directory = failure(yield* Effect.exit(read(dir)))
      expect(directory.reason).toBe("NotAFile")
      expect(directory.message).toBe(`Cannot attach ${dir}: it is a directory`)
    }).pipe(Effect.provide(Images.layer)))
})

describe("ImageAttachment helpers", () => {
  const attachment = ImageAttachment.fromBase64("image/png", "iVBORw0KGgo=")

  it("builds the 4.5.7 user message: one text part, then one image part per attachment", () => {
    const second = ImageAttachment.fromBase64("image/gif", "R0lGODlh")
    const message = ImageAttachment.userMessage("What is in these?", [attachment, second])
    expect(message).toEqual({
      role: "user",
      content: [
        { type: "text", text: "What is in these?" },
        { type: "image", url: "data:image/png;base64,iVBORw0KGgo=", mimeType: "image/png" },
        { type: "image", url: "data:image/gif;base64,R0lGODlh", mimeType: "image/gif" }
      ]
    })
    expect(ImageAttachment.userMessage("")).toEqual({ role: "user", content: [{ type: "text", text: "" }] })
  })

  it("is saved in the session as a 4.5.7 image part", () => {
    const session = Session.addMessage(
      Session.make({
        id: "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b",
        now: Timestamp.fromEpochNanos(0n),
        directory: "/w",
        provenanceUuid: "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
      }),
      ImageAttachment.userMessage("look", [attachment]),
      Timestamp.fromEpochNanos(1n)
    )
    const json = SessionJson.encodeToString(session)
    expect(json).toContain(
      `"content":[{"type":"text","text":"look"},{"type":"image","url":"data:image/png;base64,iVBORw0KGgo=","mime_type":"image/png"}]`
    )
    expect(Result.getOrThrow(SessionJson.decode(json)).messages[0]).toEqual(session.messages[0])
  })

  it("parses data URLs and rejects other URLs", () => {
    expect(ImageAttachment.parseDataUrl("data:image/PNG;base64,AAAA")).toEqual({ mimeType: "image/png", base64: "AAAA" })
    expect(ImageAttachment.parseDataUrl("data:image/webp;name=x.webp;base64,QUJD")).toEqual({
      mimeType: "image/webp",
      base64: "QUJD"
    })
    expect(ImageAttachment.parseDataUrl("data:;base64,QUJD")).toEqual({ mimeType: null, base64: "QUJD" })
    expect(ImageAttachment.parseDataUrl("https://example.com/a.png")).toBeUndefined()
    expect(ImageAttachment.parseDataUrl("data:text/plain,hello")).toBeUndefined()
  })

  it("encodes the wire shape with snake_case keys", () => {
    expect(Schema.encodeSync(ImageAttachment.ImageAttachment)(attachment)).toEqual({
      data_url: "data:image/png;base64,iVBORw0KGgo=",
      mime_type: "image/png"
    })
    expect(Schema.decodeUnknownSync(ImageAttachment.ImageAttachment)({ data_url: "data:,x", mime_type: null })).toEqual({
      dataUrl: "data:,x",
      mimeType: null
    })
  })
})
