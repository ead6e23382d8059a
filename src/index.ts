/**
 * codetether: persistent AI coding-agent sessions on Effect, compatible with
 * codetether-agent 4.5.7 session files.
 *
 * Every module is exported as a namespace:
 * `import { SessionStore, SessionLoop, Codetether } from "codetether"`, then
 * `SessionStore.SessionStore` (the service), `SessionStore.layerFileSystem`,
 * `Codetether.layer` (every service, ready to provide), ...
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as A2A from "../services/A2A.ts"
/** @since 0.1.0 */
export * as A2ATaskStore from "../services/A2ATaskStore.ts"
/** @since 0.1.0 */
export * as ClaudeImport from "../services/ClaudeImport.ts"
/** @since 0.1.0 */
export * as ClaudeTranscript from "../schemas/ClaudeTranscript.ts"
/** @since 0.1.0 */
export * as Codetether from "./Codetether.ts"
/** @since 0.1.0 */
export * as CodetetherConfig from "../services/CodetetherConfig.ts"
/** @since 0.1.0 */
export * as Compaction from "../schemas/Compaction.ts"
/** @since 0.1.0 */
export * as CodexImport from "../services/CodexImport.ts"
/** @since 0.1.0 */
export * as CodexRollout from "../schemas/CodexRollout.ts"
/** @since 0.1.0 */
export * as DataDir from "../services/DataDir.ts"
/** @since 0.1.0 */
export * as DurableSink from "../services/DurableSink.ts"
/** @since 0.1.0 */
export * as EventStream from "../services/EventStream.ts"
/** @since 0.1.0 */
export * as ImageAttachment from "../schemas/ImageAttachment.ts"
/** @since 0.1.0 */
export * as Images from "../services/Images.ts"
/** @since 0.1.0 */
export * as Message from "../schemas/Message.ts"
/** @since 0.1.0 */
export * as Pricing from "../schemas/Pricing.ts"
/** @since 0.1.0 */
export * as PromptRunner from "../services/PromptRunner.ts"
/** @since 0.1.0 */
export * as Provenance from "../schemas/Provenance.ts"
/** @since 0.1.0 */
export * as Provider from "../schemas/Provider.ts"
/** @since 0.1.0 */
export * as ProviderRegistry from "../services/ProviderRegistry.ts"
/** @since 0.1.0 */
export * as ProviderTrust from "../services/ProviderTrust.ts"
/** @since 0.1.0 */
export * as Redaction from "../schemas/Redaction.ts"
/** @since 0.1.0 */
export * as Redactor from "../services/Redactor.ts"
/** @since 0.1.0 */
export * as RlmConfig from "../schemas/RlmConfig.ts"
/** @since 0.1.0 */
export * as RustJson from "../schemas/RustJson.ts"
/** @since 0.1.0 */
export * as Server from "./Server.ts"
/** @since 0.1.0 */
export * as ServerApi from "../schemas/ServerApi.ts"
/** @since 0.1.0 */
export * as ServerToken from "../services/ServerToken.ts"
/** @since 0.1.0 */
export * as Session from "../schemas/Session.ts"
/** @since 0.1.0 */
export * as SessionBus from "../services/SessionBus.ts"
/** @since 0.1.0 */
export * as SessionCost from "../services/SessionCost.ts"
/** @since 0.1.0 */
export * as SessionEvent from "../schemas/SessionEvent.ts"
/** @since 0.1.0 */
export * as SessionExport from "../services/SessionExport.ts"
/** @since 0.1.0 */
export * as SessionFork from "../services/SessionFork.ts"
/** @since 0.1.0 */
export * as SessionEvents from "../services/SessionEvents.ts"
/** @since 0.1.0 */
export * as SessionJson from "../schemas/SessionJson.ts"
/** @since 0.1.0 */
export * as SessionLoop from "../services/SessionLoop.ts"
/** @since 0.1.0 */
export * as SessionMetadata from "../schemas/SessionMetadata.ts"
/** @since 0.1.0 */
export * as SessionSearch from "../services/SessionSearch.ts"
/** @since 0.1.0 */
export * as SessionStore from "../services/SessionStore.ts"
/** @since 0.1.0 */
export * as SessionSummary from "../schemas/SessionSummary.ts"
/** @since 0.1.0 */
export * as SystemPrompt from "../services/SystemPrompt.ts"
/** @since 0.1.0 */
export * as Timestamp from "../schemas/Timestamp.ts"
/** @since 0.1.0 */
export * as Tool from "../schemas/Tool.ts"
/** @since 0.1.0 */
export * as ToolMarkup from "../schemas/ToolMarkup.ts"
/** @since 0.1.0 */
export * as ToolRegistry from "../services/ToolRegistry.ts"
/** @since 0.1.0 */
export * as ToolUse from "../schemas/ToolUse.ts"
/** @since 0.1.0 */
export * as Usage from "../schemas/Usage.ts"
/** @since 0.1.0 */
export * as WebPage from "./WebPage.ts"
/** @since 0.1.0 */
export * as WorkspaceIndex from "../schemas/WorkspaceIndex.ts"
