import Foundation
@testable import RouterSDK
@testable import RouterChat
import Testing

/// Responses, stream events and errors as the providers' public API references show them
/// (OpenAI "Create chat completion" and "Error codes", Anthropic "Messages", "Streaming
/// Messages" and "Errors", Google "Generating content" and "Troubleshooting"), decoded by the
/// adapters; and the request each adapter builds for a reference conversation.
@Suite struct GoldenFixtureTests {
    // MARK: OpenAI

    static let openAIResponse = """
        {
          "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          "object": "chat.completion",
          "created": 1741569952,
          "model": "gpt-4.1-2025-04-14",
          "choices": [
            {
              "index": 0,
              "message": {"role": "assistant", "content": "Hello! How can I assist you today?", "refusal": null, "annotations": []},
              "logprobs": null,
              "finish_reason": "stop"
            }
          ],
          "usage": {
            "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
          },
          "service_tier": "default"
        }
        """

    static let openAIToolResponse = """
        {
          "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916, "model": "gpt-4o-mini",
          "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": [
              {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\\n\\"location\\": \\"Boston, MA\\"\\n}"}}
            ]},
            "logprobs": null, "finish_reason": "tool_calls"
          }],
          "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
        }
        """

    static let openAIStream = """
        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}

        data: [DONE]


        """

    @Test func openAIResponsesDecode() throws {
        let adapter = OpenAIChatAdapter()
        let reply = try adapter.decodeReply(Array(Self.openAIResponse.utf8))
        #expect(reply == DecodedReply(text: "Hello! How can I assist you today?", toolCalls: [], finishReason: .stop, usage: Usage(inputTokens: 19, outputTokens: 10)))
        let tool = try adapter.decodeReply(Array(Self.openAIToolResponse.utf8))
        #expect(tool.finishReason == .toolCalls)
        #expect(tool.toolCalls == [ToolCall(id: "call_abc123", name: "get_current_weather", arguments: "{\n\"location\": \"Boston, MA\"\n}")])
        #expect(tool.usage == Usage(inputTokens: 82, outputTokens: 17))
        let pieces = try decodeStream(adapter, Self.openAIStream)
        #expect(pieces == [.text("Hello"), .finish(.stop), .usage(input: 9, output: 1), .end])
    }

    @Test func openAIErrorsClassify() {
        let adapter = OpenAIChatAdapter()
        func kind(_ status: Int, _ body: String, _ headers: [String: String] = [:]) -> ProviderError {
            adapter.classify(status: status, headers: headers, body: Array(body.utf8))
        }
        let limited = kind(429, #"{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#, ["x-ratelimit-reset-requests": "20s", "x-ratelimit-remaining-requests": "0"])
        #expect(limited.kind == .rateLimited && limited.retryAfter == .seconds(20))
        #expect(kind(429, #"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#).kind == .quotaExhausted)
        #expect(kind(400, #"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#).kind == .contextTooLong)
        #expect(kind(401, #"{"error":{"message":"Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#).kind == .authInvalid)
        #expect(kind(404, #"{"error":{"message":"The model `gpt-5-turbo` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#).kind == .modelNotFound)
        #expect(kind(400, #"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}"#).kind == .contentPolicy)
        #expect(kind(500, #"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#).kind == .serverError)
        #expect(kind(503, "<html>Service Unavailable</html>", ["retry-after": "7"]) == ProviderError(.overloaded, status: 503, message: "", retryAfter: .seconds(7)))
        #expect(kind(418, "not json at all").kind == .badRequest)
        let limits = adapter.rateLimits(from: ["x-ratelimit-remaining-requests": "59", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"])
        #expect(limits == ProviderRateLimits(remainingRequests: 59, remainingTokens: 0, requestsReset: .seconds(1), tokensReset: .seconds(360)))
        #expect(limits.exhaustedFor == .seconds(360))
    }

    // MARK: Anthropic

    static let anthropicResponse = """
        {
          "content": [{"text": "Hi! My name is Claude.", "type": "text"}],
          "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
          "model": "claude-3-7-sonnet-20250219",
          "role": "assistant",
          "stop_reason": "end_turn",
          "stop_sequence": null,
          "type": "message",
          "usage": {"input_tokens": 2095, "output_tokens": 503}
        }
        """

    static let anthropicStream = """
        event: message_start
        data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-3-7-sonnet-20250219", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

        event: content_block_start
        data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San Francisco, CA\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: message_delta
        data: {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence":null}, "usage": {"output_tokens": 15}}

        event: message_stop
        data: {"type": "message_stop"}


        """

    @Test func anthropicResponsesDecode() throws {
        let adapter = AnthropicMessagesAdapter()
        #expect(try adapter.decodeReply(Array(Self.anthropicResponse.utf8)) == DecodedReply(text: "Hi! My name is Claude.", toolCalls: [], finishReason: .stop, usage: Usage(inputTokens: 2095, outputTokens: 503)))
        let pieces = try decodeStream(adapter, Self.anthropicStream)
        #expect(pieces == [
            .usage(input: 25, output: 1), .text("Hello"), .text("!"),
            .toolCall(ToolCall(id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: #"{"location": "San Francisco, CA"}"#)),
            .finish(.toolCalls), .usage(input: nil, output: 15), .end,
        ])
    }

    @Test func anthropicErrorsClassify() {
        let adapter = AnthropicMessagesAdapter()
        func kind(_ status: Int, _ type: String, _ message: String) -> ProviderError.Kind {
            adapter.classify(status: status, headers: ["retry-after": "12"], body: Array(#"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"}}"#.utf8)).kind
        }
        #expect(kind(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit") == .rateLimited)
        #expect(kind(401, "authentication_error", "invalid x-api-key") == .authInvalid)
        #expect(kind(403, "permission_error", "Your API key does not have permission to use the specified resource.") == .authInvalid)
        #expect(kind(404, "not_found_error", "The requested resource could not be found.") == .modelNotFound)
        #expect(kind(529, "overloaded_error", "Overloaded") == .overloaded)
        #expect(kind(500, "api_error", "An unexpected error has occurred internal to Anthropic's systems.") == .serverError)
        #expect(kind(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.") == .contextTooLong)
        #expect(kind(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum") == .contextTooLong)
        #expect(kind(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.") == .quotaExhausted)
        #expect(kind(400, "invalid_request_error", "messages: roles must alternate") == .badRequest)
        #expect(adapter.classify(status: 429, headers: ["retry-after": "12"], body: []).retryAfter == .seconds(12))
    }

    // MARK: Gemini

    static let geminiResponse = """
        {
          "candidates": [
            {"content": {"parts": [{"text": "AI learns patterns from data to make predictions."}], "role": "model"}, "finishReason": "STOP", "avgLogprobs": -0.12}
          ],
          "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 12, "totalTokenCount": 20, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
          "modelVersion": "gemini-2.0-flash"
        }
        """

    static let geminiStream = """
        data: {"candidates": [{"content": {"parts": [{"text": "AI"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.0-flash"}

        data: {"candidates": [{"content": {"parts": [{"text": " learns from data."}],"role": "model"},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 6,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash"}


        """

    @Test func geminiResponsesDecode() throws {
        let adapter = GeminiAdapter()
        #expect(try adapter.decodeReply(Array(Self.geminiResponse.utf8)) == DecodedReply(text: "AI learns patterns from data to make predictions.", toolCalls: [], finishReason: .stop, usage: Usage(inputTokens: 8, outputTokens: 12)))
        let pieces = try decodeStream(adapter, Self.geminiStream)
        #expect(pieces == [.text("AI"), .usage(input: 8, output: 0), .text(" learns from data."), .usage(input: 8, output: 6), .finish(.stop), .end])
        let blocked = #"{"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": {"promptTokenCount": 7}}"#
        #expect(throws: ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: SAFETY")) { try adapter.decodeReply(Array(blocked.utf8)) }
    }

    @Test func geminiErrorsClassify() {
        let adapter = GeminiAdapter()
        let rateLimited = """
            {"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED",
              "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "43s"}]}}
            """
        let limited = adapter.classify(status: 429, headers: [:], body: Array(rateLimited.utf8))
        #expect(limited.kind == .rateLimited && limited.retryAfter == .seconds(43))
        let daily = rateLimited.replacingOccurrences(of: "PerMinute", with: "PerDay")
        #expect(adapter.classify(status: 429, headers: [:], body: Array(daily.utf8)).kind == .quotaExhausted)
        let invalidKey = #"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}"#
        #expect(adapter.classify(status: 400, headers: [:], body: Array(invalidKey.utf8)).kind == .authInvalid)
        func kind(_ status: Int, _ grpc: String, _ message: String) -> ProviderError.Kind {
            adapter.classify(status: status, headers: [:], body: Array(#"{"error": {"code": \#(status), "message": "\#(message)", "status": "\#(grpc)"}}"#.utf8)).kind
        }
        #expect(kind(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta") == .modelNotFound)
        #expect(kind(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).") == .contextTooLong)
        #expect(kind(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.") == .authInvalid)
        #expect(kind(503, "UNAVAILABLE", "The model is overloaded. Please try again later.") == .overloaded)
        #expect(kind(500, "INTERNAL", "An internal error has occurred.") == .serverError)
        #expect(kind(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.") == .timeout)
    }

    // MARK: Requests

    @Test func referenceConversationEncodesAsEachProviderDocumentsIt() throws {
        let chat = ChatRequest(model: "m", messages: [.user("Hello"), .assistant("Hi! How can I help?"), .user("Tell me a joke.")], system: "You are terse.", maxTokens: 100)
        let secret: Secret = "sk-golden"
        let openAI = try OpenAIChatAdapter().makeRequest(chat, model: "gpt-4o-mini", baseURL: "https://api.openai.com/v1/", secret: secret, maxTokens: 100, stream: false)
        #expect(openAI.url == "https://api.openai.com/v1/chat/completions")
        #expect(openAI.header("Authorization") == "Bearer sk-golden")
        #expect(JSONValue(parsing: openAI.body) == JSONValue(parsing: Array("""
            {"model": "gpt-4o-mini", "max_tokens": 100, "messages": [
              {"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"},
              {"role": "assistant", "content": "Hi! How can I help?"}, {"role": "user", "content": "Tell me a joke."}]}
            """.utf8)))
        let anthropic = try AnthropicMessagesAdapter().makeRequest(chat, model: "claude-sonnet-4-5", baseURL: "https://api.anthropic.com/v1", secret: secret, maxTokens: 100, stream: true)
        #expect(anthropic.url == "https://api.anthropic.com/v1/messages")
        #expect(anthropic.header("x-api-key") == "sk-golden" && anthropic.header("anthropic-version") == "2023-06-01")
        #expect(JSONValue(parsing: anthropic.body) == JSONValue(parsing: Array("""
            {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "You are terse.", "stream": true, "messages": [
              {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
              {"role": "assistant", "content": [{"type": "text", "text": "Hi! How can I help?"}]},
              {"role": "user", "content": [{"type": "text", "text": "Tell me a joke."}]}]}
            """.utf8)))
        let gemini = try GeminiAdapter().makeRequest(chat, model: "gemini-2.5-flash", baseURL: "https://generativelanguage.googleapis.com/v1beta", secret: secret, maxTokens: 100, stream: false)
        #expect(gemini.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
        #expect(gemini.header("x-goog-api-key") == "sk-golden")
        #expect(JSONValue(parsing: gemini.body) == JSONValue(parsing: Array("""
            {"contents": [
              {"role": "user", "parts": [{"text": "Hello"}]}, {"role": "model", "parts": [{"text": "Hi! How can I help?"}]},
              {"role": "user", "parts": [{"text": "Tell me a joke."}]}],
             "systemInstruction": {"parts": [{"text": "You are terse."}]}, "generationConfig": {"maxOutputTokens": 100}}
            """.utf8)))
        // A keyless provider (a local Ollama) gets no Authorization header.
        let keyless = try OpenAIChatAdapter().makeRequest(chat, model: "llama3.2", baseURL: "http://127.0.0.1:11434/v1", secret: nil, maxTokens: 100, stream: false)
        #expect(keyless.header("Authorization") == nil)
    }

    private func decodeStream(_ adapter: some ProviderAdapter, _ text: String) throws -> [StreamPiece] {
        var parser = ServerSentEventParser()
        var decoder = adapter.makeStreamDecoder()
        var pieces: [StreamPiece] = []
        // Feed in 7-byte chunks: events split across reads must decode the same.
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: 7) {
            for event in try parser.feed(bytes[start..<min(start + 7, bytes.count)]) { pieces += try decoder.decode(event) }
        }
        return pieces + decoder.finish()
    }
}
