import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// Clients authenticate with gateway keys, never provider secrets: refused in each API's own
/// format when missing or wrong, limited to their models and rate, tagged so budgets and usage
/// see them, stored only as keyed fingerprints and shared by every gateway on the store.
@Suite struct VirtualKeyTests {
    static let openAI = #"{"model": "openai-model", "messages": [{"role": "user", "content": "Hello"}]}"#
    static let anthropic = #"{"model": "openai-model", "max_tokens": 20, "messages": [{"role": "user", "content": "Hello"}]}"#
    static let ollama = #"{"model": "openai-model", "stream": false, "messages": [{"role": "user", "content": "Hello"}]}"#

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test func everyAPIRefusesAMissingOrWrongKeyInItsOwnFormat() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (_, token) = try await keys.create(VirtualKeySpec(name: "app"))
            let wrongSecret = String(token.dropLast(4)) + "AAAA"
            for headers in [[:], Self.bearer("sk-not-a-gateway-key"), Self.bearer(wrongSecret), Self.bearer("gk-vk_000000000000-secret")] as [HTTPFields] {
                let openAI = try await client.post("/v1/chat/completions", json: Self.openAI, headers: headers)
                #expect(openAI.status == .unauthorized)
                #expect(openAI.json["error"]?["type"] == "invalid_request_error")
                #expect(["missing_api_key", "invalid_api_key"].contains(openAI.json["error"]?["code"]?.string ?? ""))
                var anthropicHeaders = headers
                if let bearer = headers[.authorization] { anthropicHeaders = [HTTPField.Name("x-api-key")!: String(bearer.dropFirst(7))] }
                let anthropic = try await client.post("/v1/messages", json: Self.anthropic, headers: anthropicHeaders)
                #expect(anthropic.status == .unauthorized)
                #expect(anthropic.json["error"]?["type"] == "authentication_error")
                let ollama = try await client.post("/api/chat", json: Self.ollama, headers: headers)
                #expect(ollama.status == .unauthorized)
                #expect(ollama.json["error"]?.string?.isEmpty == false)
                let models = try await client.execute(uri: "/v1/models", method: .get, headers: headers)
                #expect(models.status == .unauthorized)
            }
            // Health needs no key: probes carry none.
            #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    @Test func aValidKeyIsAcceptedInEachAPIsHeaderAndTagsItsUsage() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (key, token) = try await keys.create(VirtualKeySpec(name: "search team", tags: ["team:search"]))
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token)).status == .ok)
            #expect(try await client.post("/v1/messages", json: Self.anthropic, headers: [HTTPField.Name("x-api-key")!: token]).status == .ok)
            #expect(try await client.post("/api/chat", json: Self.ollama, headers: Self.bearer(token)).status == .ok)
            await fixture.router.flush()
            let byTag = try await fixture.router.store.usageTotals(from: Timestamp(nanosecondsSinceEpoch: 0), to: Timestamp(nanosecondsSinceEpoch: .max), groupedBy: .tag)
            #expect(byTag[key.ownTag]?.requests == 3)
            #expect(byTag["team:search"]?.requests == 3)
            // The provider secret went upstream; the gateway token did not.
            #expect(fixture.upstream.requests.allSatisfy { $0.secret == GatewayFixture.secret("k1") })
        }
    }

    @Test func aKeyIsLimitedToItsModels() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (_, token) = try await keys.create(VirtualKeySpec(name: "gemini only", models: ["gemini-model"]))
            let refused = try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token))
            #expect(refused.status == .forbidden)
            #expect(refused.json["error"]?["code"] == "model_not_allowed")
            let anthropic = try await client.post("/v1/messages", json: Self.anthropic, headers: Self.bearer(token))
            #expect(anthropic.json["error"]?["type"] == "permission_error")
            let models = try await client.execute(uri: "/v1/models", method: .get, headers: Self.bearer(token))
            #expect(models.json["data"]?.array?.compactMap { $0["id"]?.string } == ["gemini-model"])
            let tags = try await client.execute(uri: "/api/tags", method: .get, headers: Self.bearer(token))
            #expect(tags.json["models"]?.array?.compactMap { $0["name"]?.string } == ["gemini-model"])
            #expect(fixture.upstream.requests.isEmpty)
        }
    }

    @Test func disablingRotatingAndRemovingTakeEffectAtOnce() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (key, token) = try await keys.create(VirtualKeySpec(name: "app"))
            _ = try await keys.setDisabled(key.id, true)
            let disabled = try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token))
            #expect(disabled.status == .unauthorized)
            #expect(disabled.json["error"]?["code"] == "key_disabled")
            _ = try await keys.setDisabled(key.id, false)
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token)).status == .ok)
            let rotated = try #require(try await keys.rotate(key.id))
            #expect(rotated.token != token)
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token)).status == .unauthorized)
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(rotated.token)).status == .ok)
            #expect(try await keys.remove(key.id))
            #expect(try await keys.remove(key.id) == false)
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(rotated.token)).status == .unauthorized)
        }
    }

    @Test func aKeysOwnRateLimitIsA429WithRetryAfterInTheCallersFormat() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (_, token) = try await keys.create(VirtualKeySpec(name: "slow", requestsPerMinute: 2))
            let (_, other) = try await keys.create(VirtualKeySpec(name: "other"))
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(token)).status == .ok)
            #expect(try await client.post("/api/chat", json: Self.ollama, headers: Self.bearer(token)).status == .ok)
            let limited = try await client.post("/v1/messages", json: Self.anthropic, headers: Self.bearer(token))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.json["error"]?["type"] == "rate_limit_error")
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...30).contains(retryAfter))
            // Another key is not limited by it.
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(other)).status == .ok)
            #expect(fixture.upstream.requests.count == 3)
        }
    }

    @Test func aBudgetOnTheKeysTagCapsItsSpendAlone() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true) { fixture, client in
            let keys = try #require(fixture.gateway.virtualKeys)
            let (capped, cappedToken) = try await keys.create(VirtualKeySpec(name: "capped"))
            let (_, freeToken) = try await keys.create(VirtualKeySpec(name: "free"))
            try await fixture.router.setBudget(Budget(id: "capped", scope: .tag(capped.ownTag), period: .day, limit: Money(nanodollars: 1_000)))
            let refused = try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(cappedToken))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.json["error"]?["code"] == "budget_exceeded")
            #expect(try await client.post("/v1/chat/completions", json: Self.openAI, headers: Self.bearer(freeToken)).status == .ok)
        }
    }

    /// The store holds a fingerprint keyed by the master key — not the token — and a second
    /// gateway on the same store (another instance) accepts the token at once and sees a
    /// disable within its refresh interval.
    @Test func keysAreFingerprintsSharedByEveryInstanceOnTheStore() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let master = GatewayFixture.masterKey
        let first = VirtualKeys(store: store, masterKey: master, clock: clock, refreshInterval: .seconds(5))
        let second = VirtualKeys(store: store, masterKey: master, clock: clock, refreshInterval: .seconds(5))
        let (key, token) = try await first.create(VirtualKeySpec(name: "shared", tags: ["tenant:acme"], models: ["openai-model"]))
        let stored = try #require(try await store.sharedRecord(VirtualKeys.recordKey)).body
        let secret = try #require(token.split(separator: "-", maxSplits: 2).last)
        #expect(!stored.contains(String(secret)))
        #expect(stored.contains(key.id))
        #expect(try await first.list().map(\.id) == [key.id])
        #expect(try await second.authenticate(token).get() == key)
        // Another master key cannot use the stored fingerprint.
        let stranger = VirtualKeys(store: store, masterKey: MasterKey.random(), clock: clock)
        #expect(await stranger.authenticate(token) == .failure(.unauthenticated))
        _ = try await first.setDisabled(key.id, true)
        #expect(try await second.authenticate(token).get() == key)  // its cache is still fresh
        clock.advance(by: .seconds(5))
        #expect(await second.authenticate(token) == .failure(.disabled))
        for malformed in ["", "gk-", "gk-vk_1-x", "Bearer \(token)", token + " ", "gk-\(key.id)-"] {
            #expect(await second.authenticate(malformed) == .failure(.unauthenticated), "\(malformed)")
        }
        await #expect(throws: GatewayError.self) { try await first.create(VirtualKeySpec(name: "")) }
        await #expect(throws: GatewayError.self) { try await first.create(VirtualKeySpec(name: "x", requestsPerMinute: 0)) }
    }

    /// The store down: a known key keeps working from the cache, and one request an interval
    /// (not every request) tries the store.
    @Test func aStoreOutageLeavesKnownKeysWorkingAndReadsTheStoreOnceAnInterval() async throws {
        let store = FaultInjectingStateStore()
        let clock = ManualClock()
        let keys = VirtualKeys(store: store, masterKey: GatewayFixture.masterKey, clock: clock, refreshInterval: .seconds(5))
        let (key, token) = try await keys.create(VirtualKeySpec(name: "steady"))
        #expect(try await keys.authenticate(token).get() == key)
        store.failSharedRecords(true)
        clock.advance(by: .seconds(6))
        let before = store.sharedRoundTrips
        for _ in 0..<20 { #expect(try await keys.authenticate(token).get() == key) }
        #expect(store.sharedRoundTrips - before == 1)
        // An unknown id is refused; the store is not asked more than once a second for it.
        for _ in 0..<5 { #expect(await keys.authenticate("gk-vk_0123456789ab-secret") == .failure(.unauthenticated)) }
        #expect(store.sharedRoundTrips - before == 2)
    }
}
