internal import RouterSDK
import Foundation

/// Anthropic messages (`POST {base}/messages`, `x-api-key`, `anthropic-version`).
struct AnthropicMessagesAdapter: ProviderAdapter {
    /// The API version header every request carries.
    static let apiVersion = "2023-06-01"
    /// Anthropic has no JSON mode; this instruction is added to the system prompt instead.
    static let jsonInstruction = "Respond with a single JSON object and nothing else."

    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool) throws(ProviderError) -> TransportRequest {
        var system = [chat.system].compactMap { $0 } + chat.messages.filter { $0.role == .system }.map(\.text)
        if chat.responseFormat == .json { system.append(Self.jsonInstruction) }
        var body: [String: JSONValue] = [
            "model": .string(model), "max_tokens": .integer(Int64(maxTokens)),
            "messages": .array(try chat.messages.filter { $0.role != .system }.map { message throws(ProviderError) in try Self.encode(message) }),
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if let temperature = chat.temperature { body["temperature"] = .number(temperature) }
        if !chat.stop.isEmpty { body["stop_sequences"] = .array(chat.stop.map(JSONValue.string)) }
        if !chat.tools.isEmpty {
            body["tools"] = .array(chat.tools.map { ["name": .string($0.name), "description": .string($0.description), "input_schema": $0.parameters] })
        }
        if stream { body["stream"] = true }
        var headers: [(name: String, value: String)] = [("content-type", "application/json"), ("anthropic-version", Self.apiVersion)]
        if stream { headers.append(("accept", "text/event-stream")) }
        if let secret, !secret.isEmpty { headers.append(("x-api-key", secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, "/messages"), headers: headers, body: JSONValue.object(body).jsonBytes)
    }

    private static func encode(_ message: ChatMessage) throws(ProviderError) -> JSONValue {
        if message.role == .tool {
            return ["role": "user", "content": [["type": "tool_result", "tool_use_id": .string(message.toolCallID ?? ""), "content": .string(message.text)]]]
        }
        var blocks: [JSONValue] = message.content.map { part in
            switch part {
            case .text(let text): ["type": "text", "text": .string(text)]
            case .imageURL(let url): ["type": "image", "source": ["type": "url", "url": .string(url)]]
            case .imageData(let data, let mediaType):
                ["type": "image", "source": ["type": "base64", "media_type": .string(mediaType), "data": .string(WireParsing.base64(data))]]
            }
        }
        for call in message.toolCalls {
            guard let input = JSONValue(parsing: Array(call.arguments.utf8)) else {
                throw ProviderError(.badRequest, message: "the arguments of tool call '\(call.id)' are not JSON")
            }
            blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": input])
        }
        return ["role": .string(message.role == .assistant ? "assistant" : "user"), "content": .array(blocks)]
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try WireParsing.json(body, "Anthropic response")
        guard let blocks = json["content"]?.array, let usage = Self.usage(json["usage"]), let input = usage.input, let output = usage.output else {
            throw ProviderError(.malformedResponse, message: "the Anthropic response has no content or usage")
        }
        var text = ""
        var calls: [ToolCall] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text": text += block["text"]?.string ?? ""
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw ProviderError(.malformedResponse, message: "an Anthropic tool_use block has no id or name")
                }
                calls.append(ToolCall(id: id, name: name, arguments: (block["input"] ?? [:]).jsonText))
            default: break
            }
        }
        return DecodedReply(text: text, toolCalls: calls, finishReason: Self.finishReason(json["stop_reason"]?.string), usage: Usage(inputTokens: input, outputTokens: output))
    }

    /// Input tokens include cache writes and reads (all are prompt tokens).
    static func usage(_ usage: JSONValue?) -> (input: Int?, output: Int?)? {
        guard let usage, case .object = usage else { return nil }
        let input = WireParsing.tokens(
            usage["input_tokens"]?.integer, usage["cache_creation_input_tokens"]?.integer, usage["cache_read_input_tokens"]?.integer)
        return (input, WireParsing.tokens(usage["output_tokens"]?.integer))
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

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            let json = try WireParsing.json(Array(event.data.utf8), "Anthropic stream event")
            switch json["type"]?.string ?? event.event {
            case "message_start":
                let usage = AnthropicMessagesAdapter.usage(json["message"]?["usage"])
                return [.usage(input: usage?.input, output: usage?.output)]
            case "content_block_start":
                let block = json["content_block"] ?? .null
                if block["type"]?.string == "tool_use", let index = json["index"]?.integer {
                    tools[index] = (block["id"]?.string ?? "", block["name"]?.string ?? "", "")
                }
                if let text = block["text"]?.string, !text.isEmpty { return [.text(text)] }
                return []
            case "content_block_delta":
                let delta = json["delta"] ?? .null
                if let text = delta["text"]?.string { return text.isEmpty ? [] : [.text(text)] }
                if let fragment = delta["partial_json"]?.string, let index = json["index"]?.integer {
                    tools[index]?.json += fragment
                }
                return []
            case "content_block_stop":
                guard let index = json["index"]?.integer, let tool = tools.removeValue(forKey: index) else { return [] }
                return [.toolCall(ToolCall(id: tool.id, name: tool.name, arguments: tool.json.isEmpty ? "{}" : tool.json))]
            case "message_delta":
                var pieces: [StreamPiece] = []
                if let reason = json["delta"]?["stop_reason"]?.string { pieces.append(.finish(AnthropicMessagesAdapter.finishReason(reason))) }
                if let usage = AnthropicMessagesAdapter.usage(json["usage"]) { pieces.append(.usage(input: usage.input, output: usage.output)) }
                return pieces
            case "message_stop":
                return finish() + [.end]
            case "error":
                throw AnthropicMessagesAdapter.classify(status: 500, body: json, headers: [:])
            default:
                return []  // ping and future event types
            }
        }

        mutating func finish() -> [StreamPiece] {
            defer { tools.removeAll() }
            return tools.keys.sorted().compactMap { index in
                tools[index].map { .toolCall(ToolCall(id: $0.id, name: $0.name, arguments: $0.json.isEmpty ? "{}" : $0.json)) }
            }
        }
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
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
        case "overloaded_error": return ProviderError(.overloaded, status: status, message: message, retryAfter: retryAfter)
        case "api_error": return ProviderError(.serverError, status: status, message: message)
        case "billing_error": return ProviderError(.quotaExhausted, status: status, message: message)
        case "request_too_large": return ProviderError(.contextTooLong, status: status, message: message)
        case "invalid_request_error" where lowered.contains("prompt is too long") || lowered.contains("context window"):
            return ProviderError(.contextTooLong, status: status, message: message)
        case "invalid_request_error" where lowered.contains("credit balance"):
            return ProviderError(.quotaExhausted, status: status, message: message)
        default: return WireParsing.byStatus(status, message: message, retryAfter: retryAfter)
        }
    }

    func rateLimits(from headers: [String: String]) -> ProviderRateLimits {
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
