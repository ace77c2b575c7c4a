import RouterSDK
import RouterTesting
import Testing

/// Key changes are persisted before they take effect, serialised per key, and sealed secrets
/// are bound to their key.
@Suite struct KeyManagementTests {
    @Test func aFailedStoreWriteChangesNothing() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        store.failKeyWrites(true)
        await expectRouterError(.storeFailure) { try await router.rotate("a", to: Secret("sk-never-stored-0123456789")) }
        await expectRouterError(.storeFailure) { try await router.disable("a", reason: "maintenance") }
        await expectRouterError(.storeFailure) {
            try await router.update("a", settings: KeySettings(provider: .openai, models: ["large"]))
        }
        // The router still uses what the store holds: old secret, available, old models.
        let lease = try await router.route(.small())
        #expect(lease.secret == Secret("sk-secret-a-0123456789"))
        try await router.settle(lease, usage: .none)
        #expect(try await router.state(of: "a") == .available)
        // And later changes do not fail on a version the store never saw.
        store.failKeyWrites(false)
        try await router.disable("a", reason: "maintenance")
        try await router.enable("a")
        let stored = try #require(try await store.loadKeys().first)
        #expect(stored.version == 3)
        #expect(stored.state == .available)
    }

    @Test func concurrentChangesOfOneKeyAreSerialised() async throws {
        let store = InMemoryStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        try await router.disable("a", reason: "r\(index)")
                    } else {
                        try await router.enable("a")
                    }
                }
            }
            try await group.waitForAll()
        }
        // Every change landed, each on the version before it: 1 + 50.
        #expect(try await store.loadKeys().first?.version == 51)
    }

    @Test func sealedSecretsAreBoundToTheirKey() async throws {
        let sealer = SecretSealer(current: testMasterKey)
        let sealed = try sealer.seal(Secret("sk-bound"), keyID: "a")
        #expect(try sealer.open(sealed, keyID: "a") == Secret("sk-bound"))
        // Copied onto another key's row, it does not open.
        let error = await expectRouterError(.secretUnsealFailed) { try sealer.open(sealed, keyID: "b") }
        #expect(error?.keyID == "b")
        // Seals from before binding (none) still open.
        let legacy = try sealer.seal(Secret("sk-legacy"))
        #expect(try sealer.open(legacy, keyID: "a") == Secret("sk-legacy"))
    }

    @Test func resealingRetiresAnOldMasterKey() async throws {
        let store = InMemoryStateStore()
        let old = try MasterKey(id: "old", bytes: Array(repeating: 1, count: 32))
        let new = try MasterKey(id: "new", bytes: Array(repeating: 2, count: 32))
        let first = try makeRouter(store: store) { $0.masterKey = old }
        try await first.register(key("a", models: ["small"]))
        try await first.register(key("b", models: ["small"]))
        try await first.shutdown()

        let rotating = try makeRouter(store: store) {
            $0.masterKey = new
            $0.previousMasterKeys = [old]
        }
        try await rotating.restore()
        #expect(try await rotating.resealSecrets() == 2)
        try await rotating.shutdown()
        #expect(try await store.loadKeys().allSatisfy { $0.sealedSecret.masterKeyID == "new" })

        // The old key is no longer needed.
        let retired = try makeRouter(store: store) { $0.masterKey = new }
        try await retired.restore()
        #expect(try await retired.route(.small()).secret.isEmpty == false)
    }
}
