import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RouterChat
import RouterHTTPClient
import RouterSDK
import RouterTesting
import Testing

/// The upstream wire formats a gateway request can be served in.
enum Upstream: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case openai, anthropic, gemini

    var provider: ProviderID { ProviderID(rawValue) }
    /// The model the tests ask for, served only by this upstream.
    var model: String { "\(rawValue)-model" }
    var testDescription: String { rawValue }
}

/// A gateway in front of a ``FakeProviderServer``: every upstream format has a model at
/// 1,000 nanodollars per input token and 2,000 per output token, and each key given is
/// registered for its upstream's model.
struct GatewayFixture: Sendable {
    let gateway: Gateway
    let router: LLMRouter
    let upstream: FakeProviderServer

    static let masterKey = try! MasterKey(id: "gateway-tests", bytes: Array(repeating: UInt8(7), count: 32))
    static func secret(_ id: String) -> String { "sk-gateway-\(id)-0123456789" }

    /// Runs `body` against a fresh fixture with `keys` (id, upstream), answered in-process
    /// through HummingbirdTesting (`.router`) or on a real port (`.live`).
    static func run(
        keys: [(String, Upstream)], budget: Budget? = nil, maxBodyBytes: Int = 1 << 20, virtualKeys: Bool = false, adminToken: String? = nil,
        setup: TestingSetup = .router,
        _ body: @Sendable (GatewayFixture, any TestClientProtocol) async throws -> Void
    ) async throws {
        let upstream = try await FakeProviderServer.start()
        // The bundled catalog's provider entries (their wire formats), pointed at the fake.
        let bundled = try ModelCatalog.bundled()
        var catalog = ModelCatalog()
        for format in Upstream.allCases {
            catalog.setProvider(upstream.provider(try #require(bundled.providers[format.provider])))
            try catalog.setModel(ModelInfo(
                ref: ModelRef(provider: format.provider, name: format.model),
                price: ModelPrice(inputPerMillion: Money(dollars: 1), outputPerMillion: Money(dollars: 2)), contextWindow: 100_000, maxOutputTokens: 4_000))
        }
        let quiet = Logger(label: "gateway-tests") { _ in SwiftLogNoOpLogHandler() }
        let router = try LLMRouter(configuration: RouterConfiguration(strategy: .priority, masterKey: masterKey, decisionSampleInterval: 1), catalog: catalog, logger: quiet)
        for (index, (id, format)) in keys.enumerated() {
            try await router.register(APIKey(id: KeyID(id), provider: format.provider, secret: Secret(secret(id)), models: [format.model], priority: index))
        }
        if let budget { try await router.setBudget(budget) }
        let configuration = GatewayConfiguration(maxBodyBytes: maxBodyBytes, requireVirtualKeys: virtualKeys, adminToken: adminToken.map { Secret($0) })
        let client = ChatClient(router: router, transport: HTTPClientTransport.shared, configuration: .init(maxAttemptsPerModel: 3, requestTimeout: .seconds(10)))
        let keySet = virtualKeys ? VirtualKeys(store: router.store, masterKey: masterKey, clock: router.clock) : nil
        let gateway = Gateway(router: router, client: client, configuration: configuration, virtualKeys: keySet)
        let fixture = GatewayFixture(gateway: gateway, router: router, upstream: upstream)
        let app = Application(router: fixture.gateway.routes(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quiet)
        do {
            try await app.test(setup) { client in try await body(fixture, client) }
        } catch {
            await upstream.shutdown()
            try? await router.shutdown()
            throw error
        }
        await upstream.shutdown()
        try await router.shutdown()
    }
}

extension TestClientProtocol {
    /// POSTs `json` to `uri` and returns the response.
    func post(_ uri: String, json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    /// The body as JSON (an expectation failure if it is not).
    var json: JSONValue {
        let value = JSONValue(parsing: Array(body.readableBytesView))
        #expect(value != nil, "not JSON: \(String(buffer: body))")
        return value ?? .null
    }

    /// The `data:` payloads of a server-sent event stream, in order.
    var events: [String] {
        String(buffer: body).split(separator: "\n\n").compactMap { event in
            event.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    /// The events of a server-sent event stream that names them (Anthropic's): each `event:`
    /// name with its `data:` payload as JSON.
    var namedEvents: [(name: String, data: JSONValue)] {
        String(buffer: body).split(separator: "\n\n").compactMap { event in
            let lines = event.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") }), let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return (String(name.dropFirst(7)), JSONValue(parsing: Array(data.dropFirst(6).utf8)) ?? .null)
        }
    }

    /// The objects of a newline-delimited JSON body (Ollama's streams); a line that is not
    /// JSON is `.null`.
    var jsonLines: [JSONValue] {
        String(buffer: body).split(separator: "\n").map { JSONValue(parsing: Array($0.utf8)) ?? .null }
    }
}
