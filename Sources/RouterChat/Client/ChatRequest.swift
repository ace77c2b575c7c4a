public import RouterSDK
public import Foundation

/// One chat request in RouterSDK's unified form; each provider adapter encodes it in its own
/// wire format.
public struct ChatRequest: Sendable, Hashable {
    /// How the reply should be formatted.
    ///
    /// Frozen in 1.x: new formats (such as JSON schemas) would come as a separate field.
    public enum ResponseFormat: String, Sendable, Hashable {
        /// Free text.
        case text
        /// A single JSON object (OpenAI `json_object`, Gemini `application/json`; Anthropic has no
        /// JSON mode, so its adapter adds a system instruction asking for one).
        case json
    }

    /// The model: a name (any provider offering it) or `provider/name`.
    public var model: String
    /// Alternatives, most preferred first, tried when the model's provider rejects the request as
    /// too long for its context (only larger-context models are tried then) or against its content
    /// policy, does not know the model, or has no key left to try. Per-request; the client's
    /// ``ChatClient/Configuration/fallbacks`` apply when this is empty.
    public var fallbacks: [String]
    /// The conversation.
    public var messages: [ChatMessage]
    /// The system prompt.
    public var system: String?
    /// Sampling temperature.
    public var temperature: Double?
    /// The most output tokens (default: ``ChatClient/Configuration/defaultMaxTokens``); reserved
    /// against limits and budgets at the output price.
    public var maxTokens: Int?
    /// Stop sequences.
    public var stop: [String]
    /// Tools (functions) the model may call.
    public var tools: [ChatTool]
    /// Text or JSON.
    public var responseFormat: ResponseFormat
    /// Attribution tags (tag budgets apply).
    public var tags: Set<String>
    /// Only keys carrying all of these tags are used.
    public var requiredKeyTags: Set<String>
    /// Overrides the router's strategy.
    public var strategy: RoutingStrategy?
    /// When the caller stops waiting: bounds every attempt, failover and fallback.
    public var deadline: Timestamp?

    /// Creates a request.
    public init(
        model: String, messages: [ChatMessage], system: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil,
        stop: [String] = [], tools: [ChatTool] = [], responseFormat: ResponseFormat = .text, fallbacks: [String] = [],
        tags: Set<String> = [], requiredKeyTags: Set<String> = [], strategy: RoutingStrategy? = nil, deadline: Timestamp? = nil
    ) {
        self.model = model
        self.fallbacks = fallbacks
        self.messages = messages
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.tools = tools
        self.responseFormat = responseFormat
        self.tags = tags
        self.requiredKeyTags = requiredKeyTags
        self.strategy = strategy
        self.deadline = deadline
    }
}

/// One message of a conversation.
public struct ChatMessage: Sendable, Hashable {
    /// Who speaks.
    ///
    /// Frozen: the four roles every supported wire format shares.
    public enum Role: String, Sendable, Hashable {
        case system, user, assistant, tool
    }

    /// One part of a message's content.
    ///
    /// Frozen in 1.x: an input you build; new content kinds come in a major version.
    public enum Part: Sendable, Hashable {
        /// Text.
        case text(String)
        /// An image by URL (OpenAI, Anthropic; Gemini needs inline data).
        case imageURL(String)
        /// An image inline, with its media type (`image/png`, `image/jpeg`, …).
        case imageData(Data, mediaType: String)
    }

    /// The speaker.
    public var role: Role
    /// The content parts.
    public var content: [Part]
    /// Tool calls the assistant made (assistant messages).
    public var toolCalls: [ToolCall]
    /// The call this message answers (tool messages).
    public var toolCallID: String?
    /// The name of the tool that answered (tool messages; Gemini needs it).
    public var toolName: String?

    /// Creates a message.
    public init(role: Role, content: [Part], toolCalls: [ToolCall] = [], toolCallID: String? = nil, toolName: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.toolName = toolName
    }

    /// A user message of text.
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: [.text(text)]) }
    /// An assistant message of text.
    public static func assistant(_ text: String, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: text.isEmpty ? [] : [.text(text)], toolCalls: toolCalls)
    }
    /// A tool's result for the call `id` of tool `name`.
    public static func toolResult(id: String, name: String, _ text: String) -> ChatMessage {
        ChatMessage(role: .tool, content: [.text(text)], toolCallID: id, toolName: name)
    }

    /// The text parts joined.
    public var text: String {
        content.compactMap { if case .text(let text) = $0 { text } else { nil } }.joined()
    }
}

/// A function the model may call.
public struct ChatTool: Sendable, Hashable {
    /// Its name.
    public var name: String
    /// What it does.
    public var description: String
    /// Its parameters as a JSON Schema object.
    public var parameters: JSONValue

    /// Creates a tool.
    public init(name: String, description: String, parameters: JSONValue = ["type": "object", "properties": [:]]) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A call of a tool by the model.
public struct ToolCall: Sendable, Hashable {
    /// The provider's id for the call (Gemini has none; the adapter makes one up).
    public var id: String
    /// The tool's name.
    public var name: String
    /// The arguments as JSON text.
    public var arguments: String

    /// Creates a tool call.
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// Why the model stopped.
///
/// Extensible: a struct of named constants (like ``RouterSDK/RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
public struct FinishReason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The stable name, as logged, exported in metrics and stored.
    public var rawValue: String

    /// Wraps a name; values this version does not define compare unequal to every constant.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// It finished (or hit a stop sequence).
    public static let stop = FinishReason(rawValue: "stop")
    /// It hit the output token limit.
    public static let length = FinishReason(rawValue: "length")
    /// It called tools.
    public static let toolCalls = FinishReason(rawValue: "toolCalls")
    /// A content filter stopped it.
    public static let contentFilter = FinishReason(rawValue: "contentFilter")
    /// Something else (the provider's own reason is not mapped).
    public static let other = FinishReason(rawValue: "other")

    public var description: String { rawValue }
}

/// The answer to a ``ChatRequest``.
public struct ChatResponse: Sendable, Hashable {
    /// The reply text.
    public var text: String
    /// Tool calls the model made.
    public var toolCalls: [ToolCall]
    /// Why it stopped.
    public var finishReason: FinishReason
    /// Tokens used, as the provider reported them.
    public var usage: Usage
    /// What it cost, settled against budgets.
    public var cost: Money
    /// The model (and provider) that answered.
    public var model: ModelRef
    /// The key used.
    public var keyID: KeyID
    /// Attempts made across keys and fallbacks (1 if the first call answered).
    public var attempts: Int

    /// Creates a response.
    public init(text: String, toolCalls: [ToolCall], finishReason: FinishReason, usage: Usage, cost: Money, model: ModelRef, keyID: KeyID, attempts: Int) {
        self.text = text
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
        self.cost = cost
        self.model = model
        self.keyID = keyID
        self.attempts = attempts
    }
}

/// One event of a streamed reply.
///
/// Frozen in 1.x: new detail arrives in the payload types (``ToolCall``, ``RouterSDK/Usage``), not as new cases, so an exhaustive `switch` keeps compiling.
public enum ChatStreamEvent: Sendable, Hashable {
    /// The call started on this key and model, before any text. It comes again if that call
    /// fails before any content and another key or model is tried.
    case started(model: ModelRef, keyID: KeyID)
    /// More reply text.
    case text(String)
    /// A complete tool call (streamed fragments are assembled first).
    case toolCall(ToolCall)
    /// The end: why it stopped, the usage and the cost settled (always last on success).
    case finished(FinishReason, usage: Usage, cost: Money)
}
