import Foundation
import RouterSDK
import RouterChat
import RouterTesting
import Testing

/// Every adapter against the fake provider server over real HTTP (AsyncHTTPClient): request
/// encoding checked on the server side, answers and streams decoded, usage and cost exact.
@Suite struct ChatOverHTTPTests {
    let weather = ChatTool(name: "get_weather", description: "Weather for a city", parameters: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])

    @Test(arguments: Format.allCases)
    func completeAnswerIsEncodedDecodedAndSettledExactly(format: Format) async throws {
        try await withProviders(keys: [("k1", format)]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("k1"), [.reply(FakeReply(text: "Paris is the capital.", inputTokens: 31, outputTokens: 9))])
            let request = ChatRequest(
                model: format.model, messages: [.user("What is the capital of France?")], system: "Be brief.", temperature: 0.2, maxTokens: 64,
                stop: ["\n\n"], tags: ["tenant-a"])
            let reply = try await fixture.client.chat(request)
            #expect(reply.text == "Paris is the capital.")
            #expect(reply.finishReason == .stop)
            #expect(reply.usage.inputTokens == 31 && reply.usage.outputTokens == 9)
            #expect(reply.cost == (await fixture.price(format)).cost(inputTokens: 31, outputTokens: 9))
            #expect(reply.keyID == "k1" && reply.model == ModelRef(provider: format.provider, name: format.model) && reply.attempts == 1)

            // What the server saw: path, auth, body fields.
            let sent = try #require(fixture.server.requests.first)
            let (header, value) = format.authHeader(ProviderFixture.secret("k1"))
            #expect(sent.headers[header] == value)
            let json = try #require(sent.json)
            switch format {
            case .openai:
                #expect(sent.path == "/openai/v1/chat/completions")
                #expect(json["model"] == "small" && json["max_tokens"] == 64 && json["temperature"] == 0.2 && json["stop"] == ["\n\n"])
                #expect(json["messages"] == [["role": "system", "content": "Be brief."], ["role": "user", "content": "What is the capital of France?"]])
                #expect(json["stream"] == nil)
            case .anthropic:
                #expect(sent.path == "/anthropic/v1/messages")
                #expect(sent.headers["anthropic-version"] == "2023-06-01")
                #expect(json["model"] == "claude" && json["max_tokens"] == 64 && json["system"] == "Be brief." && json["stop_sequences"] == ["\n\n"])
                #expect(json["messages"] == [["role": "user", "content": [["type": "text", "text": "What is the capital of France?"]]]])
            case .gemini:
                #expect(sent.path == "/gemini/v1beta/models/gemini-small:generateContent")
                #expect(json["contents"] == [["role": "user", "parts": [["text": "What is the capital of France?"]]]])
                #expect(json["systemInstruction"] == ["parts": [["text": "Be brief."]]])
                #expect(json["generationConfig"] == ["maxOutputTokens": 64, "temperature": 0.2, "stopSequences": ["\n\n"]])
            }
            // The secret travels only in its header.
            #expect(!String(decoding: sent.body, as: UTF8.self).contains(ProviderFixture.secret("k1")))
            #expect(try await fixture.router.quota(of: "k1").spend == reply.cost)
        }
    }

    @Test(arguments: Format.allCases)
    func toolsAndJSONModeRoundTrip(format: Format) async throws {
        try await withProviders(keys: [("k1", format)]) { fixture in
            let call = ToolCall(id: "call_0", name: "get_weather", arguments: #"{"city":"Paris"}"#)
            fixture.server.script(secret: ProviderFixture.secret("k1"), [.reply(FakeReply(text: "", toolCalls: [call], inputTokens: 40, outputTokens: 12))])
            let reply = try await fixture.client.chat(ChatRequest(model: format.model, messages: [.user("Weather in Paris?")], tools: [weather], responseFormat: .json))
            #expect(reply.finishReason == .toolCalls)
            #expect(reply.toolCalls.map(\.name) == ["get_weather"])
            #expect(JSONValue(parsing: Array(reply.toolCalls[0].arguments.utf8)) == ["city": "Paris"])
            let json = try #require(fixture.server.requests.first?.json)
            switch format {
            case .openai:
                #expect(json["tools"]?[0]?["function"]?["name"] == "get_weather")
                #expect(json["tools"]?[0]?["function"]?["parameters"] == weather.parameters)
                #expect(json["response_format"] == ["type": "json_object"])
            case .anthropic:
                #expect(json["tools"]?[0]?["input_schema"] == weather.parameters)
                #expect(json["system"]?.string?.contains("JSON") == true)
            case .gemini:
                #expect(json["tools"]?[0]?["functionDeclarations"]?[0]?["parameters"] == weather.parameters)
                #expect(json["generationConfig"]?["responseMimeType"] == "application/json")
            }

            // The tool's answer goes back in the provider's shape.
            let followUp = ChatRequest(model: format.model, messages: [
                .user("Weather in Paris?"), .assistant("", toolCalls: reply.toolCalls), .toolResult(id: reply.toolCalls[0].id, name: "get_weather", #"{"celsius":21}"#),
            ], tools: [weather])
            _ = try await fixture.client.chat(followUp)
            let second = try #require(fixture.server.requests.last?.json)
            switch format {
            case .openai:
                #expect(second["messages"]?[1]?["tool_calls"]?[0]?["function"]?["arguments"] == #"{"city":"Paris"}"#)
                #expect(second["messages"]?[2] == ["role": "tool", "tool_call_id": "call_0", "content": #"{"celsius":21}"#])
            case .anthropic:
                #expect(second["messages"]?[1]?["content"]?[0] == ["type": "tool_use", "id": "call_0", "name": "get_weather", "input": ["city": "Paris"]])
                #expect(second["messages"]?[2]?["content"]?[0] == ["type": "tool_result", "tool_use_id": "call_0", "content": #"{"celsius":21}"#])
            case .gemini:
                #expect(second["contents"]?[1]?["parts"]?[0] == ["functionCall": ["name": "get_weather", "args": ["city": "Paris"]]])
                #expect(second["contents"]?[2]?["parts"]?[0] == ["functionResponse": ["name": "get_weather", "response": ["celsius": 21]]])
            }
        }
    }

    @Test(arguments: Format.allCases)
    func streamsDeltasAndSettlesOnceAtTheEnd(format: Format) async throws {
        try await withProviders(keys: [("k1", format)]) { fixture in
            let call = ToolCall(id: "call_0", name: "get_weather", arguments: #"{"city":"Oslo"}"#)
            fixture.server.script(secret: ProviderFixture.secret("k1"), [.reply(FakeReply(text: "Let me check the weather.", toolCalls: [call], inputTokens: 50, outputTokens: 20))])
            let (events, error) = await collect(fixture.client.stream(ChatRequest(model: format.model, messages: [.user("Weather in Oslo?")], tools: [weather])))
            #expect(error == nil)
            #expect(events.first == .started(model: ModelRef(provider: format.provider, name: format.model), keyID: "k1"))
            #expect(events.text == "Let me check the weather.")
            #expect(events.filter { if case .text = $0 { true } else { false } }.count > 1)
            #expect(events.toolCalls.map(\.name) == ["get_weather"])
            #expect(JSONValue(parsing: Array(events.toolCalls[0].arguments.utf8)) == ["city": "Oslo"])
            let expectedCost = (await fixture.price(format)).cost(inputTokens: 50, outputTokens: 20)
            guard case .finished(let reason, let usage, let cost)? = events.last else {
                Issue.record("the stream did not end with .finished: \(events)")
                return
            }
            #expect(reason == .toolCalls)
            #expect(usage.inputTokens == 50 && usage.outputTokens == 20)
            #expect(cost == expectedCost)
            #expect(try await fixture.router.quota(of: "k1").spend == expectedCost)
            #expect(try await fixture.router.quota(of: "k1").inFlight == 0)
            let sent = try #require(fixture.server.requests.first)
            switch format {
            case .openai: #expect(sent.json?["stream"] == true && sent.json?["stream_options"] == ["include_usage": true])
            case .anthropic: #expect(sent.json?["stream"] == true)
            case .gemini: #expect(sent.path == "/gemini/v1beta/models/gemini-small:streamGenerateContent?alt=sse")
            }
        }
    }

    @Test func imagesAreSentAsEachProviderTakesThem() async throws {
        try await withProviders(keys: [("o", .openai), ("a", .anthropic), ("g", .gemini)]) { fixture in
            let png = Data([0x89, 0x50, 0x4E, 0x47])
            let message = ChatMessage(role: .user, content: [.text("What is this?"), .imageData(png, mediaType: "image/png")])
            for format in Format.allCases {
                _ = try await fixture.client.chat(ChatRequest(model: format.model, messages: [message]))
            }
            let bodies = fixture.server.requests.compactMap(\.json)
            #expect(bodies[0]["messages"]?[0]?["content"]?[1] == ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw=="]])
            #expect(bodies[1]["messages"]?[0]?["content"]?[1] == ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "iVBORw=="]])
            #expect(bodies[2]["contents"]?[0]?["parts"]?[1] == ["inlineData": ["mimeType": "image/png", "data": "iVBORw=="]])
            // Gemini cannot take an image by URL: a typed error before any request.
            let byURL = ChatMessage(role: .user, content: [.imageURL("https://example.com/cat.png")])
            await #expect { try await fixture.client.chat(ChatRequest(model: "gemini-small", messages: [byURL])) } throws: { providerError($0) != nil }
            #expect(fixture.server.requests.count == 3)
        }
    }

    @Test func badInputIsATypedErrorBeforeAnyCall() async throws {
        try await withProviders(keys: [("k1", .openai)]) { fixture in
            for request in [
                ChatRequest(model: "small", messages: []),
                ChatRequest(model: "small", messages: [.user("hi")], temperature: 3),
                ChatRequest(model: "small", messages: [.user("hi")], maxTokens: 0),
            ] {
                await #expect { try await fixture.client.chat(request) } throws: { ($0 as? RouterError)?.code == .invalidArgument }
            }
            await #expect { try await fixture.client.chat(ChatRequest(model: "no-such-model", messages: [.user("hi")])) } throws: {
                ($0 as? RouterError)?.code == .unknownModel
            }
            #expect(fixture.server.requests.isEmpty)
        }
    }
}
