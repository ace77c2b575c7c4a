import Foundation
import Logging
import RouterHTTPClient
import RouterSDK
import RouterChat
import RouterTesting
import Testing

let quietLogger = Logger(label: "provider-tests") { _ in SwiftLogNoOpLogHandler() }
let providerMasterKey = try! MasterKey(id: "provider-tests", bytes: Array(repeating: UInt8(9), count: 32))

/// The three wire formats, each with the provider and model the tests use for it.
enum Format: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case openai, anthropic, gemini

    var provider: ProviderID { ProviderID(rawValue) }
    var model: String {
        switch self {
        case .openai: "small"
        case .anthropic: "claude"
        case .gemini: "gemini-small"
        }
    }
    var wireFormat: ProviderInfo.WireFormat {
        switch self {
        case .openai: .openAIChat
        case .anthropic: .anthropicMessages
        case .gemini: .geminiGenerateContent
        }
    }
    var testDescription: String { rawValue }

    /// The header that carries the key, and its value for `secret`.
    func authHeader(_ secret: String) -> (String, String) {
        switch self {
        case .openai: ("authorization", "Bearer \(secret)")
        case .anthropic: ("x-api-key", secret)
        case .gemini: ("x-goog-api-key", secret)
        }
    }
}

/// Round prices so costs are exact: `small` costs 1,000 nanodollars per input token and 2,000 per
/// output token.
func providerCatalog(server: FakeProviderServer) throws -> ModelCatalog {
    var catalog = ModelCatalog()
    for format in Format.allCases {
        catalog.setProvider(server.provider(ProviderInfo(id: format.provider, displayName: format.rawValue, wireFormat: format.wireFormat, baseURL: "unused")))
    }
    func price(_ input: String, _ output: String) -> ModelPrice {
        ModelPrice(inputPerMillion: Money(decimal: input)!, outputPerMillion: Money(decimal: output)!)
    }
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "small"), price: price("1", "2"), contextWindow: 1_000, maxOutputTokens: 4_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "large"), price: price("10", "30"), contextWindow: 100_000, maxOutputTokens: 4_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .anthropic, name: "claude"), price: price("3", "15"), contextWindow: 1_000, maxOutputTokens: 4_000))
    try catalog.setModel(ModelInfo(ref: ModelRef(provider: .gemini, name: "gemini-small"), price: price("0.5", "1.5"), contextWindow: 1_000, maxOutputTokens: 4_000))
    return catalog
}

/// A fake provider server, a router with keys on it, and a client over real HTTP.
struct ProviderFixture {
    let server: FakeProviderServer
    let router: LLMRouter
    let clock: ManualClock
    let client: ChatClient

    /// The secret of key `id`.
    static func secret(_ id: String) -> String { "sk-test-\(id)-0123456789" }

    func price(_ format: Format) async -> ModelPrice {
        await router.catalog.models[ModelRef(provider: format.provider, name: format.model)]!.price
    }
}

/// Runs `body` with a fresh fake server and router; `keys` are (id, format) pairs whose secrets
/// are ``ProviderFixture/secret(_:)``.
func withProviders(
    keys: [(String, Format)], configuration: ChatClient.Configuration = ChatClient.Configuration(maxResponseBytes: 1 << 20),
    extraModels: [String: [String]] = [:], _ body: (ProviderFixture) async throws -> Void
) async throws {
    let server = try await FakeProviderServer.start()
    let clock = ManualClock()
    let router = try LLMRouter(configuration: RouterConfiguration(strategy: .priority, masterKey: providerMasterKey), catalog: providerCatalog(server: server), clock: clock, logger: quietLogger)
    for (id, format) in keys {
        let models = [format.model] + (extraModels[id] ?? [])
        try await router.register(APIKey(id: KeyID(id), provider: format.provider, secret: Secret(ProviderFixture.secret(id)), models: Set(models)))
    }
    let fixture = ProviderFixture(server: server, router: router, clock: clock, client: ChatClient(router: router, transport: HTTPClientTransport.shared, configuration: configuration))
    do {
        try await body(fixture)
    } catch {
        await server.shutdown()
        try? await router.shutdown()
        throw error
    }
    await server.shutdown()
    try await router.shutdown()
}

/// Waits until `condition` holds by yielding to the tasks that make it true (no sleeping);
/// bounded, so a condition that never holds fails the test instead of hanging it.
func waitForRelease(_ condition: () async -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<100_000 {
        if await condition() { return }
        await Task.yield()
    }
    Issue.record("the condition did not hold after 100,000 yields", sourceLocation: sourceLocation)
}

/// Collects a stream's events, or the error that ended it.
func collect(_ stream: AsyncThrowingStream<ChatStreamEvent, any Error>) async -> (events: [ChatStreamEvent], error: (any Error)?) {
    var events: [ChatStreamEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

extension [ChatStreamEvent] {
    var text: String { compactMap { if case .text(let text) = $0 { text } else { nil } }.joined() }
    var toolCalls: [ToolCall] { compactMap { if case .toolCall(let call) = $0 { call } else { nil } } }
}

/// The provider's classified error inside the ``RouterError`` every ChatClient call throws.
func providerError(_ error: (any Error)?) -> ProviderError? {
    guard let error = error as? RouterError, error.code == .providerFailed else { return nil }
    return error.providerError
}
