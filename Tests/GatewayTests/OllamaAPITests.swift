import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// Ollama's `/api/chat`, `/api/generate`, `/api/tags` and `/api/version` answered as Ollama does
/// whatever upstream serves them: newline-delimited JSON streams (on by default), one object
/// with `"stream": false`, and errors as `{"error": …}` with the right status.
@Suite struct OllamaAPITests {
    static func chat(_ model: String, stream: Bool? = nil, extra: String = "") -> String {
        """
        {"model": "\(model)", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
         "options": {"num_predict": 50, "temperature": 0.2}\(stream.map { #", "stream": \#($0)"# } ?? "")\(extra)}
        """
    }

    @Test(arguments: Upstream.allCases)
    func aChatIsOneObjectWhenNotStreamedFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Hi there", inputTokens: 11, outputTokens: 3))])
            let response = try await client.post("/api/chat", json: Self.chat(upstream.model, stream: false))
            #expect(response.status == .ok)
            let json = response.json
            #expect(json["model"]?.string == upstream.model)
            #expect(json["message"] == ["role": "assistant", "content": "Hi there"])
            #expect(json["done"] == true)
            #expect(json["done_reason"] == "stop")
            #expect(json["prompt_eval_count"] == 11)
            #expect(json["eval_count"] == 3)
            #expect(json["created_at"]?.string?.hasSuffix("Z") == true)
            let sent = try #require(fixture.upstream.requests.last?.json)
            #expect(sent.jsonText.contains("Be brief."))
            #expect(sent.jsonText.contains("50"))
        }
    }

    @Test(arguments: Upstream.allCases)
    func aChatStreamsNDJSONByDefaultFromEveryUpstream(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "Streaming works fine", inputTokens: 9, outputTokens: 4))])
            let response = try await client.post("/api/chat", json: Self.chat(upstream.model))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/x-ndjson")
            let lines = response.jsonLines
            #expect(lines.count >= 2)
            #expect(lines.dropLast().allSatisfy { $0["done"] == false && $0["message"]?["role"] == "assistant" })
            #expect(lines.compactMap { $0["message"]?["content"]?.string }.joined() == "Streaming works fine")
            let last = try #require(lines.last)
            #expect(last["done"] == true)
            #expect(last["done_reason"] == "stop")
            #expect(last["prompt_eval_count"] == 9)
            #expect(last["eval_count"] == 4)
        }
    }

    @Test(arguments: Upstream.allCases)
    func generateAnswersInResponseStreamedAndNot(_ upstream: Upstream) async throws {
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.defaultReply = FakeReply(text: "Generated text", inputTokens: 5, outputTokens: 2)
            let body = #"{"model": "\#(upstream.model):latest", "prompt": "Write", "system": "Be brief.", "options": {"stop": ["\n"]}}"#
            let streamed = try await client.post("/api/generate", json: body)
            #expect(streamed.status == .ok)
            let lines = streamed.jsonLines
            #expect(lines.compactMap { $0["response"]?.string }.joined() == "Generated text")
            #expect(lines.last?["done"] == true)
            #expect(lines.last?["eval_count"] == 2)
            #expect(lines.allSatisfy { $0["message"] == nil })
            let whole = try await client.post("/api/generate", json: #"{"model": "\#(upstream.model)", "prompt": "Write", "stream": false}"#)
            #expect(whole.json["response"] == "Generated text")
            #expect(whole.json["done"] == true)
            let sent = try #require(fixture.upstream.requests.first?.json?.jsonText)
            #expect(sent.contains("Be brief."))
        }
    }

    /// An empty prompt is how Ollama clients load a model: answered with `done_reason: load`
    /// and nothing sent upstream; an unknown model is a 404 even then.
    @Test func anEmptyPromptLoadsTheModelWithoutAnUpstreamCall() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { fixture, client in
            let loaded = try await client.post("/api/generate", json: #"{"model": "openai-model", "stream": false}"#)
            #expect(loaded.status == .ok)
            #expect(loaded.json["done_reason"] == "load")
            #expect(loaded.json["done"] == true)
            let unknown = try await client.post("/api/generate", json: #"{"model": "llama3"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"]?.string?.contains("llama3") == true)
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    @Test(arguments: Upstream.allCases)
    func toolsGoUpAndToolCallsComeBackWithObjectArguments(_ upstream: Upstream) async throws {
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)
        let tools = #", "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#
        try await GatewayFixture.run(keys: [("k1", upstream)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.reply(FakeReply(text: "", toolCalls: [call])), .reply(FakeReply(text: "", toolCalls: [call]))])
            let response = try await client.post("/api/chat", json: Self.chat(upstream.model, stream: false, extra: tools))
            #expect(response.json["message"]?["tool_calls"] == [["function": ["name": "get_weather", "arguments": ["city": "Paris"]]]])
            #expect(fixture.upstream.requests.last?.json?.jsonText.contains("get_weather") == true)
            let streamed = try await client.post("/api/chat", json: Self.chat(upstream.model, extra: tools))
            let calls = streamed.jsonLines.compactMap { $0["message"]?["tool_calls"]?.array }.joined()
            #expect(calls.map { $0["function"]?["name"] } == ["get_weather"])
        }
    }

    /// Ollama's tool calls have no ids: a `tool` result is paired with the latest call of its
    /// tool's name, and images are bare base64.
    @Test func aToolResultConversationReachesTheUpstream() async throws {
        let body = """
            {"model": "gemini-model", "stream": false, "messages": [
              {"role": "user", "content": "Weather?", "images": ["iVBORw0KGgo="]},
              {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
              {"role": "tool", "tool_name": "get_weather", "content": "Sunny"}]}
            """
        try await GatewayFixture.run(keys: [("k1", .gemini)]) { fixture, client in
            let response = try await client.post("/api/chat", json: body)
            #expect(response.status == .ok)
            let sent = try #require(fixture.upstream.requests.last?.json?.jsonText)
            #expect(sent.contains("Oslo"))
            #expect(sent.contains("Sunny"))
            #expect(sent.contains("image/png"))
        }
    }

    @Test func tagsVersionAndTheRootAnswerAsOllamaDoes() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)]) { _, client in
            let tags = try await client.execute(uri: "/api/tags", method: .get)
            #expect(tags.json["models"]?.array?.compactMap { $0["name"]?.string } == ["gemini-model", "openai-model"])
            #expect(tags.json["models"]?[0]?["details"]?["family"] == "gemini")
            let version = try await client.execute(uri: "/api/version", method: .get)
            #expect(version.json == ["version": .string(Gateway.version)])
            let root = try await client.execute(uri: "/", method: .get)
            #expect(String(buffer: root.body) == "Ollama is running")
        }
    }

    @Test func errorsAreOllamasShapeWithTheRightStatus() async throws {
        let budget = Budget(id: "tiny", scope: .model(Upstream.gemini.model), period: .day, limit: Money(nanodollars: 1_000))
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)], budget: budget, maxBodyBytes: 4_096) { fixture, client in
            let cases: [(String, String, HTTPResponse.Status)] = [
                ("/api/chat", "not json", .badRequest),
                ("/api/chat", #"{"messages": [{"role": "user", "content": "hi"}]}"#, .badRequest),
                ("/api/chat", #"{"model": "openai-model", "messages": [{"role": "wizard", "content": "hi"}]}"#, .badRequest),
                ("/api/chat", #"{"model": "openai-model", "messages": [{"role": "user", "content": "hi", "images": ["***"]}]}"#, .badRequest),
                ("/api/chat", #"{"model": "openai-model", "messages": [{"role": "user", "content": "hi"}], "format": 7}"#, .badRequest),
                ("/api/generate", #"{"model": "openai-model", "prompt": "hi", "options": {"temperature": "hot"}}"#, .badRequest),
                ("/api/chat", #"{"model": "llama3:latest", "messages": [{"role": "user", "content": "hi"}]}"#, .notFound),
                ("/api/chat", #"{"model": "gemini-model", "messages": [{"role": "user", "content": "hi"}]}"#, .tooManyRequests),
                ("/api/generate", #"{"model": "openai-model", "prompt": "\#(String(repeating: "x", count: 8_192))"}"#, .contentTooLarge),
            ]
            for (uri, body, status) in cases {
                let response = try await client.post(uri, json: body)
                #expect(response.status == status, "\(body.prefix(80))")
                #expect(response.json["error"]?.string?.isEmpty == false, "\(body.prefix(80))")
                if status == .tooManyRequests { #expect(response.headers[.retryAfter].flatMap { Int($0) } != nil) }
            }
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    /// A failure after the stream started ends it with an `{"error": …}` line, as Ollama does.
    @Test func aFailureMidStreamEndsWithAnErrorLine() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { fixture, client in
            fixture.upstream.script(secret: GatewayFixture.secret("k1"), [.brokenStream(text: "Half an ans")])
            let response = try await client.post("/api/chat", json: Self.chat(Upstream.openai.model))
            #expect(response.status == .ok)
            let lines = response.jsonLines
            #expect(lines.last?["error"]?.string?.isEmpty == false)
            #expect(!lines.contains { $0["done"] == true })
        }
    }
}
