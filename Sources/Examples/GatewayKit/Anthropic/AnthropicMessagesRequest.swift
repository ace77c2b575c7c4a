internal import RouterChat

/// An Anthropic `POST /v1/messages` body, read into a ``RouterChat/ChatRequest``.
///
/// Read: `model`, `max_tokens` (required, as Anthropic requires it), `system` (a string or text
/// blocks), `messages` (user and assistant turns whose content is a string or blocks: `text`,
/// `image` with a base64 or URL source, assistant `tool_use`, user `tool_result`), `tools`
/// (custom tools with `input_schema`), `stop_sequences`, `temperature` (0 to 1), `stream` and
/// `metadata.user_id` (a `user:` tag, so tag budgets apply). `thinking` blocks in a replayed
/// conversation are skipped; Anthropic's server tools, documents and other block kinds are
/// refused by name, as the gateway cannot pass them to every provider. Other members are ignored.
struct AnthropicMessagesRequest: Sendable, Hashable {
    /// The request to route.
    var chat: ChatRequest
    /// Whether the caller asked for server-sent events.
    var stream: Bool

    /// Reads a request body; throws ``GatewayError`` (400) naming the member at fault.
    init(body: some Collection<UInt8>) throws(GatewayError) {
        let json = try RequestFields.object(body)
        let model = try RequestFields.name(json["model"], "model")
        guard let maxTokens = try RequestFields.count(json["max_tokens"], "max_tokens") else {
            throw .invalidRequest("'max_tokens' is required", parameter: "max_tokens")
        }
        guard let messages = json["messages"]?.array, !messages.isEmpty else {
            throw .invalidRequest("'messages' is required and must be a non-empty array", parameter: "messages")
        }
        var conversation: [ChatMessage] = []
        // Tool results name their call by id; Gemini wants the function's name, which only the
        // assistant turn that made the call carries.
        var toolNames: [String: String] = [:]
        for (index, message) in messages.enumerated() {
            let at = "messages.\(index)"
            switch message["role"]?.string {
            case "user"?:
                conversation += try Self.userTurn(message["content"], at: "\(at).content", toolNames: toolNames)
            case "assistant"?:
                let turn = try Self.assistantTurn(message["content"], at: "\(at).content")
                for call in turn.toolCalls { toolNames[call.id] = call.name }
                conversation.append(turn)
            default:
                throw .invalidRequest("\(at).role must be 'user' or 'assistant'", parameter: "\(at).role")
            }
        }
        var chat = ChatRequest(model: model, messages: conversation, system: try Self.system(json["system"]), maxTokens: maxTokens)
        chat.temperature = try RequestFields.number(json["temperature"], "temperature", maximum: 1)
        chat.stop = try RequestFields.strings(json["stop_sequences"], "stop_sequences")
        chat.tools = try Self.tools(json["tools"])
        if let user = json["metadata"]?["user_id"]?.string, !user.isEmpty { chat.tags.insert("user:\(user)") }
        self.chat = chat
        stream = try RequestFields.flag(json["stream"], "stream", absent: false)
    }

    /// `system`: a string or a list of text blocks.
    private static func system(_ value: JSONValue?) throws(GatewayError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        case .array(let blocks)?:
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                guard block["type"]?.string == "text", let text = block["text"]?.string else {
                    throw .invalidRequest("system.\(index) must be a text block", parameter: "system.\(index)")
                }
                texts.append(text)
            }
            return texts.isEmpty ? nil : texts.joined(separator: "\n\n")
        default: throw .invalidRequest("'system' must be a string or a list of text blocks", parameter: "system")
        }
    }

    /// A user turn: its tool results (each a message of its own, as the router's providers
    /// want them) followed by its text and images.
    private static func userTurn(_ content: JSONValue?, at path: String, toolNames: [String: String]) throws(GatewayError) -> [ChatMessage] {
        if let text = content?.string { return [.user(text)] }
        guard let blocks = content?.array, !blocks.isEmpty else {
            throw .invalidRequest("\(path) must be a string or a non-empty list of blocks", parameter: path)
        }
        var results: [ChatMessage] = []
        var parts: [ChatMessage.Part] = []
        for (index, block) in blocks.enumerated() {
            let at = "\(path).\(index)"
            switch block["type"]?.string {
            case "text"?: parts.append(.text(try text(of: block, at: at)))
            case "image"?: parts.append(try image(block["source"], at: "\(at).source"))
            case "tool_result"?:
                guard let id = block["tool_use_id"]?.string else {
                    throw .invalidRequest("\(at).tool_use_id is required", parameter: "\(at).tool_use_id")
                }
                var text = try resultText(block["content"], at: "\(at).content")
                // The router's providers have no error flag on a tool result; the text says so.
                if block["is_error"] == .bool(true) { text = "Error: \(text)" }
                results.append(.toolResult(id: id, name: toolNames[id] ?? id, text))
            case let kind:
                throw .invalidRequest("\(at).type '\(kind ?? "")' is not supported here (text, image, tool_result)", parameter: "\(at).type")
            }
        }
        return parts.isEmpty ? results : results + [ChatMessage(role: .user, content: parts)]
    }

    /// An assistant turn: text and `tool_use` blocks (a replayed `thinking` block is skipped).
    private static func assistantTurn(_ content: JSONValue?, at path: String) throws(GatewayError) -> ChatMessage {
        if let text = content?.string { return .assistant(text) }
        guard let blocks = content?.array else { throw .invalidRequest("\(path) must be a string or a list of blocks", parameter: path) }
        var text = ""
        var calls: [ToolCall] = []
        for (index, block) in blocks.enumerated() {
            let at = "\(path).\(index)"
            switch block["type"]?.string {
            case "text"?: text += try Self.text(of: block, at: at)
            case "tool_use"?:
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw .invalidRequest("\(at) needs an id and a name", parameter: at)
                }
                calls.append(ToolCall(id: id, name: name, arguments: try RequestFields.arguments(block["input"], "\(at).input")))
            case "thinking"?, "redacted_thinking"?: continue
            case let kind:
                throw .invalidRequest("\(at).type '\(kind ?? "")' is not supported here (text, tool_use)", parameter: "\(at).type")
            }
        }
        return .assistant(text, toolCalls: calls)
    }

    private static func text(of block: JSONValue, at path: String) throws(GatewayError) -> String {
        guard let text = block["text"]?.string else { throw .invalidRequest("\(path).text must be a string", parameter: "\(path).text") }
        return text
    }

    /// A tool result's content: a string or text blocks.
    private static func resultText(_ content: JSONValue?, at path: String) throws(GatewayError) -> String {
        switch content {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .array(let blocks)?:
            var text = ""
            for (index, block) in blocks.enumerated() {
                guard block["type"]?.string == "text" else {
                    throw .invalidRequest("\(path).\(index) must be a text block", parameter: "\(path).\(index)")
                }
                text += try Self.text(of: block, at: "\(path).\(index)")
            }
            return text
        default: throw .invalidRequest("\(path) must be a string or a list of text blocks", parameter: path)
        }
    }

    /// An image source: `{"type": "base64", "media_type", "data"}` or `{"type": "url", "url"}`.
    private static func image(_ source: JSONValue?, at path: String) throws(GatewayError) -> ChatMessage.Part {
        switch source?["type"]?.string {
        case "base64"?:
            guard let data = source?["data"]?.string, let mediaType = source?["media_type"]?.string else {
                throw .invalidRequest("\(path) needs media_type and data", parameter: path)
            }
            return try RequestFields.image(base64: data, mediaType: mediaType, "\(path).data")
        case "url"?:
            guard let url = source?["url"]?.string else { throw .invalidRequest("\(path).url must be a string", parameter: "\(path).url") }
            return .imageURL(url)
        default: throw .invalidRequest("\(path).type must be 'base64' or 'url'", parameter: "\(path).type")
        }
    }

    /// Custom tools: `[{"name", "description", "input_schema"}]`. Anthropic's server tools
    /// (those with a versioned `type`) run on Anthropic's side only, so they are refused.
    private static func tools(_ value: JSONValue?) throws(GatewayError) -> [ChatTool] {
        guard let value, !value.isNull else { return [] }
        guard let tools = value.array else { throw .invalidRequest("'tools' must be a list", parameter: "tools") }
        return try tools.enumerated().map { index, tool throws(GatewayError) -> ChatTool in
            if let kind = tool["type"]?.string, kind != "custom" {
                throw .invalidRequest("tools.\(index) is Anthropic's server tool '\(kind)'; only custom tools can be routed", parameter: "tools.\(index).type")
            }
            guard let name = tool["name"]?.string, !name.isEmpty, let schema = tool["input_schema"], case .object = schema else {
                throw .invalidRequest("tools.\(index) needs a name and an input_schema object", parameter: "tools.\(index)")
            }
            return ChatTool(name: name, description: tool["description"]?.string ?? "", parameters: schema)
        }
    }
}
