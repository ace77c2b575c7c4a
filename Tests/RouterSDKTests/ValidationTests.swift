import RouterSDK
import RouterTesting
import Testing

@Suite struct ValidationTests {
    @Test func keyRegistrationErrors() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        // The same key again is idempotent; a different key under the id is a duplicate.
        try await router.register(key("k", models: ["small"]))
        await expectRouterError(.duplicateKeyID) { try await router.register(key("k", models: ["small", "large"])) }
        await expectRouterError(.invalidArgument) { try await router.register(key("", models: ["small"])) }
        await expectRouterError(.invalidArgument) { try await router.register(key("w", models: ["small"], weight: 0)) }
        await expectRouterError(.invalidArgument) { try await router.register(APIKey(id: "empty", provider: .openai, secret: "")) }
        await expectRouterError(.unknownModel) { try await router.register(key("m", models: ["gpt-99"])) }
        await expectRouterError(.unknownKey) { try await router.disable("ghost", reason: "x") }
        await expectRouterError(.unknownKey) { try await router.rotate("ghost", to: "s") }
        await expectRouterError(.unknownKey) { try await router.quota(of: "ghost") }
        await expectRouterError(.unknownKey) { try await router.remove("ghost") }
        // A local provider needs no secret.
        try await router.register(APIKey(id: "local", provider: .ollama, secret: ""))
        #expect(try await router.route(RouteRequest(model: "llama")).reservedCost == .zero)
        #expect(await router.keyIDs == ["k", "local"])
    }

    @Test func routeRequestErrors() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        let unknown = await expectRouterError(.unknownModel) { try await router.route(RouteRequest(model: "gpt-99")) }
        #expect(unknown?.model == "gpt-99")
        await expectRouterError(.invalidArgument) { try await router.route(RouteRequest(models: [])) }
        await expectRouterError(.invalidArgument) { try await router.route(.small(input: -1)) }
        await expectRouterError(.invalidArgument) { try await router.route(.small(output: 200_000_000)) }
        // Known to the catalog but no key serves it.
        let none = await expectRouterError(.noEligibleKey) { try await router.route(RouteRequest(model: "claude")) }
        #expect(none?.noEligibleKey?.candidates == 0)
    }

    @Test func catalogOverridesAreValidatedAndTakeEffect() async throws {
        let router = try makeRouter()
        try await router.register(key("k"))
        await expectRouterError(.invalidPrice) {
            try await router.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "small"), price: price("-1", "1"), contextWindow: 1, maxOutputTokens: 1))
        }
        await expectRouterError(.invalidArgument) {
            try await router.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "small"), price: .free, contextWindow: 0, maxOutputTokens: 1))
        }
        await expectRouterError(.invalidArgument) {
            try await router.setModel(ModelInfo(ref: ModelRef(provider: "nobody", name: "x"), price: .free, contextWindow: 1, maxOutputTokens: 1))
        }
        try await router.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "small"), price: price("2", "4"), contextWindow: 1000, maxOutputTokens: 100))
        #expect(try await router.route(.small()).reservedCost == Money(nanodollars: 6_000_000))
        // A new model joins keys that serve every model of its provider.
        try await router.setModel(ModelInfo(ref: ModelRef(provider: .openai, name: "brand-new"), price: .free, contextWindow: 1000, maxOutputTokens: 100))
        #expect(try await router.route(RouteRequest(model: "brand-new")).keyID == "k")
    }

    @Test func configurationErrors() {
        #expect(throws: RouterError.self) { try makeRouter { $0.circuitBreaker.failureThreshold = 0 } }
        #expect(throws: RouterError.self) { try makeRouter { $0.persistence.bufferCapacity = 0 } }
        #expect(throws: RouterError.self) { try makeRouter { $0.rateLimitBackoff = .zero } }
        #expect(throws: RouterError.self) { try makeRouter { $0.decisionSampleInterval = -1 } }
    }

    @Test func updateReindexesKeys() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.update("k", settings: KeySettings(provider: .anthropic, models: ["claude"]))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(try await router.route(RouteRequest(model: "claude")).keyID == "k")
        await expectRouterError(.unknownModel) { try await router.update("k", settings: KeySettings(provider: .anthropic, models: ["small"])) }
    }

    @Test func shutDownRoutersRefuseWork() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.shutdown()
        try await router.shutdown()
        await expectRouterError(.shutDown) { try await router.route(.small()) }
        await expectRouterError(.shutDown) { try await router.register(key("j", models: ["small"])) }
    }
}
