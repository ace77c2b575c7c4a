import InMemoryTracing
import RouterSDK
import RouterChat
import RouterTesting
import Testing
import Tracing

/// Spans for route, settle, release, each attempt and each store batch, and the trace context
/// carried into provider requests — on an in-memory tracer given to the router.
@Suite struct TracingTests {
    private func spans(_ tracer: InMemoryTracer, _ name: String) -> [FinishedInMemorySpan] {
        tracer.finishedSpans.filter { $0.operationName == name }
    }

    @Test func routeSettleAndReleaseAreSpansWithTheirDetails() async throws {
        let tracer = InMemoryTracer()
        var configuration = RouterConfiguration(strategy: .cost, masterKey: testMasterKey)
        configuration.reservationHeadroomPercent = 0
        let router = try LLMRouter(configuration: configuration, catalog: testCatalog(), clock: ManualClock(), tracer: tracer)
        try await router.register(key("a", models: ["small"]))

        let lease = try await router.route(.small(input: 100, output: 100))
        _ = try await router.settle(lease, usage: Usage(inputTokens: 10, outputTokens: 20))
        let failed = try await router.route(.small())
        try await router.release(failed, failure: .serverError(status: 503))
        await expectRouterError(.unknownModel) { try await router.route(RouteRequest(model: "no-such-model")) }

        let routes = spans(tracer, "routersdk.route")
        #expect(routes.count == 3)
        #expect(routes[0].attributes.get("routersdk.key") == .string("a"))
        #expect(routes[0].attributes.get("routersdk.model") == .string("openai/small"))
        #expect(routes[0].attributes.get("routersdk.reserved_nanodollars") == .int64(300_000))
        #expect(routes[2].status?.code == .error)
        #expect(routes[2].attributes.get("routersdk.error") == .string("unknownModel"))
        let settle = try #require(spans(tracer, "routersdk.settle").first)
        #expect(settle.attributes.get("routersdk.cost_nanodollars") == .int64(50_000))
        #expect(settle.attributes.get("routersdk.output_tokens") == .int64(20))
        #expect(spans(tracer, "routersdk.release").first?.attributes.get("routersdk.failure") == .string("server_error"))

        try await router.shutdown()
        let batches = spans(tracer, "routersdk.store.batch")
        #expect(!batches.isEmpty)
        #expect(batches.compactMap { if case .int64(let n) = $0.attributes.get("routersdk.records") { Int(n) } else { nil } }.reduce(0, +) >= 2)
    }

    @Test func eachExecuteAttemptIsAClientSpanThatTheOperationRunsIn() async throws {
        let tracer = InMemoryTracer()
        let router = try LLMRouter(
            configuration: RouterConfiguration(strategy: .cost, masterKey: testMasterKey), catalog: testCatalog(), clock: ManualClock(), tracer: tracer)
        try await router.register(key("a", models: ["small"]))
        try await router.register(key("b", models: ["small"]))
        let calls = Locked(0)
        let answer: String = try await router.execute(.small()) { _ in
            // The provider call's own span is a child of the attempt's.
            try tracer.withSpan("provider.call") { _ in
                if calls.withLock({ $0 += 1; return $0 }) == 1 { throw ProviderFailure.serverError(status: 500) }
                return Completion("ok", usage: Usage(inputTokens: 1, outputTokens: 1))
            }
        }
        #expect(answer == "ok")
        let attempts = spans(tracer, "routersdk.attempt")
        #expect(attempts.count == 2)
        #expect(attempts.allSatisfy { $0.kind == .client })
        #expect(attempts[0].status?.code == .error)
        #expect(attempts.map { $0.attributes.get("routersdk.attempt") } == [.int64(1), .int64(2)])
        let providerCalls = spans(tracer, "provider.call")
        #expect(providerCalls.map(\.parentSpanID) == attempts.map(\.spanID))
    }

    @Test func chatClientRequestsCarryTheAttemptsTraceContext() async throws {
        let tracer = InMemoryTracer()
        let router = try LLMRouter(
            configuration: RouterConfiguration(strategy: .cost, masterKey: testMasterKey), catalog: testCatalog(), clock: ManualClock(), tracer: tracer)
        try await router.register(key("a", models: ["small"]))
        let transport = MockTransport { _ in
            TransportResponse(status: 200, body: Array(#"{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8))
        }
        let client = ChatClient(router: router, transport: transport)
        // The app's request span is the parent of everything the router does for it.
        let reply = try await tracer.withSpan("app.request") { _ in
            try await client.chat(ChatRequest(model: "small", messages: [.user("hello")]))
        }
        #expect(reply.text == "hi")
        let attempt = try #require(spans(tracer, "routersdk.attempt").first)
        let app = try #require(spans(tracer, "app.request").first)
        #expect(attempt.traceID == app.traceID)
        let sent = try #require(transport.requests.first)
        #expect(sent.header(InMemoryTracer.traceIDKey) == attempt.traceID)
        #expect(sent.header(InMemoryTracer.spanIDKey) == attempt.spanID)
    }
}
