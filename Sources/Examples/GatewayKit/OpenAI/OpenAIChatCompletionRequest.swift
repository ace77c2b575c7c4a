internal import RouterChat

/// An OpenAI `POST /v1/chat/completions` body, read into a ``RouterChat/ChatRequest``.
///
/// Read: `model`, `messages` (system and developer messages become the system prompt; user
/// content as a string or text and `image_url` parts, `data:` URLs inline; assistant
/// `tool_calls`; tool results by `tool_call_id`), `tools` (functions), `response_format`
/// (`json_object` and `json_schema` ask for JSON), `max_completion_tokens` or `max_tokens`,
/// `temperature`, `stop` (a string or a list), `stream`, `stream_options.include_usage` and
/// `user` (a `user:` tag, so tag budgets apply). Other members are ignored, as OpenAI-compatible
/// servers do; `n` other than 1 is refused.
struct OpenAIChatCompletionRequest: Sendable, Hashable {
    /// The request to route.
    var chat: ChatRequest
    /// Whether the caller asked for server-sent events.
    var stream: Bool
    /// Whether a streamed answer ends with a usage chunk (`stream_options.include_usage`).
    var includeUsage: Bool

    /// Reads a request body; throws ``GatewayError`` (400) naming the member at fault.
    init(body: some Collection<UInt8>) throws(GatewayError) {
        let json = try RequestFields.object(body)
        let model = try RequestFields.name(json["model"], "model")
        guard let messages = json["messages"]?.array, !messages.isEmpty else {
            throw .invalidRequest("'messages' is required and must be a non-empty array", parameter: "messages")
        }
        if let n = json["n"], !n.isNull, n.integer != 1 {
            throw .invalidRequest("only n = 1 is supported", parameter: "n")
        }
        var system: [String] = []
        var conversation: [ChatMessage] = []
        var toolNames: [String: String] = [:]
        for (index, message) in messages.enumerated() {
            let at = "messages[\(index)]"
            guard let role = message["role"]?.string else { throw .invalidRequest("\(at).role is required", parameter: "\(at).role") }
            switch role {
            case "system", "developer":
                system.append(try Self.text(of: message["content"], at: "\(at).content"))
            case "user":
                conversation.append(ChatMessage(role: .user, content: try Self.parts(of: message["content"], at: "\(at).content")))
            case "assistant":
                let calls = try Self.toolCalls(of: message["tool_calls"], at: "\(at).tool_calls")
                for call in calls { toolNames[call.id] = call.name }
                var content: [ChatMessage.Part] = []
                if let value = message["content"], !value.isNull { content = [.text(try Self.text(of: value, at: "\(at).content"))] }
                guard !calls.isEmpty || !content.isEmpty else {
                    throw .invalidRequest("\(at) needs content or tool_calls", parameter: "\(at).content")
                }
                conversation.append(ChatMessage(role: .assistant, content: content, toolCalls: calls))
            case "tool":
                guard let id = message["tool_call_id"]?.string else {
                    throw .invalidRequest("\(at).tool_call_id is required for a tool message", parameter: "\(at).tool_call_id")
                }
                // Gemini answers tool results by function name; OpenAI's tool message carries
                // only the call's id, so the name comes from the assistant message that made it.
                let name = message["name"]?.string ?? toolNames[id] ?? id
                conversation.append(.toolResult(id: id, name: name, try Self.text(of: message["content"], at: "\(at).content")))
            default:
                throw .invalidRequest("\(at).role '\(role)' is not one of system, developer, user, assistant, tool", parameter: "\(at).role")
            }
        }
        guard !conversation.isEmpty else { throw .invalidRequest("'messages' needs at least one user message", parameter: "messages") }
        var chat = ChatRequest(model: model, messages: conversation, system: system.isEmpty ? nil : system.joined(separator: "\n\n"))
        // OpenAI's newer name first; `max_tokens` is what most clients still send.
        if let count = try RequestFields.count(json["max_completion_tokens"], "max_completion_tokens") {
            chat.maxTokens = count
        } else {
            chat.maxTokens = try RequestFields.count(json["max_tokens"], "max_tokens")
        }
        chat.temperature = try RequestFields.number(json["temperature"], "temperature", maximum: 2)
        chat.stop = try RequestFields.strings(json["stop"], "stop", single: true)
        chat.tools = try RequestFields.functionTools(json["tools"])
        switch json["response_format"]?["type"]?.string {
        case nil, "text"?: break
        case "json_object"?, "json_schema"?: chat.responseFormat = .json
        case let other?: throw .invalidRequest("response_format type '\(other)' is not supported", parameter: "response_format")
        }
        if let user = json["user"]?.string, !user.isEmpty { chat.tags.insert("user:\(user)") }
        self.chat = chat
        stream = try RequestFields.flag(json["stream"], "stream", absent: false)
        includeUsage = json["stream_options"]?["include_usage"] == .bool(true)
    }

    /// A message's content as text: a string, or the text parts of a list.
    private static func text(of content: JSONValue?, at path: String) throws(GatewayError) -> String {
        switch content {
        case .string(let text)?: return text
        case .array(let parts)?:
            var text = ""
            for part in parts {
                guard part["type"]?.string == "text", let piece = part["text"]?.string else {
                    throw .invalidRequest("\(path) may only hold text parts here", parameter: path)
                }
                text += piece
            }
            return text
        default: throw .invalidRequest("\(path) must be a string or a list of text parts", parameter: path)
        }
    }

    /// A user message's content parts: text and images.
    private static func parts(of content: JSONValue?, at path: String) throws(GatewayError) -> [ChatMessage.Part] {
        switch content {
        case .string(let text)?: return [.text(text)]
        case .array(let parts)?:
            return try parts.enumerated().map { index, part throws(GatewayError) -> ChatMessage.Part in
                switch part["type"]?.string {
                case "text"?:
                    guard let text = part["text"]?.string else { throw .invalidRequest("\(path)[\(index)].text must be a string", parameter: "\(path)[\(index)].text") }
                    return .text(text)
                case "image_url"?:
                    guard let url = part["image_url"]?["url"]?.string ?? part["image_url"]?.string else {
                        throw .invalidRequest("\(path)[\(index)].image_url.url must be a string", parameter: "\(path)[\(index)].image_url")
                    }
                    return try image(url, at: "\(path)[\(index)].image_url")
                default:
                    throw .invalidRequest("\(path)[\(index)] must be a text or image_url part", parameter: "\(path)[\(index)].type")
                }
            }
        default: throw .invalidRequest("\(path) must be a string or a list of parts", parameter: path)
        }
    }

    /// An image part: a `data:<type>;base64,` URL inline, any other URL by reference.
    private static func image(_ url: String, at path: String) throws(GatewayError) -> ChatMessage.Part {
        guard url.hasPrefix("data:") else { return .imageURL(url) }
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw .invalidRequest("\(path) is a data URL that is not base64", parameter: path)
        }
        let mediaType = String(url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count))
        return try RequestFields.image(base64: String(url[url.index(after: comma)...]), mediaType: mediaType.isEmpty ? nil : mediaType, path)
    }

    private static func toolCalls(of value: JSONValue?, at path: String) throws(GatewayError) -> [ToolCall] {
        guard let value, !value.isNull else { return [] }
        guard let calls = value.array else { throw .invalidRequest("\(path) must be a list", parameter: path) }
        return try calls.enumerated().map { index, call throws(GatewayError) -> ToolCall in
            guard let id = call["id"]?.string, let name = call["function"]?["name"]?.string else {
                throw .invalidRequest("\(path)[\(index)] needs an id and function.name", parameter: "\(path)[\(index)]")
            }
            return ToolCall(id: id, name: name, arguments: call["function"]?["arguments"]?.string ?? "{}")
        }
    }
}
