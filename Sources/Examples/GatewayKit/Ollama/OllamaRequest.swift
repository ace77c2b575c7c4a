internal import RouterChat

/// An Ollama `POST /api/chat` or `POST /api/generate` body, read into a ``RouterChat/ChatRequest``.
///
/// Read for both: `model` (a `:latest` tag is dropped, as Ollama clients add it), `stream`
/// (**on** unless `false`, as in Ollama), `format` (`"json"` or a JSON schema ask for JSON) and
/// `options` (`temperature`, `num_predict` — negative means no limit — and `stop`).
/// `/api/chat` adds `messages` (system, user with base64 `images`, assistant with `tool_calls`
/// whose arguments are objects, and `tool` results named by `tool_name`) and `tools` (OpenAI's
/// function list); `/api/generate` adds `prompt`, `system` and `images`. Other members
/// (`keep_alive`, `think`, `raw`, `context`, other options) are ignored, as an upstream provider
/// has no use for them.
struct OllamaRequest: Sendable, Hashable {
    /// The request to route; for a generate request with an empty prompt (Ollama's way to load
    /// a model), its messages are empty and nothing is sent upstream.
    var chat: ChatRequest
    /// Whether the answer is streamed as newline-delimited JSON.
    var stream: Bool

    /// Reads a `/api/chat` body; throws ``GatewayError`` (400) naming the member at fault.
    init(chatBody body: some Collection<UInt8>) throws(GatewayError) {
        let json = try RequestFields.object(body)
        guard let messages = json["messages"]?.array, !messages.isEmpty else {
            throw .invalidRequest("'messages' is required and must be a non-empty array", parameter: "messages")
        }
        var system: [String] = []
        var conversation: [ChatMessage] = []
        // Ollama's tool calls carry no ids; the router's providers pair results with calls by
        // id, so each call gets one here and a result takes the latest call of its tool's name.
        var callIDs: [String: String] = [:]
        for (index, message) in messages.enumerated() {
            let at = "messages[\(index)]"
            let content = message["content"]?.string ?? ""
            switch message["role"]?.string {
            case "system"?: system.append(content)
            case "user"?:
                var parts: [ChatMessage.Part] = content.isEmpty ? [] : [.text(content)]
                parts += try Self.images(message["images"], at: "\(at).images")
                guard !parts.isEmpty else { throw .invalidRequest("\(at) needs content or images", parameter: "\(at).content") }
                conversation.append(ChatMessage(role: .user, content: parts))
            case "assistant"?:
                var calls: [ToolCall] = []
                for (number, call) in (message["tool_calls"]?.array ?? []).enumerated() {
                    let path = "\(at).tool_calls[\(number)].function"
                    guard let name = call["function"]?["name"]?.string else { throw .invalidRequest("\(path).name is required", parameter: "\(path).name") }
                    let id = call["id"]?.string ?? "call_\(index)_\(number)"
                    callIDs[name] = id
                    calls.append(ToolCall(id: id, name: name, arguments: try RequestFields.arguments(call["function"]?["arguments"], "\(path).arguments")))
                }
                conversation.append(.assistant(content, toolCalls: calls))
            case "tool"?:
                let name = message["tool_name"]?.string ?? message["name"]?.string ?? ""
                conversation.append(.toolResult(id: message["tool_call_id"]?.string ?? callIDs[name] ?? name, name: name, content))
            default:
                throw .invalidRequest("\(at).role must be one of system, user, assistant, tool", parameter: "\(at).role")
            }
        }
        guard !conversation.isEmpty else { throw .invalidRequest("'messages' needs at least one user message", parameter: "messages") }
        try self.init(json, messages: conversation, system: system.isEmpty ? nil : system.joined(separator: "\n\n"))
        chat.tools = try RequestFields.functionTools(json["tools"])
    }

    /// Reads a `/api/generate` body; throws ``GatewayError`` (400) naming the member at fault.
    init(generateBody body: some Collection<UInt8>) throws(GatewayError) {
        let json = try RequestFields.object(body)
        var parts: [ChatMessage.Part] = []
        switch json["prompt"] {
        case nil, .null?: break
        case .string(let prompt)?: if !prompt.isEmpty { parts.append(.text(prompt)) }
        default: throw .invalidRequest("'prompt' must be a string", parameter: "prompt")
        }
        parts += try Self.images(json["images"], at: "images")
        let system = json["system"]?.string
        try self.init(json, messages: parts.isEmpty ? [] : [ChatMessage(role: .user, content: parts)], system: system?.isEmpty == false ? system : nil)
    }

    /// The members both endpoints share.
    private init(_ json: JSONValue, messages: [ChatMessage], system: String?) throws(GatewayError) {
        var model = try RequestFields.name(json["model"], "model")
        if model.hasSuffix(":latest") { model.removeLast(":latest".count) }
        chat = ChatRequest(model: model, messages: messages, system: system)
        stream = try RequestFields.flag(json["stream"], "stream", absent: true)
        switch json["format"] {
        case nil, .null?, .string("")?: break
        case .string("json")?, .object?: chat.responseFormat = .json
        default: throw .invalidRequest("'format' must be \"json\" or a JSON schema", parameter: "format")
        }
        guard let options = json["options"], !options.isNull else { return }
        guard case .object = options else { throw .invalidRequest("'options' must be an object", parameter: "options") }
        chat.temperature = try RequestFields.number(options["temperature"], "options.temperature", maximum: 2)
        // num_predict: -1 is "no limit" and -2 "fill the context"; both leave the provider's default.
        if let predict = options["num_predict"]?.integer, predict < 0 {
            chat.maxTokens = nil
        } else {
            chat.maxTokens = try RequestFields.count(options["num_predict"], "options.num_predict")
        }
        chat.stop = try RequestFields.strings(options["stop"], "options.stop")
    }

    /// `images`: base64 strings without a media type.
    private static func images(_ value: JSONValue?, at path: String) throws(GatewayError) -> [ChatMessage.Part] {
        let images = try RequestFields.strings(value, path)
        return try images.enumerated().map { index, image throws(GatewayError) in
            try RequestFields.image(base64: image, mediaType: nil, "\(path)[\(index)]")
        }
    }
}
