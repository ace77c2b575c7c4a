import Foundation
import MongoStateStore
import PostgresStateStore
import RouterSDK
import StateStoreConformance
import Testing

/// The state store's server stops mid-run and comes back: routing and settling go on, no caller
/// hangs, health says so, and every usage event arrives exactly once.
/// One test at a time: each stops and starts the same servers.
@Suite(.serialized) struct OutageTests {
    /// The servers of the outage test's own, and the scripts that stop and start them
    /// (scripts/with-services.sh): the other tests keep theirs.
    enum Server: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case postgres, mongo

        var url: String? { Self.environment("ROUTERSDK_OUTAGE_\(rawValue.uppercased())_URL") }
        var control: String? { Self.environment("ROUTERSDK_OUTAGE_\(rawValue.uppercased())_CTL") }
        var testDescription: String { rawValue }

        static var available: [Server] { allCases.filter { $0.url != nil && $0.control != nil } }

        private static func environment(_ name: String) -> String? {
            ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }

        func open() async throws -> any StateStore {
            let url = try #require(url)
            switch self {
            case .postgres: return try await PostgresStateStore.open(.init(url: url), logger: quietLogger)
            case .mongo: return try await MongoStateStore.open(.init(url: url), logger: quietLogger)
            }
        }
    }

    /// Runs the server's control script and waits for it with `waitpid`. Foundation's `Process`
    /// would wait for ever here: the server that `pg_ctl start` leaves running inherits the
    /// descriptor `Process` watches for the child's exit.
    static func control(_ script: String, _ action: String) async throws {
        let status = await ProcessTests.blocking { () -> Int32 in
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup(action), nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, script, nil, nil, argv, environ) == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            return status
        }
        #expect(status == 0, "\(script) \(action) failed (wait status \(status))")
    }

    @Test(.enabled(if: Server.available.count == Server.allCases.count, "needs ROUTERSDK_OUTAGE_POSTGRES_URL/_CTL and ROUTERSDK_OUTAGE_MONGO_URL/_CTL (scripts/with-services.sh)"))
    func aServerStoppedMidRunLosesAndDuplicatesNothing() async throws {
        for server in Server.available {
            try await stopAndRestartMidRun(server)
        }
    }

    private func stopAndRestartMidRun(_ server: Server) async throws {
        let control = try #require(server.control)
        let store = try await server.open()
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey), store: store, logger: quietLogger)
        try await router.register(APIKey(id: "k", provider: .openai, secret: "sk-outage", models: ["gpt-4o-mini"]))
        let events = await router.events()
        let seen = Task {
            var changes: [Bool] = []
            for await event in events {
                if event.kind == .storeUnavailable { changes.append(false) }
                if event.kind == .storeRecovered { changes.append(true) }
            }
            return changes
        }

        final class Progress: Sendable {
            let running = Locked(true)
            let acknowledged = Locked<[UInt64]>([])
            /// 0 before the stop, 1 from the stop to the start, 2 after; per acknowledged lease.
            let phase = Locked(0)
            let phases = Locked<[UInt64: Int]>([:])
            let slowest = Locked(Duration.zero)
        }
        let progress = Progress()
        // 16 tasks route and settle until told to stop (bounded: at most 60 s, 20,000 settles each).
        let workers = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        let started = ContinuousClock.now
                        for _ in 0..<20_000 where progress.running.withLock({ $0 }) && ContinuousClock.now - started < .seconds(60) {
                            let call = ContinuousClock.now
                            guard let lease = try? await router.route(RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 10, maxOutputTokens: 10)),
                                (try? await router.settle(lease, usage: Usage(inputTokens: 9, outputTokens: 9))) != nil
                            else { continue }
                            let took = ContinuousClock.now - call
                            progress.slowest.withLock { $0 = max($0, took) }
                            progress.acknowledged.withLock { $0.append(lease.id) }
                            let phase = progress.phase.withLock { $0 }
                            progress.phases.withLock { $0[lease.id] = phase }
                            try? await Task.sleep(for: .milliseconds(1))
                        }
                    }
                }
            }
        }
        func count() -> Int { progress.acknowledged.withLock { $0.count } }
        func waitFor(_ what: String, _ condition: () -> Bool) async throws {
            let started = ContinuousClock.now
            while !condition() {
                guard ContinuousClock.now - started < .seconds(60) else {
                    Issue.record("timed out waiting until \(what)")
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        try await waitFor("200 settles before the outage") { count() >= 200 }
        progress.phase.withLock { $0 = 1 }
        try await Self.control(control, "stop")
        try await waitFor("the router notices the outage") { !router.storeHealth.isAvailable }
        let atOutage = count()
        // Down for 3 seconds at least (real time: this is about a real server being away).
        let stopped = ContinuousClock.now
        try await waitFor("3 s and 300 more settles during the outage") { count() >= atOutage + 300 && ContinuousClock.now - stopped >= .seconds(3) }
        #expect(!router.storeHealth.isAvailable, "the store came back by itself?")
        #expect(router.storeHealth.bufferedRecords > 0)
        try await Self.control(control, "start")
        progress.phase.withLock { $0 = 2 }
        try await waitFor("the router writes again") { router.storeHealth.isAvailable && router.storeHealth.bufferedRecords < 50 }
        progress.running.withLock { $0 = false }
        await workers.value
        try await router.shutdown()
        #expect(await seen.value.prefix(2) == [false, true])
        // Never held past the commit-wait timeout (2 s) plus scheduling slack.
        #expect(progress.slowest.withLock { $0 } < .seconds(5))
        #expect(router.storeHealth.droppedRecords == 0)

        let ids = progress.acknowledged.withLock { $0 }
        let ledger = try await store.usageEvents(from: Timestamp(nanosecondsSinceEpoch: 0), to: Timestamp(secondsSinceEpoch: 4_000_000_000), limit: 1_000_000).map(\.leaseID)
        #expect(ledger.count == Set(ledger).count, "\(server): \(ledger.count - Set(ledger).count) duplicate usage rows")
        let missing = Set(ids).subtracting(ledger)
        let phases = progress.phases.withLock { $0 }
        #expect(missing.isEmpty, "\(server): \(missing.count) of \(ids.count) acknowledged settles are missing (\(ledger.count) stored); acknowledged before the stop / during / after the start: \((0...2).map { phase in missing.filter { phases[$0] == phase }.count })")
        await store.close()
    }
}
