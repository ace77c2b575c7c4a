import Foundation
import RouterSDK
import RouterChat
import RouterTesting
import Testing

// The error-handling code users write against RouterSDK, compiled and run as they would write
// it. This target exists because typed throws crash Swift 6.3.1 (signal 11) on the most natural
// pattern — `catch let error where error.code == …` around a `throws(E)` call in a loop — so the
// public API throws untyped errors with a documented type, and each pattern below must keep
// compiling as the API changes.

/// Keys registered again under ids that other keys already have are duplicates, counted (the
/// pattern from the crash report, with the documented error type in the `catch`). The same key
/// registered again is not a duplicate: registration is idempotent.
func registerAll(_ router: LLMRouter, _ keys: [APIKey]) async throws -> Int {
    var duplicates = 0
    for key in keys {
        do { try await router.register(key) } catch let error as RouterError where error.code == .duplicateKeyID { duplicates += 1 }
    }
    return duplicates
}

/// The same filtered catch around a synchronous call, in a loop.
func parseMasterKeys(_ texts: [String]) -> (valid: Int, invalid: Int) {
    var valid = 0
    var invalid = 0
    for text in texts {
        do {
            _ = try MasterKey(id: "k", base64: text)
            valid += 1
        } catch let error as RouterError where error.code == .invalidMasterKey {
            invalid += 1
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
    return (valid, invalid)
}

/// An app's own typed-throws function over the untyped API: convert once, in a catch-all.
struct AppError: Error, Equatable {
    var reason: String
}

func routeOrAppError(_ router: LLMRouter, model: String) async throws(AppError) -> Lease {
    do {
        return try await router.route(RouteRequest(model: model, estimatedInputTokens: 10, maxOutputTokens: 10))
    } catch {
        throw AppError(reason: (error as? RouterError)?.code.description ?? "unknown")
    }
}

@Suite struct ErrorPatternTests {
    private func router() throws -> LLMRouter {
        var catalog = ModelCatalog()
        catalog.setProvider(ProviderInfo(id: .openai, displayName: "OpenAI", wireFormat: .openAIChat, baseURL: "http://127.0.0.1:9/v1"))
        try catalog.setModel(ModelInfo(
            ref: ModelRef(provider: .openai, name: "small"),
            price: ModelPrice(inputPerMillion: Money(dollars: 1), outputPerMillion: Money(dollars: 2)), contextWindow: 1_000, maxOutputTokens: 100))
        return try LLMRouter(configuration: RouterConfiguration(masterKey: MasterKey.random()), catalog: catalog, clock: ManualClock())
    }

    private func key(_ id: String, secret: String = "0123456789") -> APIKey {
        APIKey(id: KeyID(id), provider: .openai, secret: Secret("sk-test-\(id)-\(secret)"), models: ["small"])
    }

    @Test func aFilteredCatchInALoopCountsDuplicates() async throws {
        let router = try router()
        #expect(try await registerAll(router, [key("a"), key("b")]) == 0)
        #expect(try await registerAll(router, [key("a"), key("b"), key("c")]) == 0)
        #expect(try await registerAll(router, [key("a", secret: "other"), key("b", secret: "other"), key("d")]) == 2)
    }

    @Test func aFilteredCatchAroundASynchronousCall() {
        let good = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(parseMasterKeys([good, "not base64", good]) == (2, 1))
    }

    @Test func switchingOnTheCodeWithADefault() async throws {
        let router = try router()
        do {
            _ = try await router.route(RouteRequest(model: "small"))
            Issue.record("no key is registered")
        } catch let error as RouterError {
            switch error.code {
            case .noEligibleKey, .budgetExceeded: #expect(error.code == .noEligibleKey)
            case .unknownModel: Issue.record("the model is in the catalog")
            default: Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func anAppsTypedThrowsWrapsTheUntypedAPI() async throws {
        let router = try router()
        await #expect(throws: AppError(reason: "unknownModel")) { try await routeOrAppError(router, model: "no-such-model") }
    }

    @Test func providerErrorsFromChatClientAreRouterErrors() async throws {
        let router = try router()
        try await router.register(key("a"))
        let transport = MockTransport { _ in
            TransportResponse(status: 400, body: Array(#"{"error":{"message":"flagged","code":"content_policy_violation"}}"#.utf8))
        }
        let client = ChatClient(router: router, transport: transport)
        do {
            _ = try await client.chat(ChatRequest(model: "small", messages: [.user("hi")]))
            Issue.record("expected a provider error")
        } catch let error as RouterError where error.code == .providerFailed {
            // The classified provider error is inside; its kind is extensible, hence `default`.
            switch error.providerError?.kind {
            case .contentPolicy?: break
            default: Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func executeOperationsThrowProviderFailures() async throws {
        let router = try router()
        try await router.register(key("a"))
        do {
            let _: Int = try await router.execute(RouteRequest(model: "small", estimatedInputTokens: 1, maxOutputTokens: 1)) { _ in
                throw ProviderFailure.rejected(status: 400, reason: "context too long")
            }
            Issue.record("expected the rejection")
        } catch let failure as ProviderFailure where failure.kind == .rejected {
            #expect(failure.status == 400)
        }
    }

    @Test func eventsAreMatchedByKindWithADefault() async throws {
        let router = try router()
        let events = await router.events()
        try await router.register(key("a"))
        try await router.disable("a", reason: "test")
        try await router.shutdown()
        var transitions: [TransitionReason] = []
        for await event in events {
            switch event.kind {
            case .keyStateChanged: transitions.append(event.transition?.reason ?? .restored)
            default: break
            }
        }
        #expect(transitions.contains(.operatorDisabled))
    }

    @Test func frozenEnumsSwitchExhaustively() async throws {
        let router = try router()
        try await router.register(key("a"))
        // KeyState is frozen (documented): an exhaustive switch without `default` is supported.
        let label = switch try await router.state(of: "a") {
        case .available: "available"
        case .throttled, .exhausted: "cooling down"
        case .disabled: "disabled"
        case .invalid: "invalid"
        }
        #expect(label == "available")
    }
}
