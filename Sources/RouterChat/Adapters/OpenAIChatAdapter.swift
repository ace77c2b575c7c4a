internal import RouterSDK
import Foundation

/// OpenAI chat completions (`POST {base}/chat/completions`, `Authorization: Bearer`), the format
/// Groq, Mistral, OpenRouter, Ollama's `/v1` and most compatible servers speak.
struct OpenAIChatAdapter: ProviderAdapter {
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool, options: RequestOptions) throws(ProviderError) -> TransportRequest {
        var json = JSONWriter(capacity: 256 + TokenEstimator.textBytes(of: chat))
        json.beginObject()
        json.key("model")
        json.string(model)
        json.key("messages")
        json.beginArray()
        if let system = chat.system {
            json.beginObject()
            json.key("role")
            json.literal("system")
            json.key("content")
            json.string(system)
            json.endObject()
        }
        for message in chat.messages { Self.encode(message, into: &json) }
        json.endArray()
        // Reasoning models (o-series, gpt-5) refuse `max_tokens`.
        json.key(options.maxCompletionTokens ? "max_completion_tokens" : "max_tokens")
        json.integer(maxTokens)
        if let temperature = chat.temperature {
            json.key("temperature")
            json.number(temperature)
        }
        if !chat.stop.isEmpty { WireParsing.writeStrings(chat.stop, key: "stop", into: &json) }
        if !chat.tools.isEmpty {
            json.key("tools")
            json.beginArray()
            for tool in chat.tools {
                json.beginObject()
                json.key("type")
                json.literal("function")
                json.key("function")
                WireParsing.writeDeclaration(of: tool, schemaKey: "parameters", into: &json)
                json.endObject()
            }
            json.endArray()
        }
        if chat.responseFormat == .json {
            json.key("response_format")
            json.beginObject()
            json.key("type")
            json.literal("json_object")
            json.endObject()
        }
        if stream {
            json.key("stream")
            json.bool(true)
            // Without this the stream carries no usage, and the call could not be settled exactly.
            json.key("stream_options")
            json.beginObject()
            json.key("include_usage")
            json.bool(true)
            json.endObject()
        }
        json.endObject()
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if stream { headers.append(("Accept", "text/event-stream")) }
        if let secret, !secret.isEmpty { headers.append(("Authorization", "Bearer " + secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, "/chat/completions"), headers: headers, body: json.bytes)
    }

    private static func encode(_ message: ChatMessage, into json: inout JSONWriter) {
        json.beginObject()
        json.key("role")
        json.string(message.role.rawValue)
        json.key("content")
        let onlyText = message.content.allSatisfy { if case .text = $0 { true } else { false } }
        if onlyText {
            if message.content.isEmpty && !message.toolCalls.isEmpty {
                json.null()
            } else {
                json.beginString()
                for case .text(let text) in message.content { json.stringPart(text) }
                json.endString()
            }
        } else {
            json.beginArray()
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
                    json.literal("image_url")
                    json.key("image_url")
                    json.beginObject()
                    json.key("url")
                    json.string(url)
                    json.endObject()
                case .imageData(let data, let mediaType):
                    json.key("type")
                    json.literal("image_url")
                    json.key("image_url")
                    json.beginObject()
                    json.key("url")
                    json.beginString()
                    json.stringPart("data:")
                    json.stringPart(mediaType)
                    json.stringPart(";base64,")
                    json.stringPart(WireParsing.base64(data))
                    json.endString()
                    json.endObject()
                }
                json.endObject()
            }
            json.endArray()
        }
        if !message.toolCalls.isEmpty {
            json.key("tool_calls")
            json.beginArray()
            for call in message.toolCalls {
                json.beginObject()
                json.key("id")
                json.string(call.id)
                json.key("type")
                json.literal("function")
                json.key("function")
                json.beginObject()
                json.key("name")
                json.string(call.name)
                json.key("arguments")
                json.string(call.arguments)
                json.endObject()
                json.endObject()
            }
            json.endArray()
        }
        if let id = message.toolCallID {
            json.key("tool_call_id")
            json.string(id)
        }
        json.endObject()
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        // Foundation keeps the first of duplicate members; so does every `== nil` guard here.
        var sawMessage = false
        var text: String?
        var toolCalls: [ToolCall]?
        var finish: String?
        var input: Int64?
        var output: Int64?
        var sawUsage = false
        var sawChoices = false
        var badToolCall = false
        try WireParsing.read(body, "OpenAI response") { json in
            try json.forEachMember { json, key in
                switch key {
                case "choices" where !sawChoices:
                    sawChoices = true
                    try json.forEachElement { json, position in
                        guard position == 0 else { return try json.skipValue() }
                        var sawMembers = FirstSeen()
                        try json.forEachMember { json, key in
                            switch key {
                            case "message" where sawMembers.first(0):
                                sawMessage = true
                                var sawContent = false
                                try json.forEachMember { json, key in
                                    switch key {
                                    case "content" where !sawContent:
                                        sawContent = true
                                        text = try json.string()
                                    case "tool_calls" where toolCalls == nil:
                                        var calls: [ToolCall] = []
                                        try json.forEachElement { json, _ in
                                            if let call = try Self.toolCall(&json) { calls.append(call) } else { badToolCall = true }
                                        }
                                        toolCalls = calls
                                    default: try json.skipValue()
                                    }
                                }
                            case "finish_reason" where sawMembers.first(1):
                                finish = try json.string()
                            default: try json.skipValue()
                            }
                        }
                    }
                case "usage" where !sawUsage:
                    sawUsage = true
                    var seen = FirstSeen()
                    try json.forEachMember { json, key in
                        switch key {
                        case "prompt_tokens" where seen.first(0):
                            input = try json.integer()
                        case "completion_tokens" where seen.first(1):
                            output = try json.integer()
                        default: try json.skipValue()
                        }
                    }
                default: try json.skipValue()
                }
            }
        }
        guard sawMessage else { throw ProviderError(.malformedResponse, message: "the OpenAI response has no choices[0].message") }
        guard !badToolCall else { throw ProviderError(.malformedResponse, message: "an OpenAI tool call has no id or function name") }
        guard let input = WireParsing.tokens(input), let output = WireParsing.tokens(output) else {
            throw ProviderError(.malformedResponse, message: "the OpenAI response has no usage")
        }
        return DecodedReply(text: text ?? "", toolCalls: toolCalls ?? [], finishReason: Self.finishReason(finish), usage: Usage(inputTokens: input, outputTokens: output))
    }

    /// One complete tool call (`nil`: not an object, or no id or function name).
    private static func toolCall(_ json: inout JSONReader) throws -> ToolCall? {
        let fields = try ToolCallFields(&json)
        guard fields.isObject, let id = fields.id, let name = fields.name else { return nil }
        return ToolCall(id: id, name: name, arguments: fields.arguments ?? "{}")
    }

    /// The members of a tool call, whole (a reply) or a fragment of one (a stream delta).
    struct ToolCallFields {
        var isObject = false
        var index = 0
        var id: String?
        var name: String?
        var arguments: String?

        init(_ json: inout JSONReader) throws {
            var seen = FirstSeen()
            var fields = self
            isObject = try json.forEachMember { json, key in
                switch key {
                case "index" where seen.first(0):
                    fields.index = Int(try json.integer() ?? 0)
                case "id" where seen.first(1):
                    fields.id = try json.string()
                case "function" where seen.first(2):
                    var seenFunction = FirstSeen()
                    try json.forEachMember { json, key in
                        switch key {
                        case "name" where seenFunction.first(0):
                            fields.name = try json.string()
                        case "arguments" where seenFunction.first(1):
                            fields.arguments = try json.string()
                        default: try json.skipValue()
                        }
                    }
                default: try json.skipValue()
                }
            }
            (index, id, name, arguments) = (fields.index, fields.id, fields.name, fields.arguments)
        }
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

        mutating func decode(_ event: RawServerSentEvent, into pieces: inout [StreamPiece]) throws(ProviderError) {
            if event.dataIs("[DONE]") {
                finish(into: &pieces)
                pieces.append(.end)
                return
            }
            var text: String?
            var finishReason: String?
            var usage: (input: Int64?, output: Int64?)?
            var error: JSONValue?
            var seen = FirstSeen()
            var fragments: [(index: Int, id: String?, name: String?, arguments: String?)] = []
            try WireParsing.read(event.data, "OpenAI stream event") { json in
                try json.forEachMember { json, key in
                    switch key {
                    case "error" where seen.first(0):
                        let value = try json.value()
                        if value != .null { error = value }
                    case "choices" where seen.first(1):
                        try json.forEachElement { json, position in
                            guard position == 0 else { return try json.skipValue() }
                            var seenChoice = FirstSeen()
                            try json.forEachMember { json, key in
                                switch key {
                                case "delta" where seenChoice.first(0):
                                    var seenDelta = FirstSeen()
                                    try json.forEachMember { json, key in
                                        switch key {
                                        case "content" where seenDelta.first(0):
                                            text = try json.string()
                                        case "tool_calls" where seenDelta.first(1):
                                            try json.forEachElement { json, _ in
                                                // One that is not an object counts as an empty
                                                // fragment at index 0, as the tree path read it.
                                                let fields = try ToolCallFields(&json)
                                                fragments.append((fields.index, fields.id, fields.name, fields.arguments))
                                            }
                                        default: try json.skipValue()
                                        }
                                    }
                                case "finish_reason" where seenChoice.first(1):
                                    finishReason = try json.string()
                                default: try json.skipValue()
                                }
                            }
                        }
                    case "usage" where seen.first(2):
                        if try json.null() { return }
                        var reported: (input: Int64?, output: Int64?) = (nil, nil)
                        var seenUsage = FirstSeen()
                        try json.forEachMember { json, key in
                            switch key {
                            case "prompt_tokens" where seenUsage.first(0):
                                reported.input = try json.integer()
                            case "completion_tokens" where seenUsage.first(1):
                                reported.output = try json.integer()
                            default: try json.skipValue()
                            }
                        }
                        usage = reported
                    default: try json.skipValue()
                    }
                }
            }
            if let error { throw OpenAIChatAdapter.classifyStreamError(error) }
            if let text, !text.isEmpty { pieces.append(.text(text)) }
            for fragment in fragments {
                var call = calls[fragment.index] ?? (id: "", name: "", arguments: "")
                if let id = fragment.id { call.id = id }
                if let name = fragment.name { call.name += name }
                if let arguments = fragment.arguments { call.arguments += arguments }
                calls[fragment.index] = call
            }
            if let finishReason { pieces.append(.finish(OpenAIChatAdapter.finishReason(finishReason))) }
            if let usage { pieces.append(.usage(input: WireParsing.tokens(usage.input), output: WireParsing.tokens(usage.output))) }
        }

        mutating func finish(into pieces: inout [StreamPiece]) {
            defer { calls.removeAll() }
            for index in calls.keys.sorted() {
                guard let call = calls[index] else { continue }
                pieces.append(.toolCall(ToolCall(id: call.id, name: call.name, arguments: call.arguments.isEmpty ? "{}" : call.arguments)))
            }
        }
    }

    /// An `error` object inside a stream, classified as a response carrying it would be: by its
    /// code and type first, then by the HTTP status its `code` names (a relayed error often
    /// carries one), and as a server error when nothing says otherwise.
    static func classifyStreamError(_ error: JSONValue) -> ProviderError {
        let code = error["code"]?.integer ?? error["code"]?.string.flatMap { Int64($0) } ?? error["status"]?.integer
        let status = code.flatMap { (400...599).contains($0) ? Int($0) : nil } ?? 500
        return classify(status: status, body: ["error": error], headers: [:])
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
        let headers = WireParsing.unforwarded(headers)
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
        let message = error["message"]?.string ?? error.string ?? body.string ?? ""
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
        if code == "model_not_found" || ([400, 404, 422].contains(status) && WireParsing.saysUnknownModel(message)) || (status == 404 && message.lowercased().contains("model")) {
            return ProviderError(.modelNotFound, status: status, message: message)
        }
        if code == "invalid_api_key" || type == "authentication_error" {
            return ProviderError(.authInvalid, status: status, message: message)
        }
        if code == "rate_limit_exceeded" || type == "rate_limit_exceeded" || type == "requests" || type == "tokens" || (status == 429 && code != "insufficient_quota") {
            var error = ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
            // OpenAI's limits are per model ("Rate limit reached for gpt-4o-mini in organization
            // … on requests per min"): another model on the same key is not limited.
            error.isModelScoped = message.lowercased().contains("rate limit reached for") || type == "requests" || type == "tokens"
            return error
        }
        if type == "server_error" || code == "server_error" {
            return ProviderError(.serverError, status: status, message: message)
        }
        return WireParsing.byStatus(status, message: message, retryAfter: retryAfter)
    }

    func rateLimits(from headers: [String: String]) -> ProviderRateLimits {
        guard !headers.isEmpty else { return ProviderRateLimits() }
        let headers = WireParsing.unforwarded(headers)
        return ProviderRateLimits(
            remainingRequests: headers["x-ratelimit-remaining-requests"].flatMap { Int($0) },
            remainingTokens: headers["x-ratelimit-remaining-tokens"].flatMap { Int($0) },
            requestsReset: headers["x-ratelimit-reset-requests"].flatMap(WireParsing.goDuration),
            tokensReset: headers["x-ratelimit-reset-tokens"].flatMap(WireParsing.goDuration))
    }
}
