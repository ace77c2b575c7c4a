import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// `POST /v1/messages` answered in Anthropic's format whatever upstream serves it, streamed as
/// Anthropic's event sequence and not, with tools, failover and errors in Anthropic's shape.
@Suite struct AnthropicMessagesTests {
    static func request(_ model: String, stream: Bool = false, extra: String = "") -> String {
        """
        {"model": "\(model)", "system": "Be brief.", "messages": [{"role": "user", "content": "Hello"}],
         "max_tokens": 50, "stream": \(stream)\(extra)}
        """
    }

    static let tools = #", "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]"#

    @Test(arguments: Upstream.allCases)
    func aMessageIsInAnthropicsFormatFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Hi there", inputTokens: 11, outputTokens: 3))])
            let response = try await client.post("/v1/messages", json: Self.request(upstream.model))
            #expect(response.status == .ok)
            let json = response.json
            #expect(json["type"] == "message")
            #expect(json["role"] == "assistant")
            #expect(json["model"]?.string == upstream.model)
            #expect(json["id"]?.string?.hasPrefix("msg_") == true)
            #expect(json["content"] == [["type": "text", "text": "Hi there"]])
            #expect(json["stop_reason"] == "end_turn")
            #expect(json["stop_sequence"] == .null)
            #expect(json["usage"] == ["input_tokens": 11, "output_tokens": 3])
            let sent = try #require(fixture.upstream.requests.last?.json)
            #expect(sent.jsonText.contains("Be brief."))
            #expect(sent.jsonText.contains("50"))
        }
    }

    @Test(arguments: Upstream.allCases)
    func aStreamIsAnthropicsEventSequenceFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Streaming works fine", inputTokens: 9, outputTokens: 4))])
            let response = try await client.post("/v1/messages", json: Self.request(upstream.model, stream: true))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = response.namedEvents
            // Each event's name is its data's type, and the sequence is Anthropic's.
            #expect(events.allSatisfy { $0.data["type"]?.string == $0.name })
            let names = events.map(\.name).filter { $0 != "content_block_delta" }
            #expect(names == ["message_start", "ping", "content_block_start", "content_block_stop", "message_delta", "message_stop"])
            #expect(events.first?.data["message"]?["model"]?.string == upstream.model)
            #expect(events.first?.data["message"]?["content"] == [])
            let deltas = events.filter { $0.name == "content_block_delta" }
            #expect(!deltas.isEmpty)
            #expect(deltas.allSatisfy { $0.data["index"] == 0 && $0.data["delta"]?["type"] == "text_delta" })
            #expect(deltas.compactMap { $0.data["delta"]?["text"]?.string }.joined() == "Streaming works fine")
            let end = try #require(events.first { $0.name == "message_delta" })
            #expect(end.data["delta"]?["stop_reason"] == "end_turn")
            #expect(end.data["usage"] == ["input_tokens": 9, "output_tokens": 4])
        }
    }

    @Test(arguments: Upstream.allCases)
    func toolsGoUpAndToolUseComesBack(_ upstream: Upstream) async throws {
        let call = ToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "", toolCalls: [call])), .reply(FakeReply(text: "Let me check.", toolCalls: [call]))])
            let response = try await client.post("/v1/messages", json: Self.request(upstream.model, extra: Self.tools))
            #expect(response.status == .ok)
            #expect(response.json["stop_reason"] == "tool_use")
            let block = response.json["content"]?[0]
            #expect(block?["type"] == "tool_use")
            #expect(block?["name"] == "get_weather")
            #expect(block?["input"] == ["city": "Paris"])
            #expect(block?["id"]?.string?.isEmpty == false)
            #expect(fixture.upstream.requests.last?.json?.jsonText.contains("get_weather") == true)
            // Streamed after some text: the text block closes, then a tool_use block at index 1
            // whose input arrives as one input_json_delta.
            let streamed = try await client.post("/v1/messages", json: Self.request(upstream.model, stream: true, extra: Self.tools))
            let events = streamed.namedEvents
            let starts = events.filter { $0.name == "content_block_start" }
            #expect(starts.map { $0.data["content_block"]?["type"] } == ["text", "tool_use"])
            #expect(starts.last?.data["index"] == 1)
            #expect(starts.last?.data["content_block"]?["name"] == "get_weather")
            let json = events.filter { $0.data["delta"]?["type"] == "input_json_delta" }.compactMap { $0.data["delta"]?["partial_json"]?.string }.joined()
            #expect(JSONValue(parsing: Array(json.utf8)) == ["city": "Paris"])
            #expect(events.filter { $0.name == "content_block_stop" }.map { $0.data["index"] } == [0, 1])
            #expect(events.first { $0.name == "message_delta" }?.data["delta"]?["stop_reason"] == "tool_use")
        }
    }

    /// A conversation with a tool result and an image: the upstream gets the call, its result
    /// (named for Gemini from the assistant's tool_use) and the image.
    @Test func aToolResultConversationReachesTheUpstream() async throws {
        let body = """
            {"model": "gemini-model", "max_tokens": 20, "messages": [
              {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
              {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "x"}, {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Oslo"}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": [{"type": "text", "text": "Sunny"}]}]}]}
            """
        try await GatewayFixture.run(keys: [("k1", .gemini)]) { fixture, client in
            let response = try await client.post("/v1/messages", json: body)
            #expect(response.status == .ok)
            let sent = try #require(fixture.upstream.requests.last?.json?.jsonText)
            #expect(sent.contains("get_weather"))
            #expect(sent.contains("Oslo"))
            #expect(sent.contains("Sunny"))
            #expect(sent.contains("image/png"))
            #expect(!sent.contains("hmm"))
        }
    }

    @Test func failoverIsInvisibleToTheCaller() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .openai)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.rateLimited(retryAfterSeconds: 30)])
            fixture.upstream.script(secret: GatewayFixture.secret("k2"), [.reply(FakeReply(text: "from k2"))])
            let response = try await client.post("/v1/messages", json: Self.request(Upstream.openai.model))
            #expect(response.status == .ok)
            #expect(response.json["content"]?[0]?["text"] == "from k2")
        }
    }

    @Test func errorsAreInAnthropicsShapeWithTheRightStatus() async throws {
        let budget = Budget(id: "tiny", scope: .model(Upstream.gemini.model), period: .day, limit: Money(nanodollars: 1_000))
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)], budget: budget, maxBodyBytes: 4_096) { fixture, client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("not json", .badRequest, "invalid_request_error"),
                (#"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}]}"#, .badRequest, "invalid_request_error"),
                (#"{"model": "openai-model", "max_tokens": 5, "messages": [{"role": "system", "content": "hi"}]}"#, .badRequest, "invalid_request_error"),
                (#"{"model": "openai-model", "max_tokens": 5, "temperature": 1.5, "messages": [{"role": "user", "content": "hi"}]}"#, .badRequest, "invalid_request_error"),
                (#"{"model": "openai-model", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}"#, .badRequest, "invalid_request_error"),
                (#"{"model": "openai-model", "max_tokens": 5, "tools": [{"type": "web_search_20250305", "name": "web_search"}], "messages": [{"role": "user", "content": "hi"}]}"#, .badRequest, "invalid_request_error"),
                (#"{"model": "no-such-model", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}"#, .notFound, "not_found_error"),
                (#"{"model": "gemini-model", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}"#, .tooManyRequests, "rate_limit_error"),
                (Self.request(String(repeating: "x", count: 8_192)), .contentTooLarge, "request_too_large"),
            ]
            for (body, status, type) in cases {
                let response = try await client.post("/v1/messages", json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.json["type"] == "error", "\(body)")
                #expect(response.json["error"]?["type"]?.string == type, "\(body)")
                #expect(response.json["error"]?["message"]?.string?.isEmpty == false, "\(body)")
                if status == .tooManyRequests { #expect(response.headers[.retryAfter].flatMap { Int($0) } != nil) }
            }
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    /// An upstream failing after the stream started ends it with Anthropic's `error` event.
    @Test func aFailureMidStreamEndsWithAnErrorEvent() async throws {
        try await GatewayFixture.run(keys: [("k1", .anthropic)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.brokenStream(text: "Half an ans")])
            let response = try await client.post("/v1/messages", json: Self.request(Upstream.anthropic.model, stream: true))
            #expect(response.status == .ok)
            let events = response.namedEvents
            #expect(events.first?.name == "message_start")
            #expect(events.last?.name == "error")
            #expect(events.last?.data["error"]?["type"]?.string?.isEmpty == false)
            #expect(!events.contains { $0.name == "message_stop" })
        }
    }

    /// The Anthropic SDK's `GET /v1/models` (it always sends `anthropic-version`) gets
    /// Anthropic's list shape; without the header it is OpenAI's.
    @Test func theModelListFollowsTheCallersAPI() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .anthropic)]) { _, client in
            let anthropic = try await client.execute(uri: "/v1/models", method: .get, headers: [HTTPField.Name("anthropic-version")!: "2023-06-01"])
            #expect(anthropic.json["data"]?.array?.compactMap { $0["id"]?.string } == ["anthropic-model", "openai-model"])
            #expect(anthropic.json["data"]?[0]?["type"] == "model")
            #expect(anthropic.json["has_more"] == false)
            let openAI = try await client.execute(uri: "/v1/models", method: .get)
            #expect(openAI.json["object"] == "list")
        }
    }
}
