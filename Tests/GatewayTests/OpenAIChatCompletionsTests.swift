import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// `POST /v1/chat/completions` answered in OpenAI's format whatever upstream serves it,
/// streamed and not, with tools, failover and errors a client can act on.
@Suite struct OpenAIChatCompletionsTests {
    static func request(_ model: String, stream: Bool = false, extra: String = "") -> String {
        """
        {"model": "\(model)", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
         "max_tokens": 50, "stream": \(stream)\(extra)}
        """
    }

    @Test(arguments: Upstream.allCases)
    func aCompletionIsInOpenAIsFormatFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Hi there", inputTokens: 11, outputTokens: 3))])
            let response = try await client.post("/v1/chat/completions", json: Self.request(upstream.model))
            #expect(response.status == .ok)
            let json = response.json
            #expect(json["object"] == "chat.completion")
            #expect(json["model"]?.string == upstream.model)
            #expect(json["id"]?.string?.hasPrefix("chatcmpl-") == true)
            #expect(json["choices"]?[0]?["message"]?["role"] == "assistant")
            #expect(json["choices"]?[0]?["message"]?["content"] == "Hi there")
            #expect(json["choices"]?[0]?["finish_reason"] == "stop")
            #expect(json["usage"] == ["prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14])
            // The system prompt and the token limit reached the upstream in its own format.
            let sent = try #require(fixture.upstream.requests.last?.json)
            #expect(sent.jsonText.contains("Be brief."))
            #expect(sent.jsonText.contains("50"))
        }
    }

    @Test(arguments: Upstream.allCases)
    func aStreamIsChunksEndingInDoneFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Streaming works fine", inputTokens: 9, outputTokens: 4))])
            let response = try await client.post(
                "/v1/chat/completions", json: Self.request(upstream.model, stream: true, extra: #", "stream_options": {"include_usage": true}"#))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = events.dropLast().compactMap { JSONValue(parsing: Array($0.utf8)) }
            #expect(chunks.count == events.count - 1)
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["model"]?.string == upstream.model })
            #expect(Set(chunks.compactMap { $0["id"]?.string }).count == 1)
            #expect(chunks.first?["choices"]?[0]?["delta"]?["role"] == "assistant")
            let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined()
            #expect(text == "Streaming works fine")
            #expect(chunks.contains { $0["choices"]?[0]?["finish_reason"] == "stop" })
            // Asked for: the usage chunk, with no choices, just before [DONE].
            #expect(chunks.last?["choices"] == [])
            #expect(chunks.last?["usage"] == ["prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13])
        }
    }

    @Test func aStreamWithoutIncludeUsageSendsNoUsageChunk() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { _, client in
            let response = try await client.post("/v1/chat/completions", json: Self.request(Upstream.openai.model, stream: true))
            let chunks = response.events.dropLast().compactMap { JSONValue(parsing: Array($0.utf8)) }
            #expect(!chunks.isEmpty)
            #expect(chunks.allSatisfy { $0["usage"] == nil })
        }
    }

    @Test(arguments: Upstream.allCases)
    func toolsGoUpAndToolCallsComeBack(_ upstream: Upstream) async throws {
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)
        let tools = #", "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "", toolCalls: [call])), .reply(FakeReply(text: "", toolCalls: [call]))])
            let response = try await client.post("/v1/chat/completions", json: Self.request(upstream.model, extra: tools))
            #expect(response.status == .ok)
            let choice = response.json["choices"]?[0]
            #expect(choice?["finish_reason"] == "tool_calls")
            #expect(choice?["message"]?["content"] == .null)
            let returned = choice?["message"]?["tool_calls"]?[0]
            #expect(returned?["type"] == "function")
            #expect(returned?["function"]?["name"] == "get_weather")
            #expect(returned?["function"]?["arguments"]?.string.flatMap { JSONValue(parsing: Array($0.utf8)) } == ["city": "Paris"])
            #expect(fixture.upstream.requests.last?.json?.jsonText.contains("get_weather") == true)
            // Streamed: one tool-call chunk with index 0.
            let streamed = try await client.post("/v1/chat/completions", json: Self.request(upstream.model, stream: true, extra: tools))
            let chunks = streamed.events.dropLast().compactMap { JSONValue(parsing: Array($0.utf8)) }
            let fragments = chunks.compactMap { $0["choices"]?[0]?["delta"]?["tool_calls"]?[0] }
            #expect(fragments.count == 1)
            #expect(fragments.first?["index"] == 0)
            #expect(fragments.first?["function"]?["name"] == "get_weather")
            #expect(chunks.contains { $0["choices"]?[0]?["finish_reason"] == "tool_calls" })
        }
    }

    /// A conversation with a tool result: the upstream gets the call and its result.
    @Test func aToolResultConversationReachesTheUpstream() async throws {
        let body = """
            {"model": "gemini-model", "messages": [
              {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
              {"role": "assistant", "content": null, "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
              {"role": "tool", "tool_call_id": "call_9", "content": "Sunny"}]}
            """
        try await GatewayFixture.run(keys: [("k1", .gemini)]) { fixture, client in
            let response = try await client.post("/v1/chat/completions", json: body)
            #expect(response.status == .ok)
            let sent = try #require(fixture.upstream.requests.last?.json?.jsonText)
            // Gemini answers a tool result by function name: found from the assistant's call.
            #expect(sent.contains("get_weather"))
            #expect(sent.contains("Sunny"))
            #expect(sent.contains("image/png"))
        }
    }

    /// A rate-limited key is the gateway's problem, not the caller's: the next key answers.
    @Test func failoverIsInvisibleToTheCaller() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .openai)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.rateLimited(retryAfterSeconds: 30)])
            fixture.upstream.script(secret: GatewayFixture.secret("k2"), [.reply(FakeReply(text: "from k2"))])
            let response = try await client.post("/v1/chat/completions", json: Self.request(Upstream.openai.model))
            #expect(response.status == .ok)
            #expect(response.json["choices"]?[0]?["message"]?["content"] == "from k2")
            // k1 cools down for the 30 s its 429 asked: the next request goes straight to k2.
            let next = try await client.post("/v1/chat/completions", json: Self.request(Upstream.openai.model))
            #expect(next.status == .ok)
            #expect(fixture.upstream.requests.map(\.secret) == ["k1", "k2", "k2"].map(GatewayFixture.secret))
        }
    }

    /// Every key cooling down: 429 with `retry-after` from the upstream's own, in OpenAI's shape.
    @Test func everyKeyCoolingDownIsA429WithRetryAfter() async throws {
        try await GatewayFixture.run(keys: [("k1", .anthropic)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.rateLimited(retryAfterSeconds: 20)])
            let first = try await client.post("/v1/chat/completions", json: Self.request(Upstream.anthropic.model))
            #expect(first.status == .tooManyRequests || first.status == .badGateway)
            let second = try await client.post("/v1/chat/completions", json: Self.request(Upstream.anthropic.model))
            #expect(second.status == .tooManyRequests)
            let retryAfter = try #require(second.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...20).contains(retryAfter))
            #expect(second.json["error"]?["type"] == "rate_limit_error")
            #expect(second.json["error"]?["code"] == "no_key_available")
        }
    }

    /// A spent hard budget: 429 `budget_exceeded` with `retry-after` at the period's end.
    @Test func aSpentBudgetIsA429UntilThePeriodEnds() async throws {
        let budget = Budget(id: "tiny", period: .day, limit: Money(nanodollars: 1_000))
        try await GatewayFixture.run(keys: [("k1", .openai)], budget: budget) { fixture, client in
            let response = try await client.post("/v1/chat/completions", json: Self.request(Upstream.openai.model))
            #expect(response.status == .tooManyRequests)
            #expect(response.json["error"]?["code"] == "budget_exceeded")
            let retryAfter = try #require(response.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...86_400).contains(retryAfter))
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    /// Upstream failing on every key: 502, and the message says which failure without a secret.
    @Test func anUpstreamFailingEverywhereIsA502WithoutSecrets() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .openai)]) { fixture, client in
            for id in ["k1", "k2"] {
                fixture.upstream.script(secret: GatewayFixture.secret(id), Array(repeating: .error(status: 500, body: #"{"error": {"message": "boom"}}"#), count: 3))
            }
            let response = try await client.post("/v1/chat/completions", json: Self.request(Upstream.openai.model))
            #expect(response.status == .badGateway)
            #expect(response.json["error"]?["type"] == "api_error")
            #expect(!String(buffer: response.body).contains("sk-gateway"))
        }
    }

    @Test func badRequestsAreOpenAIErrorsNamingTheMember() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], maxBodyBytes: 4_096) { fixture, client in
            let cases: [(String, HTTPResponse.Status, String?)] = [
                ("not json", .badRequest, nil),
                (#"{"messages": [{"role": "user", "content": "hi"}]}"#, .badRequest, "model"),
                (#"{"model": "openai-model", "messages": []}"#, .badRequest, "messages"),
                (#"{"model": "openai-model", "messages": [{"role": "wizard", "content": "hi"}]}"#, .badRequest, "messages[0].role"),
                (#"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}], "temperature": 9}"#, .badRequest, "temperature"),
                (#"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}], "n": 3}"#, .badRequest, "n"),
                (#"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}"#, .badRequest, "max_tokens"),
                (#"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}"#, .badRequest, "stream"),
                (#"{"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}"#, .notFound, "model"),
            ]
            for (body, status, parameter) in cases {
                let response = try await client.post("/v1/chat/completions", json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.json["error"]?["type"] == "invalid_request_error", "\(body)")
                #expect(response.json["error"]?["param"]?.string == parameter, "\(body)")
            }
            let huge = try await client.post("/v1/chat/completions", json: Self.request(String(repeating: "x", count: 8_192)))
            #expect(huge.status == .contentTooLarge)
            #expect(huge.json["error"]?["code"] == "request_too_large")
            #expect(fixture.upstream.requests.isEmpty)
        }
    }
}
