import Logging
@testable import RouterSDK
import RouterTesting
import ServiceLifecycle
import Testing

/// The router and its store as swift-service-lifecycle services: graceful shutdown drains and
/// writes, cancellation does not wait, and a router nobody runs leaks nothing when dropped.
@Suite(.timeLimit(.minutes(1))) struct ServiceLifecycleTests {
    private let all = (Timestamp(nanosecondsSinceEpoch: 0), Timestamp(secondsSinceEpoch: 4_000_000_000))
    private let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func gracefulShutdownDrainsLeasesWritesEverythingAndClosesTheStoreLast() async throws {
        let clock = ManualClock()
        let store = FaultInjectingStateStore()
        let router = try makeRouter(clock: clock, store: store)
        try await router.register(key("a", models: ["small"]))
        let group = ServiceGroup(services: [StateStoreService(store), router], logger: quiet)
        let running = Task { try await group.run() }

        _ = try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 10, outputTokens: 10))
        let inFlight = try await router.route(.small())
        await group.triggerGracefulShutdown()
        // The router is draining: its drain timer sleeps on the clock, new routes are refused.
        #expect(await clock.waitForSleepers(1))
        await expectRouterError(.shutDown) { try await router.route(.small()) }
        #expect(store.closeCount == 0)

        _ = try await router.settle(inFlight, usage: Usage(inputTokens: 5, outputTokens: 5))
        try await running.value
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 2)
        #expect(store.closeCount == 1)
    }

    @Test func cancellingTheGroupStopsWithoutWaitingForLeases() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        let group = ServiceGroup(services: [StateStoreService(store), router], logger: quiet)
        let running = Task { try await group.run() }
        _ = try await router.route(.small())  // never settled; the manual clock never reaches the drain timeout
        running.cancel()
        _ = try? await running.value
        await expectRouterError(.shutDown) { try await router.route(.small()) }
        #expect(store.closeCount == 1)
    }

    @Test func runEndsWhenTheRouterIsShutDownDirectly() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        let running = Task { try await router.run() }
        _ = try await router.settle(try await router.route(.small()), usage: .none)
        try await router.shutdown()
        try await running.value
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 1)
    }

    @Test func aRouterRunAfterItStartedWritingJoinsItsWriter() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        // Records before `run()`: the writer starts on its own; `run()` then waits for it.
        _ = try await router.settle(try await router.route(.small()), usage: .none)
        let group = ServiceGroup(services: [router], logger: quiet)
        let running = Task { try await group.run() }
        _ = try await router.settle(try await router.route(.small()), usage: .none)
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 2)
    }

    @Test func droppingARouterNobodyRanEndsItsWriterAfterWritingWhatWasBuffered() async throws {
        let store = FaultInjectingStateStore()
        weak var writer: StoreWriter?
        do {
            let router = try makeRouter(store: store)
            try await router.register(key("a", models: ["small"]))
            store.holdAppends()
            _ = try await router.settle(try await router.route(.small()), usage: .none)
            writer = router.writer
        }
        // The router is gone; its writer still holds the record and waits for the store.
        #expect(writer != nil)
        store.releaseAppends()
        // Bounded wait for the writer's task to write and end (no time has to pass for that).
        for _ in 0..<2_000 where writer != nil { await Task.yield() }
        for _ in 0..<200 where writer != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(writer == nil)
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 1)
    }
}
