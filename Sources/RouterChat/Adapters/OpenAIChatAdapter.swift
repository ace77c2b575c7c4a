internal import RouterSDK
import Foundation

/// OpenAI chat completions (`POST {base}/chat/completions`, `Authorization: Bearer`), the format
/// Groq, Mistral, OpenRouter, Ollama's `/v1` and most compatible servers speak.
struct OpenAIChatAdapter: ProviderAdapter {
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool) throws(ProviderError) -> TransportRequest {
        var messages: [JSONValue] = []
        if let system = chat.system { messages.append(["role": "system", "content": .string(system)]) }
        for message in chat.messages { messages.append(Self.encode(message)) }
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages), "max_tokens": .integer(Int64(maxTokens))]
        if let temperature = chat.temperature { body["temperature"] = .number(temperature) }
        if !chat.stop.isEmpty { body["stop"] = .array(chat.stop.map(JSONValue.string)) }
        if !chat.tools.isEmpty {
            body["tools"] = .array(chat.tools.map { tool in
                ["type": "function", "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters]]
            })
        }
        if chat.responseFormat == .json { body["response_format"] = ["type": "json_object"] }
        if stream {
            body["stream"] = true
            // Without this the stream carries no usage, and the call could not be settled exactly.
            body["stream_options"] = ["include_usage": true]
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if stream { headers.append(("Accept", "text/event-stream")) }
        if let secret, !secret.isEmpty { headers.append(("Authorization", "Bearer " + secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, "/chat/completions"), headers: headers, body: JSONValue.object(body).jsonBytes)
    }

    private static func encode(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue)]
        let onlyText = message.content.allSatisfy { if case .text = $0 { true } else { false } }
        if onlyText {
            object["content"] = message.content.isEmpty && !message.toolCalls.isEmpty ? .null : .string(message.text)
        } else {
            object["content"] = .array(message.content.map { part in
                switch part {
                case .text(let text): ["type": "text", "text": .string(text)]
                case .imageURL(let url): ["type": "image_url", "image_url": ["url": .string(url)]]
                case .imageData(let data, let mediaType):
                    ["type": "image_url", "image_url": ["url": .string("data:\(mediaType);base64,\(WireParsing.base64(data))")]]
                }
            })
        }
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = .array(message.toolCalls.map { call in
                ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try WireParsing.json(body, "OpenAI response")
        guard let choice = json["choices"]?[0], let message = choice["message"] else {
            throw ProviderError(.malformedResponse, message: "the OpenAI response has no choices[0].message")
        }
        let text = message["content"]?.string ?? ""
        let toolCalls = try (message["tool_calls"]?.array ?? []).map { call throws(ProviderError) in
            guard let id = call["id"]?.string, let name = call["function"]?["name"]?.string else {
                throw ProviderError(.malformedResponse, message: "an OpenAI tool call has no id or function name")
            }
            return ToolCall(id: id, name: name, arguments: call["function"]?["arguments"]?.string ?? "{}")
        }
        guard let usage = json["usage"], let input = WireParsing.tokens(usage["prompt_tokens"]?.integer),
            let output = WireParsing.tokens(usage["completion_tokens"]?.integer)
        else {
            throw ProviderError(.malformedResponse, message: "the OpenAI response has no usage")
        }
        return DecodedReply(text: text, toolCalls: toolCalls, finishReason: Self.finishReason(choice["finish_reason"]?.string), usage: Usage(inputTokens: input, outputTokens: output))
    }

    static func finishReason(_ reason: String?) -> FinishReason {
        switch reason {
        case "stop": .stop
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: .other
        }
    }

    func makeStreamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    /// Tool calls arrive as fragments keyed by index; they are emitted whole when the stream ends.
    struct StreamDecoder: ChatStreamDecoder {
        private var calls: [Int: (id: String, name: String, arguments: String)] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            if event.data == "[DONE]" { return finish() + [.end] }
            let json = try WireParsing.json(Array(event.data.utf8), "OpenAI stream event")
            if let error = json["error"], !error.isNull {
                throw OpenAIChatAdapter.classify(status: 500, body: json, headers: [:])
            }
            var pieces: [StreamPiece] = []
            if let choice = json["choices"]?[0] {
                if let text = choice["delta"]?["content"]?.string, !text.isEmpty { pieces.append(.text(text)) }
                for fragment in choice["delta"]?["tool_calls"]?.array ?? [] {
                    let index = Int(fragment["index"]?.integer ?? 0)
                    var call = calls[index] ?? (id: "", name: "", arguments: "")
                    if let id = fragment["id"]?.string { call.id = id }
                    if let name = fragment["function"]?["name"]?.string { call.name += name }
                    if let arguments = fragment["function"]?["arguments"]?.string { call.arguments += arguments }
                    calls[index] = call
                }
                if let reason = choice["finish_reason"]?.string { pieces.append(.finish(OpenAIChatAdapter.finishReason(reason))) }
            }
            if let usage = json["usage"], !usage.isNull {
                pieces.append(.usage(input: WireParsing.tokens(usage["prompt_tokens"]?.integer), output: WireParsing.tokens(usage["completion_tokens"]?.integer)))
            }
            return pieces
        }

        mutating func finish() -> [StreamPiece] {
            defer { calls.removeAll() }
            return calls.keys.sorted().compactMap { index in
                guard let call = calls[index] else { return nil }
                return .toolCall(ToolCall(id: call.id, name: call.name, arguments: call.arguments.isEmpty ? "{}" : call.arguments))
            }
        }
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
        var error = Self.classify(status: status, body: JSONValue(parsing: body) ?? .null, headers: headers)
        if error.kind == .rateLimited, error.retryAfter == nil {
            // No retry-after: the reset of whichever window is empty says how long to wait.
            error.retryAfter = rateLimits(from: headers).exhaustedFor
                ?? headers["x-ratelimit-reset-requests"].flatMap(WireParsing.goDuration)
        }
        return error
    }

    static func classify(status: Int, body: JSONValue, headers: [String: String]) -> ProviderError {
        let error = body["error"] ?? .null
        let message = error["message"]?.string ?? body.string ?? ""
        let code = error["code"]?.string ?? ""
        let type = error["type"]?.string ?? ""
        let retryAfter = WireParsing.retryAfter(headers)
        if code == "insufficient_quota" || type == "insufficient_quota" || code == "billing_hard_limit_reached" {
            return ProviderError(.quotaExhausted, status: status, message: message)
        }
        if code == "context_length_exceeded" || message.contains("maximum context length") || code == "string_above_max_length" {
            return ProviderError(.contextTooLong, status: status, message: message)
        }
        if code == "content_policy_violation" || code == "content_filter" || type == "content_policy_violation" {
            return ProviderError(.contentPolicy, status: status, message: message)
        }
        if code == "model_not_found" || (status == 404 && message.lowercased().contains("model")) {
            return ProviderError(.modelNotFound, status: status, message: message)
        }
        if code == "invalid_api_key" || type == "authentication_error" {
            return ProviderError(.authInvalid, status: status, message: message)
        }
        if code == "rate_limit_exceeded" || type == "rate_limit_exceeded" || type == "requests" || type == "tokens" {
            return ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
        }
        return WireParsing.byStatus(status, message: message, retryAfter: retryAfter)
    }

    func rateLimits(from headers: [String: String]) -> ProviderRateLimits {
        ProviderRateLimits(
            remainingRequests: headers["x-ratelimit-remaining-requests"].flatMap { Int($0) },
            remainingTokens: headers["x-ratelimit-remaining-tokens"].flatMap { Int($0) },
            requestsReset: headers["x-ratelimit-reset-requests"].flatMap(WireParsing.goDuration),
            tokensReset: headers["x-ratelimit-reset-tokens"].flatMap(WireParsing.goDuration))
    }
}
