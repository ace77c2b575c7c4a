import Foundation
import Logging
import RouterSDK
import RouterTesting
import Testing

/// A small catalog with round prices so expected costs are easy to state.
func testCatalog() throws -> ModelCatalog {
    var catalog = ModelCatalog()
    catalog.setProvider(ProviderInfo(id: .openai, displayName: "OpenAI", wireFormat: .openAIChat, baseURL: "https://api.openai.com/v1"))
    catalog.setProvider(ProviderInfo(id: .anthropic, displayName: "Anthropic", wireFormat: .anthropicMessages, baseURL: "https://api.anthropic.com/v1"))
    catalog.setProvider(ProviderInfo(id: .ollama, displayName: "Ollama", wireFormat: .openAIChat, baseURL: "http://127.0.0.1:11434/v1", requiresKey: false))
    // $1 per million input tokens, $2 per million output: 1,000 nanodollars per input token.
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "small"), price: price("1", "2"), contextWindow: 100_000, maxOutputTokens: 10_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "large"), price: price("10", "30"), contextWindow: 200_000, maxOutputTokens: 10_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .anthropic, name: "claude"), price: price("3", "15"), contextWindow: 200_000, maxOutputTokens: 10_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .ollama, name: "llama"), price: .free, contextWindow: 100_000, maxOutputTokens: 10_000))
    return catalog
}

func price(_ input: String, _ output: String) -> ModelPrice {
    ModelPrice(inputPerMillion: Money(decimal: input)!, outputPerMillion: Money(decimal: output)!)
}

/// A router on a manual clock and the small catalog.
func makeRouter(
    clock: ManualClock = ManualClock(),
    strategy: RoutingStrategy = .cost,
    store: any StateStore = InMemoryStateStore(),
    logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
    configure: (inout RouterConfiguration) -> Void = { _ in }
) throws -> LLMRouter {
    var configuration = RouterConfiguration(strategy: strategy, masterKey: testMasterKey, randomSeed: 7)
    // Round reservations (estimate × price) keep expected amounts easy to state; the headroom's
    // own tests turn it back on.
    configuration.reservationHeadroomPercent = 0
    configure(&configuration)
    return try LLMRouter(configuration: configuration, catalog: testCatalog(), store: store, clock: clock, logger: logger)
}

let testMasterKey = try! MasterKey(id: "test", bytes: Array(repeating: UInt8(7), count: 32))

/// A key on `provider` serving `models` with a recognisable secret.
func key(
    _ id: String, provider: ProviderID = .openai, models: Set<String> = [], weight: Int = 1, priority: Int = 0,
    tags: Set<String> = [], limits: KeyLimits = .unlimited
) -> APIKey {
    APIKey(id: KeyID(id), provider: provider, secret: Secret("sk-secret-\(id)-0123456789"), models: models, weight: weight, priority: priority, tags: tags, limits: limits)
}

/// Expects `body` to throw a `RouterError` with `code`, and returns it (RouterTesting's
/// `routerError(from:)` with an expectation).
@discardableResult
func expectRouterError<T>(
    _ code: RouterError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> RouterError? {
    let error = await routerError(from: body)
    #expect(error?.code == code, "expected RouterError.\(code), got \(error.map(String.init(describing:)) ?? "no RouterError")", sourceLocation: sourceLocation)
    return error
}

/// Collects events from a router's stream in the background.
final class EventCollector: Sendable {
    private let task: Task<[RouterEvent], Never>

    init(_ stream: AsyncStream<RouterEvent>) {
        task = Task {
            var events: [RouterEvent] = []
            for await event in stream { events.append(event) }
            return events
        }
    }

    /// Shuts the router down (ending the stream) and returns what was collected.
    func finish(_ router: LLMRouter) async throws -> [RouterEvent] {
        try await router.shutdown()
        return await task.value
    }
}

extension RouteRequest {
    static func small(input: Int = 1000, output: Int = 1000) -> RouteRequest {
        RouteRequest(model: "small", estimatedInputTokens: input, maxOutputTokens: output)
    }
}
