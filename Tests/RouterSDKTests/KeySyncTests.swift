import Foundation
import RouterSDK
import RouterTesting
import Testing

/// Fleet key sync in one process: routers on one store stand for instances, on one manual clock.
/// (Across real processes: StoreTests' ProcessTests.)
@Suite struct KeySyncTests {
    static let request = RouteRequest(model: "small", estimatedInputTokens: 10, maxOutputTokens: 10)

    func instance(_ id: String, store: InMemoryStateStore, clock: ManualClock) async throws -> LLMRouter {
        let router = try makeRouter(clock: clock, store: store) {
            $0.fleet = FleetBudgets(instanceID: id, keySyncInterval: .seconds(2))
            $0.persistence.acknowledgement = .committed
        }
        for id in ["k1", "k2"] { try await router.register(key(id, models: ["small"])) }
        return router
    }

    /// Waits (yielding, never sleeping) until `condition` holds; false if it never does.
    func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        for _ in 0..<2_000 {
            if try await condition() { return true }
            await Task.yield()
        }
        return false
    }

    /// Sends one request on `id` through `router` and reports `failure` for it.
    func fail(_ router: LLMRouter, _ id: KeyID, _ failure: ProviderFailure) async throws {
        let other: KeyID = id == "k1" ? "k2" : "k1"
        var request = Self.request
        request.excludedKeys = [other]
        try await router.release(try await router.route(request), failure: failure)
    }

    @Test func badKeySyncIntervalsAreRefused() async throws {
        await expectRouterError(.invalidArgument) {
            try makeRouter(store: InMemoryStateStore()) {
                $0.fleet = FleetBudgets(keySyncInterval: .milliseconds(10))
                $0.persistence.acknowledgement = .committed
            }
        }
    }

    /// A key one instance sees become invalid, or throttled until a time, becomes so for the
    /// other within the sync interval — not before its next sync, and with the same deadline.
    @Test func stateChangesReachTheOtherInstanceWithinTheInterval() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let a = try await instance("a", store: store, clock: clock)
        let b = try await instance("b", store: store, clock: clock)
        try await fail(a, "k1", .authInvalid)
        try await fail(a, "k2", .rateLimited(retryAfter: .seconds(30)))
        let throttled = try await a.state(of: "k2")
        #expect(try await a.state(of: "k1") == .invalid)
        #expect(throttled.cooldownDeadline != nil)
        // Not before B's next sync.
        #expect(try await b.state(of: "k1") == .available)
        clock.advance(by: .seconds(2))
        #expect(try await eventually { try await b.state(of: "k1") == .invalid })
        #expect(try await eventually { try await b.state(of: "k2") == throttled })
        // B followed without writing the change again: the store has A's transitions only.
        let transitions = try await store.transitions(of: nil, limit: 100)
        #expect(!transitions.contains { $0.reason == .fleetSync })
        #expect(transitions.filter { $0.keyID == "k1" && $0.to == .invalid }.count == 1)
        // The throttle ends at the same time for both, without another sync.
        clock.advance(by: .seconds(29))
        #expect(try await b.state(of: "k2") == .available)
        try await a.shutdown()
        try await b.shutdown()
    }

    /// Management through one instance — settings, a rotated secret (which clears `invalid`),
    /// a removed key, a new key — and a key changed in the store directly reach the other.
    @Test func managementChangesReachTheOtherInstance() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let a = try await instance("a", store: store, clock: clock)
        let b = try await instance("b", store: store, clock: clock)
        try await fail(a, "k1", .authInvalid)
        clock.advance(by: .seconds(2))
        #expect(try await eventually { try await b.state(of: "k1") == .invalid })

        var settings = key("k1", models: ["small"]).settings
        settings.weight = 7
        try await a.update("k1", settings: settings)
        try await a.rotate("k1", to: Secret("sk-secret-k1-rotated-0123456789"))
        try await a.remove("k2")
        try await a.register(key("k3", models: ["small"]))
        clock.advance(by: .seconds(2))
        #expect(await eventually { await b.keyIDs == ["k1", "k3"] })
        #expect(try await b.state(of: "k1") == .available)
        let lease = try await b.route(Self.request.excludingKeys(["k3"]))
        #expect(lease.keyID == "k1")
        #expect(lease.secret == Secret("sk-secret-k1-rotated-0123456789"))
        try await b.settle(lease, usage: Usage(inputTokens: 1, outputTokens: 1))

        // An operator disables k3 in the store directly (a newer version of its record).
        let stored = try #require(try await store.loadKeys().first { $0.id == "k3" })
        var disabled = stored
        disabled.state = .disabled(reason: "by hand")
        disabled.version += 1
        disabled.updatedAt = clock.now()
        try await store.saveKey(disabled, expectedVersion: stored.version)
        clock.advance(by: .seconds(2))
        #expect(try await eventually { try await a.state(of: "k3") == .disabled(reason: "by hand") })
        #expect(try await eventually { try await b.state(of: "k3") == .disabled(reason: "by hand") })
        // And A can still manage it: its version followed the store's.
        try await a.enable("k3")
        try await a.shutdown()
        try await b.shutdown()
    }

    /// Two instances change one key: A throttles it, B disables it half a second later. After
    /// a sync both have the later change; neither goes back to the earlier one.
    @Test func theLatestChangeWinsOnEveryInstance() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let a = try await instance("a", store: store, clock: clock)
        let b = try await instance("b", store: store, clock: clock)
        try await fail(a, "k2", .rateLimited(retryAfter: .seconds(60)))
        clock.advance(by: .milliseconds(500))
        try await b.disable("k2", reason: "later")
        clock.advance(by: .milliseconds(1_500))
        #expect(try await eventually { try await a.state(of: "k2") == .disabled(reason: "later") })
        for _ in 0..<200 { await Task.yield() }
        #expect(try await b.state(of: "k2") == .disabled(reason: "later"))
        try await a.shutdown()
        try await b.shutdown()
    }
}

extension RouteRequest {
    func excludingKeys(_ ids: Set<KeyID>) -> RouteRequest {
        var request = self
        request.excludedKeys = ids
        return request
    }
}
