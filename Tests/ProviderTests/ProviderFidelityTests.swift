import Foundation
@testable import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// Behaviours seen when the adapters met real servers and proxies, each pinned by a test: what
/// they send, what they answer, and what the router makes of it.
@Suite struct ProviderFidelityTests {
    private let question = [ChatMessage.user("Hello?")]

    // MARK: Headers forwarded by proxies

    @Test func retryAfterAndRateLimitHeadersForwardedUnderAProviderPrefixAreRead() {
        let forwarded = ["llm_provider-retry-after": "17", "content-type": "application/json"]
        for format in Format.allCases {
            let error = Plan.adapter(for: format.wireFormat).classify(status: 429, headers: forwarded, body: Array("{}".utf8))
            #expect(error.kind == .rateLimited && error.retryAfter == .seconds(17), "\(format)")
        }
        // A header sent directly wins over a forwarded one.
        #expect(WireParsing.retryAfter(["retry-after": "3", "llm_provider-retry-after": "17"]) == .seconds(3))
        let openAI = OpenAIChatAdapter().rateLimits(from: ["llm_provider-x-ratelimit-remaining-requests": "0", "llm_provider-x-ratelimit-reset-requests": "20s"])
        #expect(openAI.remainingRequests == 0 && openAI.exhaustedFor == .seconds(20))
        // Absolute resets are read against the wall clock: ten minutes ahead leaves a loaded
        // machine a minute of slack.
        let reset = ISO8601DateFormatter().string(from: Date().addingTimeInterval(600))
        let anthropic = AnthropicMessagesAdapter().rateLimits(from: ["llm_provider-anthropic-ratelimit-requests-remaining": "0", "llm_provider-anthropic-ratelimit-requests-reset": reset])
        #expect(anthropic.remainingRequests == 0 && (anthropic.exhaustedFor ?? .zero) > .seconds(540))
    }

    @Test func aForwardedRetryAfterCoolsTheKeyForTheStatedTimeAndForwardedResetsThrottleAhead() async throws {
        try await withProviders(keys: [("first", .anthropic), ("second", .anthropic)]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("first"), [
                .error(status: 429, body: #"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#, headers: ["llm_provider-retry-after": "45"])
            ])
            let reply = try await fixture.client.chat(ChatRequest(model: "claude", messages: question))
            #expect(reply.keyID == "second")
            #expect(try await fixture.router.state(of: "first") == .throttled(until: fixture.clock.now() + .seconds(45)))
            // A success whose forwarded headers say no request is left: the key rests until the
            // reset before the provider has to refuse one.
            let reset = ISO8601DateFormatter().string(from: Date().addingTimeInterval(600))
            fixture.server.script(secret: ProviderFixture.secret("second"), [.reply(FakeReply(text: "ok", headers: [
                "llm_provider-anthropic-ratelimit-requests-remaining": "0", "llm_provider-anthropic-ratelimit-requests-reset": reset,
            ]))])
            _ = try await fixture.client.chat(ChatRequest(model: "claude", messages: question))
            guard case .throttled(let until) = try await fixture.router.state(of: "second") else {
                Issue.record("the forwarded rate-limit headers did not throttle the key")
                return
            }
            #expect(until > fixture.clock.now() + .seconds(540))
        }
    }

    // MARK: Unknown models

    @Test func unknownModelAnswersAreModelNotFoundInEveryFormat() {
        let openAI = OpenAIChatAdapter()
        for body in [
            #"{"error":{"message":"Invalid model name passed in model=gpt-9. Call `/v1/models` to view available models for your key.","type":"invalid_request_error","param":"model","code":"400"}}"#,
            #"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","code":"model_not_found"}}"#,
            #"{"error":{"message":"model \"llama9\" not found, try pulling it first","type":"api_error"}}"#,
            #"{"error":"model 'llama9' not found"}"#,
        ] {
            #expect(openAI.classify(status: 400, headers: [:], body: Array(body.utf8)).kind == .modelNotFound, "\(body)")
        }
        // A 400 that says nothing about the model stays a bad request.
        #expect(openAI.classify(status: 400, headers: [:], body: Array(#"{"error":{"message":"messages must not be empty","type":"invalid_request_error"}}"#.utf8)).kind == .badRequest)
        let anthropic = AnthropicMessagesAdapter().classify(status: 400, headers: [:], body: Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"Invalid model name: claude-9"}}"#.utf8))
        #expect(anthropic.kind == .modelNotFound)
        let gemini = GeminiAdapter().classify(status: 400, headers: [:], body: Array(#"{"error":{"code":400,"message":"* GenerateContentRequest.model: unexpected model name format; model gemini-9 does not exist","status":"INVALID_ARGUMENT"}}"#.utf8))
        #expect(gemini.kind == .modelNotFound)
    }

    @Test func anUnknownModel400MovesDownTheFallbackChain() async throws {
        try await withProviders(keys: [("k", .openai)], extraModels: ["k": ["large"]]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("k"), [
                .error(status: 400, body: #"{"error":{"message":"Invalid model name passed in model=small","type":"invalid_request_error","param":"model","code":"400"}}"#)
            ])
            let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question, fallbacks: ["large"]))
            #expect(reply.model.name == "large" && reply.keyID == "k")
        }
    }

    // MARK: Per-model rate limits

    @Test func aPerModelRateLimitLeavesTheKeysOtherModelsAvailable() async throws {
        try await withProviders(keys: [("only", .openai)], extraModels: ["only": ["large"]]) { fixture in
            var events = await fixture.router.events().makeAsyncIterator()
            fixture.server.script(secret: ProviderFixture.secret("only"), [
                .error(status: 429, body: #"{"error":{"message":"Rate limit reached for small in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","code":"rate_limit_exceeded"}}"#, headers: ["retry-after": "20"])
            ])
            let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question, fallbacks: ["large"]))
            #expect(reply.model.name == "large" && reply.keyID == "only")
            #expect(try await fixture.router.state(of: "only") == .available)
            let small = ModelRef(provider: .openai, name: "small")
            #expect(try await fixture.router.quota(of: "only").modelCooldowns == [small: fixture.clock.now() + .seconds(20)])
            let event = await events.next()
            #expect(event?.kind == .modelThrottled && event?.model == small && event?.keyID == "only")
            // Still out for that model until the cooldown ends, then back.
            await #expect(throws: RouterError.self) { try await fixture.client.chat(ChatRequest(model: "small", messages: question)) }
            fixture.clock.advance(by: .seconds(21))
            #expect(try await fixture.client.chat(ChatRequest(model: "small", messages: question)).model.name == "small")
            #expect(try await fixture.router.quota(of: "only").modelCooldowns.isEmpty)
        }
    }

    @Test func aKeyWideRateLimitIsNotLostBehindTheFallbacksNoEligibleKey() async throws {
        try await withProviders(keys: [("only", .openai)], extraModels: ["only": ["large"]]) { (fixture: ProviderFixture) async throws in
            fixture.server.script(secret: ProviderFixture.secret("only"), [
                .error(status: 429, body: #"{"error":{"message":"Too many requests","type":"rate_limit_error"}}"#, headers: ["retry-after": "30"])
            ])
            let error = await routerError(from: { try await fixture.client.chat(ChatRequest(model: "small", messages: question, fallbacks: ["large"])) })
            #expect(error?.code == .noEligibleKey)
            #expect(error?.lastFailure?.kind == .rateLimited && error?.lastFailure?.retryAfter == .seconds(30))
            #expect(error?.providerError?.kind == .rateLimited)
            #expect(try await fixture.router.state(of: "only") == .throttled(until: fixture.clock.now() + .seconds(30)))
        }
    }

    // MARK: Streams answered without events

    @Test(arguments: Format.allCases)
    func aStreamAnsweredWithACompleteJSONBodyIsDecodedAsTheReply(format: Format) async throws {
        try await withProviders(keys: [("k", format)]) { fixture in
            let body = try #require(Self.completeBody(format))
            fixture.server.script(secret: ProviderFixture.secret("k"), [.error(status: 200, body: body)])
            var text = ""
            var finished: (FinishReason, Usage, Money)?
            for try await event in fixture.client.stream(ChatRequest(model: format.model, messages: question)) {
                switch event {
                case .text(let piece): text += piece
                case .finished(let reason, let usage, let cost): finished = (reason, usage, cost)
                default: break
                }
            }
            #expect(text == "Complete, not streamed.")
            #expect(finished?.0 == .stop && finished?.1.inputTokens == 21 && finished?.1.outputTokens == 5)
            #expect(try await fixture.router.quota(of: "k").failures == 0)
        }
    }

    @Test func eventsMislabelledAsJSONAreStillReadAsEvents() async throws {
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: providerMasterKey), logger: quietLogger)
        try await router.register(APIKey(id: "o", provider: .openai, secret: "sk-key", models: ["gpt-4o-mini"]))
        let events = """
            data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}

            data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}

            data: [DONE]


            """
        let client = ChatClient(router: router, transport: MockTransport { _ in
            TransportResponse(status: 200, headers: ["content-type": "application/json"], body: Array(events.utf8))
        })
        var text = ""
        var usage: Usage?
        for try await event in client.stream(ChatRequest(model: "gpt-4o-mini", messages: [.user("Hi")])) {
            if case .text(let piece) = event { text += piece }
            if case .finished(_, let reported, _) = event { usage = reported }
        }
        #expect(text == "Hi" && usage?.inputTokens == 4 && usage?.outputTokens == 1)
        try await router.shutdown()
    }

    static func completeBody(_ format: Format) -> String? {
        switch format {
        case .openai: #"{"id":"c","object":"chat.completion","created":1,"model":"small","choices":[{"index":0,"message":{"role":"assistant","content":"Complete, not streamed."},"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":5}}"#
        case .anthropic: #"{"id":"m","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Complete, not streamed."}],"stop_reason":"end_turn","usage":{"input_tokens":21,"output_tokens":5}}"#
        case .gemini: #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Complete, not streamed."}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":21,"candidatesTokenCount":5}}"#
        }
    }

    // MARK: Impossible usage

    @Test func reportedZeroUsageAfterContentIsTreatedAsMissing() async throws {
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: providerMasterKey), logger: quietLogger)
        try await router.register(APIKey(id: "g", provider: .gemini, secret: "g-key", models: ["gemini-2.5-flash"]))
        try await router.register(APIKey(id: "o", provider: .openai, secret: "sk-key", models: ["gpt-4o-mini"]))
        let stream = """
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Twelve bytes"}]}}],"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0,"totalTokenCount":0}}

            data: {"candidates":[{"content":{"role":"model","parts":[{"text":" more."}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0}}


            """
        let zeroReply = #"{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Twelve bytes more."},"finish_reason":"stop"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}"#
        let transport = MockTransport { request in
            request.url.contains("gemini") || request.url.contains("googleapis")
                ? TransportResponse(status: 200, headers: ["content-type": "text/event-stream"], body: Array(stream.utf8))
                : TransportResponse(status: 200, headers: ["content-type": "application/json"], body: Array(zeroReply.utf8))
        }
        let client = ChatClient(router: router, transport: transport)
        let request = ChatRequest(model: "gemini-2.5-flash", messages: [.user("Count to twelve, please.")])
        let estimate = Usage(inputTokens: TokenEstimator.inputTokens(of: request), outputTokens: TokenEstimator.tokens(in: "Twelve bytes more."))
        var finished: (Usage, Money)?
        for try await event in client.stream(request) {
            if case .finished(_, let usage, let cost) = event { finished = (usage, cost) }
        }
        #expect(finished?.0.inputTokens == estimate.inputTokens && finished?.0.outputTokens == estimate.outputTokens)
        #expect((finished?.1 ?? .zero) > .zero)
        let reply = try await client.chat(ChatRequest(model: "gpt-4o-mini", messages: [.user("Count to twelve, please.")]))
        #expect(reply.usage.inputTokens == estimate.inputTokens && reply.usage.outputTokens == estimate.outputTokens && reply.cost > .zero)
        try await router.shutdown()
    }

    // MARK: Relayed 401s

    @Test func aRelayed401InvalidatesTheKeyAndCarriesTheProvidersMessage() async throws {
        try await withProviders(keys: [("bad", .openai), ("good", .openai)]) { fixture in
            var events = await fixture.router.events().makeAsyncIterator()
            let message = "Authentication Error, upstream rejected the key sk-test-bad-0123456789 (via proxy)"
            fixture.server.script(secret: ProviderFixture.secret("bad"), [
                .error(status: 401, body: #"{"error":{"message":"\#(message)","type":"auth_error","code":"401"}}"#)
            ])
            let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question))
            #expect(reply.keyID == "good")
            #expect(try await fixture.router.state(of: "bad") == .invalid)
            var transition: KeyTransition?
            while transition == nil, let event = await events.next() { if event.kind == .keyStateChanged { transition = event.transition } }
            // The operator sees the provider's words, with the secret scrubbed out.
            #expect(transition?.to == .invalid && transition?.reason == .authInvalid)
            #expect(transition?.detail?.contains("upstream rejected the key") == true)
            #expect(transition?.detail?.contains(ProviderFixture.secret("bad")) == false)
        }
    }

    // MARK: Reasoning models' token limit

    @Test func reasoningModelsAreSentMaxCompletionTokensAndOthersMaxTokens() async throws {
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: providerMasterKey), logger: quietLogger)
        try await router.register(APIKey(id: "o", provider: .openai, secret: "sk-key", models: ["gpt-4o-mini", "o4-mini", "gpt-5-mini"]))
        let reply = #"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#
        let transport = MockTransport { _ in TransportResponse(status: 200, headers: ["content-type": "application/json"], body: Array(reply.utf8)) }
        let client = ChatClient(router: router, transport: transport)
        for model in ["gpt-4o-mini", "o4-mini", "gpt-5-mini"] {
            _ = try await client.chat(ChatRequest(model: model, messages: [.user("Hi")], maxTokens: 77))
        }
        let bodies = transport.requests.map { JSONValue(parsing: $0.body) }
        #expect(bodies[0]?["max_tokens"] == 77 && bodies[0]?["max_completion_tokens"] == nil)
        for body in bodies[1...] {
            #expect(body?["max_completion_tokens"] == 77 && body?["max_tokens"] == nil)
        }
        #expect(await router.catalog.models[ModelRef(provider: .openai, name: "o3")]?.usesMaxCompletionTokens == true)
        try await router.shutdown()
    }

    // MARK: Errors inside streams

    @Test func anOpenAIStreamErrorEventIsClassifiedLikeAResponse() {
        func kind(_ data: String) -> ProviderError.Kind? {
            var decoder = OpenAIChatAdapter().makeStreamDecoder()
            do {
                _ = try decoder.decode(ServerSentEvent(data: data))
                return nil
            } catch {
                return error.kind
            }
        }
        #expect(kind(#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}"#) == .rateLimited)
        #expect(kind(#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#) == .contextTooLong)
        #expect(kind(#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#) == .quotaExhausted)
        #expect(kind(#"{"error":{"message":"Bad request relayed","type":"invalid_request_error","code":"400"}}"#) == .badRequest)
        #expect(kind(#"{"error":{"message":"The server had an error","type":"server_error"}}"#) == .serverError)
        #expect(kind(#"{"error":{"message":"something"}}"#) == .serverError)
        #expect(kind(#"{"error":null,"choices":[]}"#) == nil)
    }

    // MARK: The fake server as a stand-in upstream

    @Test func theFakeServerStartsOnAFixedPortAndRefusesATakenOne() async throws {
        let probe = try await FakeProviderServer.start()
        let port = probe.port
        await probe.shutdown()
        let fixed = try await FakeProviderServer.start(port: port)
        #expect(fixed.port == port && fixed.baseURL(.openAIChat) == "http://127.0.0.1:\(port)/openai/v1")
        await #expect(throws: (any Error).self) { _ = try await FakeProviderServer.start(port: port) }
        await fixed.shutdown()
    }
}

