internal import RouterSDK
import Foundation

/// Anthropic messages (`POST {base}/messages`, `x-api-key`, `anthropic-version`).
struct AnthropicMessagesAdapter: ProviderAdapter {
    /// The API version header every request carries.
    static let apiVersion = "2023-06-01"
    /// Anthropic has no JSON mode; this instruction is added to the system prompt instead.
    static let jsonInstruction = "Respond with a single JSON object and nothing else."

    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool, options: RequestOptions) throws(ProviderError) -> TransportRequest {
        var json = JSONWriter(capacity: 256 + TokenEstimator.textBytes(of: chat))
        json.beginObject()
        json.key("model")
        json.string(model)
        json.key("max_tokens")
        json.integer(maxTokens)
        json.key("messages")
        json.beginArray()
        for message in chat.messages where message.role != .system { try Self.encode(message, into: &json) }
        json.endArray()
        // The system prompt, system messages and the JSON-mode instruction, joined.
        let hasSystemMessages = chat.messages.contains { $0.role == .system }
        if chat.system != nil || hasSystemMessages || chat.responseFormat == .json {
            json.key("system")
            json.beginString()
            var first = true
            func part(_ text: String) {
                if !first { json.stringPart("\n\n") }
                first = false
                json.stringPart(text)
            }
            if let system = chat.system { part(system) }
            for message in chat.messages where message.role == .system { part(message.text) }
            if chat.responseFormat == .json { part(Self.jsonInstruction) }
            json.endString()
        }
        if let temperature = chat.temperature {
            json.key("temperature")
            json.number(temperature)
        }
        if !chat.stop.isEmpty { WireParsing.writeStrings(chat.stop, key: "stop_sequences", into: &json) }
        if !chat.tools.isEmpty {
            json.key("tools")
            json.beginArray()
            for tool in chat.tools { WireParsing.writeDeclaration(of: tool, schemaKey: "input_schema", into: &json) }
            json.endArray()
        }
        if stream {
            json.key("stream")
            json.bool(true)
        }
        json.endObject()
        var headers: [(name: String, value: String)] = [("content-type", "application/json"), ("anthropic-version", Self.apiVersion)]
        if stream { headers.append(("accept", "text/event-stream")) }
        if let secret, !secret.isEmpty { headers.append(("x-api-key", secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, "/messages"), headers: headers, body: json.bytes)
    }

    private static func encode(_ message: ChatMessage, into json: inout JSONWriter) throws(ProviderError) {
        json.beginObject()
        json.key("role")
        json.literal(message.role == .assistant ? "assistant" : "user")
        json.key("content")
        json.beginArray()
        if message.role == .tool {
            json.beginObject()
            json.key("type")
            json.literal("tool_result")
            json.key("tool_use_id")
            json.string(message.toolCallID ?? "")
            json.key("content")
            json.beginString()
            for case .text(let text) in message.content { json.stringPart(text) }
            json.endString()
            json.endObject()
        } else {
            for part in message.content {
                json.beginObject()
                switch part {
                case .text(let text):
                    json.key("type")
                    json.literal("text")
                    json.key("text")
                    json.string(text)
                case .imageURL(let url):
                    json.key("type")
                    json.literal("image")
                    json.key("source")
                    json.beginObject()
                    json.key("type")
                    json.literal("url")
                    json.key("url")
                    json.string(url)
                    json.endObject()
                case .imageData(let data, let mediaType):
                    json.key("type")
                    json.literal("image")
                    json.key("source")
                    json.beginObject()
                    json.key("type")
                    json.literal("base64")
                    json.key("media_type")
                    json.string(mediaType)
                    json.key("data")
                    json.string(WireParsing.base64(data))
                    json.endObject()
                }
                json.endObject()
            }
            for call in message.toolCalls {
                json.beginObject()
                json.key("type")
                json.literal("tool_use")
                json.key("id")
                json.string(call.id)
                json.key("name")
                json.string(call.name)
                json.key("input")
                try WireParsing.writeArguments(call, into: &json)
                json.endObject()
            }
        }
        json.endArray()
        json.endObject()
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        var blocks: (text: String, calls: [ToolCall])?
        var badBlock = false
        var usage: Usage?
        var sawUsage = false
        var stopReason: String?
        var sawStop = false
        try WireParsing.read(body, "Anthropic response") { json in
            try json.forEachMember { json, key in
                switch key {
                case "content" where blocks == nil:
                    var text = ""
                    var calls: [ToolCall] = []
                    let isArray = try json.forEachElement { json, _ in
                        let block = try Self.block(&json)
                        switch block.type {
                        case "text": text += block.text ?? ""
                        case "tool_use":
                            guard let id = block.id, let name = block.name else {
                                badBlock = true
                                return
                            }
                            calls.append(ToolCall(id: id, name: name, arguments: block.input ?? "{}"))
                        default: break
                        }
                    }
                    if isArray { blocks = (text, calls) }
                case "usage" where !sawUsage:
                    sawUsage = true
                    usage = try Self.usage(&json).flatMap { usage in
                        guard let input = usage.input, let output = usage.output else { return nil }
                        return Usage(inputTokens: input, outputTokens: output)
                    }
                case "stop_reason" where !sawStop:
                    sawStop = true
                    stopReason = try json.string()
                default: try json.skipValue()
                }
            }
        }
        guard let blocks, let usage else {
            throw ProviderError(.malformedResponse, message: "the Anthropic response has no content or usage")
        }
        guard !badBlock else { throw ProviderError(.malformedResponse, message: "an Anthropic tool_use block has no id or name") }
        return DecodedReply(text: blocks.text, toolCalls: blocks.calls, finishReason: Self.finishReason(stopReason), usage: usage)
    }

    /// The members of a content block the adapter reads (`input` as the JSON text it was sent as).
    private struct Block {
        var type: String?
        var text: String?
        var id: String?
        var name: String?
        var input: String?
    }

    private static func block(_ json: inout JSONReader) throws -> Block {
        var block = Block()
        var seen = FirstSeen()
        try json.forEachMember { json, key in
            switch key {
            case "type" where seen.first(0):
                block.type = try json.string()
            case "text" where seen.first(1):
                block.text = try json.string()
            case "id" where seen.first(2):
                block.id = try json.string()
            case "name" where seen.first(3):
                block.name = try json.string()
            case "input" where seen.first(4):
                block.input = String(decoding: try json.rawValue(), as: UTF8.self)
            default: try json.skipValue()
            }
        }
        return block
    }

    /// Input tokens include cache writes and reads (all are prompt tokens). `nil` when the
    /// value is not an object.
    static func usage(_ json: inout JSONReader) throws -> (input: Int?, output: Int?)? {
        var counts: (input: Int64?, creation: Int64?, read: Int64?, output: Int64?) = (nil, nil, nil, nil)
        var seen = FirstSeen()
        let isObject = try json.forEachMember { json, key in
            switch key {
            case "input_tokens" where seen.first(0):
                counts.input = try json.integer()
            case "cache_creation_input_tokens" where seen.first(1):
                counts.creation = try json.integer()
            case "cache_read_input_tokens" where seen.first(2):
                counts.read = try json.integer()
            case "output_tokens" where seen.first(3):
                counts.output = try json.integer()
            default: try json.skipValue()
            }
        }
        guard isObject else { return nil }
        return (WireParsing.tokens(counts.input, counts.creation, counts.read), WireParsing.tokens(counts.output))
    }

    static func finishReason(_ reason: String?) -> FinishReason {
        switch reason {
        case "end_turn", "stop_sequence": .stop
        case "max_tokens": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        default: .other
        }
    }

    func makeStreamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    /// Follows content blocks by index; a tool_use block's JSON arrives in fragments and is
    /// emitted when the block stops.
    struct StreamDecoder: ChatStreamDecoder {
        private var tools: [Int64: (id: String, name: String, json: String)] = [:]

        mutating func decode(_ event: RawServerSentEvent, into pieces: inout [StreamPiece]) throws(ProviderError) {
            var type: String?
            var index: Int64?
            var block: Block?
            var delta: (text: String?, partialJSON: String?, stopReason: String?)?
            var messageUsage: (input: Int?, output: Int?)?
            var usage: (input: Int?, output: Int?)?
            var error: JSONValue?
            var seen = FirstSeen()
            try WireParsing.read(event.data, "Anthropic stream event") { json in
                try json.forEachMember { json, key in
                    switch key {
                    case "type" where seen.first(0):
                        type = try json.string()
                    case "index" where seen.first(1):
                        index = try json.integer()
                    case "content_block" where seen.first(2):
                        if try json.peek() == .object { block = try AnthropicMessagesAdapter.block(&json) } else { try json.skipValue() }
                    case "delta" where seen.first(3):
                        var members: (text: String?, partialJSON: String?, stopReason: String?) = (nil, nil, nil)
                        var seenDelta = FirstSeen()
                        try json.forEachMember { json, key in
                            switch key {
                            case "text" where seenDelta.first(0):
                                members.text = try json.string()
                            case "partial_json" where seenDelta.first(1):
                                members.partialJSON = try json.string()
                            case "stop_reason" where seenDelta.first(2):
                                members.stopReason = try json.string()
                            default: try json.skipValue()
                            }
                        }
                        delta = members
                    case "message" where seen.first(4):
                        var seenUsage = false
                        try json.forEachMember { json, key in
                            guard key == "usage", !seenUsage else { return try json.skipValue() }
                            seenUsage = true
                            messageUsage = try AnthropicMessagesAdapter.usage(&json)
                        }
                    case "usage" where seen.first(5):
                        usage = try AnthropicMessagesAdapter.usage(&json)
                    case "error" where seen.first(6):
                        error = try json.value()
                    default: try json.skipValue()
                    }
                }
            }
            let name = type ?? event.name.map { String(decoding: $0, as: UTF8.self) }
            switch name {
            case "message_start":
                pieces.append(.usage(input: messageUsage?.input, output: messageUsage?.output))
            case "content_block_start":
                guard let block else { return }
                if block.type == "tool_use", let index {
                    tools[index] = (block.id ?? "", block.name ?? "", "")
                }
                if let text = block.text, !text.isEmpty { pieces.append(.text(text)) }
            case "content_block_delta":
                guard let delta else { return }
                if let text = delta.text {
                    if !text.isEmpty { pieces.append(.text(text)) }
                } else if let fragment = delta.partialJSON, let index {
                    tools[index]?.json += fragment
                }
            case "content_block_stop":
                guard let index, let tool = tools.removeValue(forKey: index) else { return }
                pieces.append(.toolCall(ToolCall(id: tool.id, name: tool.name, arguments: tool.json.isEmpty ? "{}" : tool.json)))
            case "message_delta":
                if let reason = delta?.stopReason { pieces.append(.finish(AnthropicMessagesAdapter.finishReason(reason))) }
                if let usage { pieces.append(.usage(input: usage.input, output: usage.output)) }
            case "message_stop":
                finish(into: &pieces)
                pieces.append(.end)
            case "error":
                // Classified as a response with this body would be (overloaded_error → overloaded, …).
                throw AnthropicMessagesAdapter.classify(status: 500, body: ["type": "error", "error": error ?? .null], headers: [:])
            default:
                break  // ping and future event types
            }
        }

        mutating func finish(into pieces: inout [StreamPiece]) {
            defer { tools.removeAll() }
            for index in tools.keys.sorted() {
                guard let tool = tools[index] else { continue }
                pieces.append(.toolCall(ToolCall(id: tool.id, name: tool.name, arguments: tool.json.isEmpty ? "{}" : tool.json)))
            }
        }
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
        let headers = WireParsing.unforwarded(headers)
        var error = Self.classify(status: status, body: JSONValue(parsing: body) ?? .null, headers: headers)
        if error.kind == .rateLimited, error.retryAfter == nil { error.retryAfter = rateLimits(from: headers).exhaustedFor }
        return error
    }

    static func classify(status: Int, body: JSONValue, headers: [String: String]) -> ProviderError {
        let error = body["error"] ?? .null
        let message = error["message"]?.string ?? ""
        let retryAfter = WireParsing.retryAfter(headers)
        let lowered = message.lowercased()
        switch error["type"]?.string {
        case "rate_limit_error": return ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
        case "authentication_error", "permission_error": return ProviderError(.authInvalid, status: status, message: message)
        case "not_found_error": return ProviderError(.modelNotFound, status: status, message: message)
        case "invalid_request_error" where WireParsing.saysUnknownModel(message):
            return ProviderError(.modelNotFound, status: status, message: message)
        case "overloaded_error": return ProviderError(.overloaded, status: status, message: message, retryAfter: retryAfter)
        case "api_error": return ProviderError(.serverError, status: status, message: message)
        case "billing_error": return ProviderError(.quotaExhausted, status: status, message: message)
        case "request_too_large": return ProviderError(.contextTooLong, status: status, message: message)
        case "invalid_request_error" where lowered.contains("prompt is too long") || lowered.contains("context window"):
            return ProviderError(.contextTooLong, status: status, message: message)
        case "invalid_request_error" where lowered.contains("credit balance"):
            return ProviderError(.quotaExhausted, status: status, message: message)
        default:
            if [400, 404, 422].contains(status), WireParsing.saysUnknownModel(message) {
                return ProviderError(.modelNotFound, status: status, message: message)
            }
            return WireParsing.byStatus(status, message: message, retryAfter: retryAfter)
        }
    }

    func rateLimits(from headers: [String: String]) -> ProviderRateLimits {
        guard !headers.isEmpty else { return ProviderRateLimits() }
        let headers = WireParsing.unforwarded(headers)
        func remaining(_ name: String) -> Int? { headers["anthropic-ratelimit-\(name)-remaining"].flatMap { Int($0) } }
        func reset(_ name: String) -> Duration? { headers["anthropic-ratelimit-\(name)-reset"].flatMap(WireParsing.untilISODate) }
        // Tokens: the combined limit, or the tighter of the input and output limits.
        let tokenNames = ["tokens", "input-tokens", "output-tokens"].filter { remaining($0) != nil }
        let tightest = tokenNames.min { (remaining($0) ?? .max) < (remaining($1) ?? .max) }
        return ProviderRateLimits(
            remainingRequests: remaining("requests"), remainingTokens: tightest.flatMap(remaining),
            requestsReset: reset("requests"), tokensReset: tightest.flatMap(reset))
    }
}
