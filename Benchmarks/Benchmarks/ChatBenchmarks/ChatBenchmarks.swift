import Benchmark
import Logging
import RouterChat
import RouterHTTPClient
import RouterSDK
import RouterTesting

// The full ChatClient path: route + encode + transport + decode + settle.
// - With MockTransport (no network) the time is all RouterSDK's: its share of a call.
// - Against FakeProviderServer on loopback through AsyncHTTPClient, "transport latency" is the
//   time inside Transport.send (request out, response head back), so the router's share is
//   the total minus it.

let quiet = Logger(label: "ChatBenchmarks") { _ in SwiftLogNoOpLogHandler() }
let totalMetric = BenchmarkMetric.custom("call latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let transportMetric = BenchmarkMetric.custom("transport latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)

/// An OpenAI chat completion as the mock answers it.
let cannedReply = Array("""
    {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France."},"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32}}
    """.utf8)

/// Times Transport.send of another transport.
struct TimingTransport: Transport {
    let inner: any Transport
    let record: @Sendable (Duration) -> Void

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let start = ContinuousClock.now
        let response = try await inner.send(request)
        record(ContinuousClock.now - start)
        return response
    }
}

func makeRouter(baseURL: String) async throws -> LLMRouter {
    let router = try LLMRouter(configuration: RouterConfiguration(masterKey: MasterKey.random()), logger: quiet)
    await router.setProvider(ProviderInfo(id: .openai, displayName: "OpenAI", wireFormat: .openAIChat, baseURL: baseURL))
    for index in 0..<1_000 {
        try await router.register(APIKey(id: KeyID("key-\(index)"), provider: .openai, secret: Secret("sk-bench-\(index)"), models: ["gpt-4o-mini"]))
    }
    try await router.setBudget(Budget(id: "global", period: .month, limit: Money(dollars: 1_000_000)))
    return router
}

let request = ChatRequest(model: "gpt-4o-mini", messages: [.user("What is the capital of France?")], system: "Be brief.", maxTokens: 64)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds

    nonisolated(unsafe) var mockClient: ChatClient!
    Benchmark("chat-1k-keys-mock-transport", configuration: .init(metrics: [.wallClock, .mallocCountTotal, .throughput, totalMetric], maxDuration: .seconds(2), maxIterations: 50_000, setup: {
        let transport = MockTransport { _ in TransportResponse(status: 200, headers: ["content-type": "application/json"], body: cannedReply) }
        mockClient = ChatClient(router: try await makeRouter(baseURL: "http://mock.invalid/v1"), transport: transport)
    })) { benchmark in
        let start = ContinuousClock.now
        blackHole(try await mockClient.chat(request))
        benchmark.measurement(totalMetric, Int((ContinuousClock.now - start) / .nanoseconds(1)))
    }

    nonisolated(unsafe) var server: FakeProviderServer!
    nonisolated(unsafe) var loopbackClient: ChatClient!
    nonisolated(unsafe) var lastTransport: Duration = .zero
    Benchmark("chat-1k-keys-fake-server-loopback", configuration: .init(metrics: [.wallClock, .throughput, totalMetric, transportMetric], maxDuration: .seconds(2), maxIterations: 5_000, setup: {
        server = try await FakeProviderServer.start()
        server.defaultReply = FakeReply(text: "Paris is the capital of France.", inputTokens: 24, outputTokens: 8)
        let transport = TimingTransport(inner: HTTPClientTransport.shared) { lastTransport = $0 }
        loopbackClient = ChatClient(router: try await makeRouter(baseURL: server.baseURL(.openAIChat)), transport: transport)
    }, teardown: {
        await server.shutdown()
    })) { benchmark in
        let start = ContinuousClock.now
        blackHole(try await loopbackClient.chat(request))
        benchmark.measurement(totalMetric, Int((ContinuousClock.now - start) / .nanoseconds(1)))
        benchmark.measurement(transportMetric, Int(lastTransport / .nanoseconds(1)))
    }
}
