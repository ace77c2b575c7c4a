import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import Testing

/// `/health`, `/health/live`, `/health/ready` and `/v1/models`.
@Suite struct GatewayHealthTests {
    @Test func healthReportsStatusVersionAndUptime() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { _, client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["status"] == "ok")
            #expect(response.json["version"]?.string == Gateway.version)
            #expect((response.json["uptime_seconds"]?.integer ?? -1) >= 0)
            #expect(response.json["store"]?["available"] == true)
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
        }
    }

    /// Ready while a key can serve; 503 naming the reason once none can.
    @Test func readyOnlyWhileSomeKeyIsAvailable() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { fixture, client in
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["problems"] == [])
            try await fixture.router.disable("k1", reason: "maintenance")
            let notReady = try await client.execute(uri: "/health/ready", method: .get)
            #expect(notReady.status == .serviceUnavailable)
            #expect(notReady.json["problems"] == ["no provider key is available"])
        }
        try await GatewayFixture.run(keys: []) { _, client in
            let response = try await client.execute(uri: "/health/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
        }
    }

    /// The models some registered key can serve, as OpenAI lists them.
    @Test func modelsListsWhatTheKeysServe() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)]) { _, client in
            let response = try await client.execute(uri: "/v1/models", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["object"] == "list")
            let models = response.json["data"]?.array ?? []
            #expect(models.compactMap { $0["id"]?.string } == ["gemini-model", "openai-model"])
            #expect(models.allSatisfy { $0["object"] == "model" })
        }
    }
}
