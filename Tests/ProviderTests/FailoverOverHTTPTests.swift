import Foundation
import RouterSDK
import RouterChat
import RouterTesting
import Testing

/// Each error class drives the right key transition and failover or fallback; broken, huge and
/// non-UTF-8 answers are typed errors; cancellation stops the upstream request.
@Suite struct FailoverOverHTTPTests {
    private let question = [ChatMessage.user("Hello?")]

    @Test(arguments: Format.allCases)
    func rateLimitThrottlesTheKeyForRetryAfterAndFailsOver(format: Format) async throws {
        try await withProviders(keys: [("first", format), ("second", format)]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("first"), [.rateLimited(retryAfterSeconds: 30)])
            let reply = try await fixture.client.chat(ChatRequest(model: format.model, messages: question))
            #expect(reply.keyID == "second" && reply.attempts == 2)
            let until = fixture.clock.now() + .seconds(30)
            if format == .openai {
                // The fake's OpenAI 429 is per model ("type": "requests"), as OpenAI's are: the
                // key is out for that model only.
                #expect(try await fixture.router.state(of: "first") == .available)
                #expect(try await fixture.router.quota(of: "first").modelCooldowns == [ModelRef(provider: .openai, name: "small"): until])
            } else {
                #expect(try await fixture.router.state(of: "first") == .throttled(until: until))
            }
        }
    }

    @Test func eachErrorClassDrivesItsTransition() async throws {
        let cases: [(FakeProviderResponse, (KeyState, ManualClock) -> Bool)] = [
            (.error(status: 401, body: #"{"error":{"message":"Incorrect API key provided: sk-test-bad-0123456789","type":"invalid_request_error","code":"invalid_api_key"}}"#), { state, _ in state == .invalid }),
            (.error(status: 429, body: #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#), { state, _ in if case .exhausted = state { true } else { false } }),
            (.error(status: 503, body: #"{"error":{"message":"overloaded","type":"server_error"}}"#), { state, _ in state == .available }),
            (.malformedJSON, { state, _ in state == .available }),
        ]
        for (response, expectation) in cases {
            try await withProviders(keys: [("bad", .openai), ("good", .openai)]) { fixture in
                fixture.server.script(secret: ProviderFixture.secret("bad"), [response])
                let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question))
                #expect(reply.keyID == "good" && reply.attempts == 2, "\(response)")
                let state = try await fixture.router.state(of: "bad")
                #expect(expectation(state, fixture.clock), "\(response): \(state)")
                #expect(try await fixture.router.quota(of: "bad").failures == 1)
            }
        }
    }

    @Test func errorMessagesNeverCarryTheSecret() async throws {
        try await withProviders(keys: [("only", .openai)]) { fixture in
            let secret = ProviderFixture.secret("only")
            fixture.server.script(secret: secret, [.error(status: 400, body: #"{"error":{"message":"bad request for key \#(secret)","type":"invalid_request_error"}}"#)])
            do {
                _ = try await fixture.client.chat(ChatRequest(model: "small", messages: question))
                Issue.record("expected an error")
            } catch {
                let error = try #require(providerError(error))
                #expect(error.kind == .badRequest && error.status == 400 && error.keyID == "only")
                #expect(!"\(error)".contains(secret))
                #expect("\(error)".contains("***"))
            }
        }
    }

    @Test func contextTooLongFallsBackToALargerContextModel() async throws {
        try await withProviders(keys: [("small-key", .openai), ("claude-key", .anthropic), ("large-key", .openai)], extraModels: ["large-key": ["large"]]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("small-key"), [
                .error(status: 400, body: #"{"error":{"message":"This model's maximum context length is 1000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#),
            ])
            // "claude" has the same 1,000-token window, so it is skipped; "large" has 100,000.
            let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question, fallbacks: ["claude", "large"]))
            #expect(reply.model == ModelRef(provider: .openai, name: "large"))
            #expect(reply.attempts == 2)
            #expect(fixture.server.requests.map(\.secret) == [ProviderFixture.secret("small-key"), ProviderFixture.secret("large-key")])
            #expect(try await fixture.router.state(of: "small-key") == .available)
        }
    }

    @Test func contentPolicyModelNotFoundAndNoEligibleKeyFallBack() async throws {
        try await withProviders(keys: [("o", .openai), ("a", .anthropic), ("g", .gemini)]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("o"), [.error(status: 400, body: #"{"error":{"message":"flagged","type":"invalid_request_error","code":"content_policy_violation"}}"#)])
            fixture.server.script(secret: ProviderFixture.secret("a"), [.error(status: 404, body: #"{"type":"error","error":{"type":"not_found_error","message":"model: claude"}}"#)])
            let reply = try await fixture.client.chat(ChatRequest(model: "small", messages: question, fallbacks: ["claude", "gemini-small"]))
            #expect(reply.model.provider == .gemini && reply.attempts == 3)
            // No key serves "large": straight to the next model.
            let next = try await fixture.client.chat(ChatRequest(model: "large", messages: question, fallbacks: ["small"]))
            #expect(next.model.name == "small")
            // Without fallbacks the provider's error is what the caller gets.
            fixture.server.script(secret: ProviderFixture.secret("o"), [.error(status: 400, body: #"{"error":{"message":"flagged","code":"content_policy_violation"}}"#)])
            await #expect {
                try await fixture.client.chat(ChatRequest(model: "small", messages: question))
            } throws: {
                providerError($0) == ProviderError(.contentPolicy, status: 400, message: "flagged", model: ModelRef(provider: .openai, name: "small"), keyID: "o")
            }
        }
    }

    @Test func rateLimitHeadersThrottleTheKeyBeforeA429() async throws {
        try await withProviders(keys: [("a", .openai), ("b", .openai)]) { fixture in
            fixture.server.script(secret: ProviderFixture.secret("a"), [
                .reply(FakeReply(text: "ok", headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s", "x-ratelimit-remaining-tokens": "9000"])),
            ])
            let first = try await fixture.client.chat(ChatRequest(model: "small", messages: question))
            #expect(first.keyID == "a")
            #expect(try await fixture.router.state(of: "a") == .throttled(until: fixture.clock.now() + .seconds(20)))
            #expect(try await fixture.client.chat(ChatRequest(model: "small", messages: question)).keyID == "b")
        }
    }

    @Test func anthropicRateLimitHeadersAreRead() async throws {
        try await withProviders(keys: [("a", .anthropic)]) { fixture in
            // An absolute reset is read against the wall clock when the answer arrives: ten
            // minutes ahead leaves a loaded CI machine a minute of slack (one minute ahead failed
            // once when the call took 12 s).
            let reset = ISO8601DateFormatter().string(from: Date().addingTimeInterval(600))
            fixture.server.script(secret: ProviderFixture.secret("a"), [
                .reply(FakeReply(text: "ok", headers: ["anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": reset, "anthropic-ratelimit-requests-remaining": "10"])),
            ])
            _ = try await fixture.client.chat(ChatRequest(model: "claude", messages: question))
            guard case .throttled(let until) = try await fixture.router.state(of: "a") else {
                Issue.record("expected the key throttled")
                return
            }
            #expect(until > fixture.clock.now() + .seconds(540) && until <= fixture.clock.now() + .seconds(601))
        }
    }

    @Test(arguments: Format.allCases)
    func malformedTruncatedHugeAndNonUTF8AnswersAreTypedErrors(format: Format) async throws {
        let cases: [(FakeProviderResponse, ProviderError.Kind)] = [
            (.malformedJSON, .malformedResponse), (.truncatedStream(text: "half an answer"), .malformedResponse),
            (.huge(bytes: 10 << 20), .responseTooLarge), (.nonUTF8, .malformedResponse),
        ]
        for (response, kind) in cases {
            try await withProviders(keys: [("k", format)], configuration: ChatClient.Configuration(maxAttemptsPerModel: 1, maxResponseBytes: 1 << 20)) { fixture async throws in
                fixture.server.script(secret: ProviderFixture.secret("k"), [response, response])
                do {
                    _ = try await fixture.client.chat(ChatRequest(model: format.model, messages: question))
                    Issue.record("expected \(kind) for \(response)")
                } catch {
                    #expect(providerError(error)?.kind == kind, "\(response): \(error)")
                    #expect(providerError(error)?.keyID == "k")
                }
                let (events, error) = await collect(fixture.client.stream(ChatRequest(model: format.model, messages: question)))
                #expect(providerError(error)?.kind == kind, "stream \(response): \(String(describing: error)) after \(events)")
                #expect(try await fixture.router.quota(of: "k").inFlight == 0)
            }
        }
    }

    @Test(arguments: Format.allCases)
    func aStreamThatBreaksMidwayChargesWhatItUsed(format: Format) async throws {
        try await withProviders(keys: [("k", format), ("spare", format)]) { fixture in
            try await fixture.router.setBudget(Budget(id: "all", period: .day, limit: Money(dollars: 10)))
            fixture.server.script(secret: ProviderFixture.secret("k"), [.brokenStream(text: "The first words of an answer")])
            let (events, error) = await collect(fixture.client.stream(ChatRequest(model: format.model, messages: question)))
            #expect(events.text == "The first words of an answer")
            let failure = try #require(providerError(error))
            #expect(failure.kind == .connection || failure.kind == .malformedResponse)
            // Content was delivered, so no other key was tried; what was used is charged.
            #expect(fixture.server.requests.count == 1)
            let used = try #require(failure.partialUsage)
            #expect(used.outputTokens > 0)
            let status = try await fixture.router.budgetStatus("all")
            #expect(status.reserved == .zero)
            #expect(status.spent == (await fixture.price(format)).cost(inputTokens: used.inputTokens, outputTokens: used.outputTokens))
        }
    }

    @Test func cancellingMidRequestStopsTheUpstreamRequest() async throws {
        try await withProviders(keys: [("k", .openai)]) { fixture in
            try await fixture.router.setBudget(Budget(id: "all", period: .day, limit: Money(dollars: 10)))
            fixture.server.script(secret: ProviderFixture.secret("k"), [.hang])
            let client = fixture.client
            let call = Task { try await client.chat(ChatRequest(model: "small", messages: [.user("Hello?")])) }
            await fixture.server.waitForRequests(1)
            call.cancel()
            await #expect { try await call.value } throws: { ($0 as? RouterError)?.code == .cancelled }
            await fixture.server.waitForAbandonedRequests(1)
            #expect(try await fixture.router.quota(of: "k").inFlight == 0)
            #expect(try await fixture.router.budgetStatus("all").reserved == .zero)
            #expect(try await fixture.router.state(of: "k") == .available)
        }
    }

    @Test func aConsumerThatStopsEarlyReleasesTheLease() async throws {
        try await withProviders(keys: [("k", .anthropic)]) { fixture in
            try await fixture.router.setBudget(Budget(id: "all", period: .day, limit: Money(dollars: 10)))
            fixture.server.script(secret: ProviderFixture.secret("k"), [.reply(FakeReply(text: "one two three four five six seven", latency: .milliseconds(1)))])
            for try await event in fixture.client.stream(ChatRequest(model: "claude", messages: question)) {
                if case .text = event { break }
            }
            // Ending the iteration cancels the stream's task, which releases the lease on its way out.
            try await waitForRelease { (try? await fixture.router.quota(of: "k").inFlight) == 0 }
            #expect(try await fixture.router.budgetStatus("all").reserved == .zero)
        }
    }
}

/// Deadlines on the router's (manual) clock bound calls and streams.
@Suite struct DeadlineOverHTTPTests {
    @Test func aStreamStillRunningAtTheDeadlineIsCancelledAndReleased() async throws {
        try await withProviders(keys: [("k", .openai)]) { fixture in
            try await fixture.router.setBudget(Budget(id: "all", period: .day, limit: Money(dollars: 10)))
            fixture.server.script(secret: ProviderFixture.secret("k"), [.hang])
            let deadline = fixture.clock.now() + .seconds(5)
            let stream = fixture.client.stream(ChatRequest(model: "small", messages: [.user("Hello?")], deadline: deadline))
            let consumer = Task { await collect(stream) }
            await fixture.server.waitForRequests(1)
            fixture.clock.advance(by: .seconds(5))
            let (_, error) = await consumer.value
            #expect((error as? RouterError)?.code == .deadlineExceeded)
            await fixture.server.waitForAbandonedRequests(1)
            #expect(try await fixture.router.quota(of: "k").inFlight == 0)
            #expect(try await fixture.router.budgetStatus("all").reserved == .zero)
        }
    }

    @Test func noAttemptStartsAfterTheDeadline() async throws {
        try await withProviders(keys: [("k", .openai)]) { fixture in
            let past = fixture.clock.now()
            fixture.clock.advance(by: .seconds(1))
            let (_, error) = await collect(fixture.client.stream(ChatRequest(model: "small", messages: [.user("Hello?")], deadline: past)))
            #expect((error as? RouterError)?.code == .deadlineExceeded)
            await #expect { try await fixture.client.chat(ChatRequest(model: "small", messages: [.user("Hello?")], deadline: past)) } throws: {
                ($0 as? RouterError)?.code == .deadlineExceeded
            }
            #expect(fixture.server.requests.isEmpty)
        }
    }
}
