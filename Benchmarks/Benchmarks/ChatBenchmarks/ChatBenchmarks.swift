import Benchmark
import Logging
import RouterChat
@_spi(Benchmarks) import RouterChat
import RouterHTTPClient
import RouterSDK
import RouterTesting

// The full ChatClient path: route + encode + transport + decode + settle.
// - With MockTransport (no network) the time is all RouterSDK's: its share of a call. Each
//   iteration makes 1,000 calls in one task (like a server's request handler would, one after
//   another), so the per-call latency metric and the malloc count per 1,000 calls measure the
//   steady state, not the harness's per-iteration task creation.
// - Against FakeProviderServer on loopback through AsyncHTTPClient, "transport latency" is the
//   time inside Transport.send (request out, response head back), so the router's share is
//   the total minus it.
// - Stream decoding: a 200-chunk streamed reply parsed and decoded as ChatClient.stream does,
//   reported as chunk events per second.

let quiet = Logger(label: "ChatBenchmarks") { _ in SwiftLogNoOpLogHandler() }
let totalMetric = BenchmarkMetric.custom("call latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let transportMetric = BenchmarkMetric.custom("transport latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let eventRateMetric = BenchmarkMetric.custom("chunk events per second", polarity: .prefersLarger, useScalingFactor: false)

/// Allocations may not grow by more than 20 per 1,000 calls (an extra allocation per call fails).
var chatGates: [BenchmarkMetric: BenchmarkThresholds] {
    [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 20])]
}

/// An OpenAI chat completion of about 1 KB, shaped as the API sends it today.
let cannedReply = Array("""
    {"id":"chatcmpl-CY3mJ8qKvW1bL0xS7dPzN2uRtE4aF","object":"chat.completion","created":1732406400,"model":"gpt-4o-mini-2024-07-18",\
    "choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France. It sits on the Seine in the \
    north of the country, has been the seat of government since the tenth century, and with about two million people in the \
    city proper (over twelve million in the metropolitan area) it is the largest city in France. It is known for the Louvre, \
    the Eiffel Tower, Notre-Dame and its cafes.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],\
    "usage":{"prompt_tokens":24,"completion_tokens":96,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":0,\
    "audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,\
    "rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_560af6e559"}
    """.utf8)

/// An OpenAI stream of 200 chunk events (198 content deltas, the finish, the usage) and `[DONE]`,
/// cut into network reads of about 1.4 KB (a TCP segment's payload), as a real stream arrives.
let streamedReply: [[UInt8]] = {
    var body = ""
    let words = ["Paris", " is", " the", " capital", " of", " France", ",", " on", " the", " Seine", "."]
    func chunk(_ delta: String, finish: String = "null") -> String {
        #"data: {"id":"chatcmpl-CY3mJ8qKvW1bL0xS7dPzN2uRtE4aF","object":"chat.completion.chunk","created":1732406400,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_560af6e559","choices":[{"index":0,"delta":{\#(delta)},"logprobs":null,"finish_reason":\#(finish)}]}"# + "\n\n"
    }
    body += chunk(#""role":"assistant","content":"""#)
    for index in 0..<197 { body += chunk(#""content":"\#(words[index % words.count])""#) }
    body += chunk("", finish: #""stop""#)
    body += #"data: {"id":"chatcmpl-CY3mJ8qKvW1bL0xS7dPzN2uRtE4aF","object":"chat.completion.chunk","created":1732406400,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":197,"total_tokens":221}}"# + "\n\n"
    body += "data: [DONE]\n\n"
    let bytes = Array(body.utf8)
    return stride(from: 0, to: bytes.count, by: 1_400).map { Array(bytes[$0..<min($0 + 1_400, bytes.count)]) }
}()

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

let request = ChatRequest(model: "gpt-4o-mini", messages: [.user("What is the capital of France?")], system: "Be brief.", maxTokens: 128)

func nanoseconds(_ duration: Duration) -> Int { Int(duration / .nanoseconds(1)) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds

    nonisolated(unsafe) var mockClient: ChatClient!
    Benchmark("chat-1k-keys-mock-transport", configuration: .init(metrics: [.wallClock, .mallocCountTotal, .throughput, totalMetric], scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 200, thresholds: chatGates, setup: {
        let headers = ["content-type": "application/json"]
        let transport = MockTransport(keepingLast: 0) { _ in TransportResponse(status: 200, headers: headers, body: cannedReply) }
        mockClient = ChatClient(router: try await makeRouter(baseURL: "http://mock.invalid/v1"), transport: transport)
    })) { benchmark in
        let client = mockClient!
        var latencies: [Int] = []
        latencies.reserveCapacity(1_000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            blackHole(try await client.chat(request))
            latencies.append(nanoseconds(ContinuousClock.now - start))
        }
        benchmark.stopMeasurement()
        for latency in latencies { benchmark.measurement(totalMetric, latency) }
    }

    Benchmark("chat-stream-decode-200-chunks", configuration: .init(metrics: [.wallClock, .mallocCountTotal, eventRateMetric], maxDuration: .seconds(2), maxIterations: 20_000, thresholds: chatGates)) { benchmark in
        var decoder = StreamBodyDecoder(wireFormat: .openAIChat)
        let start = ContinuousClock.now
        for chunk in streamedReply { try decoder.feed(chunk) }
        let elapsed = ContinuousClock.now - start
        precondition(decoder.ended && decoder.events == 201)
        blackHole(decoder.textBytes)
        benchmark.measurement(eventRateMetric, Int(200 * 1_000_000_000 / max(1, nanoseconds(elapsed))))
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
        benchmark.measurement(totalMetric, nanoseconds(ContinuousClock.now - start))
        benchmark.measurement(transportMetric, Int(lastTransport / .nanoseconds(1)))
    }
}
