import InMemoryLogging
import Logging
import RouterSDK
import RouterChat
import RouterTesting
import Testing

/// A logger passed with one call gets that call's lines, with its own metadata; the router's
/// logger keeps what belongs to the router.
@Suite struct CallLoggerTests {
    private func capture(_ label: String, _ metadata: Logger.Metadata = [:]) -> (Logger, InMemoryLogHandler) {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: label) { _ in handler }
        logger.logLevel = .trace
        for (key, value) in metadata { logger[metadataKey: key] = value }
        return (logger, handler)
    }

    @Test func executeLogsTheRouteFailoverAndSettleToTheCallsLogger() async throws {
        let (routerLogger, routerLogs) = capture("router")
        let (callLogger, callLogs) = capture("call", ["request-id": "req-42"])
        let router = try makeRouter(logger: routerLogger)
        try await router.register(key("a", models: ["small"]))
        try await router.register(key("b", models: ["small"]))
        let attempts = Locked(0)
        let _: Int = try await router.execute(.small(), logger: callLogger) { _ in
            if attempts.withLock({ $0 += 1; return $0 }) == 1 { throw ProviderFailure.serverError(status: 503) }
            return Completion(1, usage: Usage(inputTokens: 10, outputTokens: 10))
        }
        let messages = callLogs.entries.map(\.message.description)
        #expect(messages.filter { $0 == "routed" }.count == 2)
        #expect(messages.contains("failing over"))
        #expect(messages.contains("released"))
        #expect(messages.contains("settled"))
        #expect(callLogs.entries.allSatisfy { $0.metadata["request-id"] == "req-42" })
        // None of the call's lines went to the router's logger.
        #expect(!routerLogs.entries.contains { ["routed", "failing over", "settled", "released"].contains($0.message.description) })
    }

    @Test func aRefusedRouteIsLoggedToTheCallsLoggerAndWithoutOneNothingChanges() async throws {
        let (routerLogger, routerLogs) = capture("router")
        let (callLogger, callLogs) = capture("call", ["request-id": "req-7"])
        let router = try makeRouter(logger: routerLogger)
        await expectRouterError(.noEligibleKey) { try await router.route(.small(), logger: callLogger) }
        #expect(callLogs.entries.map(\.message.description) == ["no key for the request"])
        #expect(callLogs.entries.first?.metadata["error"] == "noEligibleKey")

        try await router.register(key("a", models: ["small"]))
        _ = try await router.settle(try await router.route(.small()), usage: .none)
        #expect(routerLogs.entries.contains { $0.message.description == "routed" })
        #expect(callLogs.entries.count == 1)
    }

    @Test func chatClientCallsLogToTheGivenLogger() async throws {
        let (callLogger, callLogs) = capture("call", ["request-id": "req-9"])
        let router = try makeRouter()
        try await router.register(key("a", models: ["small"]))
        let transport = MockTransport { request in
            if String(decoding: request.body, as: UTF8.self).contains(#""stream":true"#) {
                return TransportResponse(status: 200, body: Array((
                    #"data: {"choices":[{"delta":{"content":"hi"}}]}"# + "\n\n"
                        + #"data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"# + "\n\n"
                        + "data: [DONE]\n\n").utf8))
            }
            return TransportResponse(status: 200, body: Array(#"{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8))
        }
        let client = ChatClient(router: router, transport: transport)
        _ = try await client.chat(ChatRequest(model: "small", messages: [.user("hello")]), logger: callLogger)
        var streamed = 0
        for try await _ in client.stream(ChatRequest(model: "small", messages: [.user("hello")]), logger: callLogger) { streamed += 1 }
        let messages = callLogs.entries.map(\.message.description)
        #expect(messages.filter { $0 == "routed" }.count == 2)
        #expect(messages.filter { $0 == "settled" || $0 == "released" }.count == 2)
        #expect(callLogs.entries.allSatisfy { $0.metadata["request-id"] == "req-9" })
    }
}
