import Foundation
@testable import MongoStateStore
import RouterSDK
import RouterStores
import Testing

/// Degraded mode of a fleet: two real processes spend one shared hard budget through the outage
/// server, which is stopped mid-run and started again. They keep serving from the slices they
/// hold (never beyond them), report the store unavailable and recovered, and once it is back
/// write everything: the fleet never overspends, and every settle a process saw return is in the
/// ledger, once.
extension OutageTests {
    @Test(.enabled(if: !Server.available.isEmpty, "needs ROUTERSDK_OUTAGE_*_URL/_CTL (scripts/with-services.sh)"))
    func aFleetServesThroughAStoreOutageWithinItsSlicesAndLosesNothing() async throws {
        for server in Server.available {
            try await fleetThroughOutage(server)
        }
    }

    private func fleetThroughOutage(_ server: Server) async throws {
        let control = try #require(server.control)
        let base = try #require(server.url)
        let url: String
        let dropDatabase: @Sendable () async -> Void
        switch server {
        case .postgres:
            let database = try await makePostgresDatabase(admin: base)
            (url, dropDatabase) = (database.url, { try? await dropPostgresDatabase(database.name, admin: base) })
        case .mongo:
            let fresh = try makeMongoDatabaseURL(base: base)
            (url, dropDatabase) = (fresh, {
                if let store = try? await MongoStateStore.open(.init(url: fresh), logger: quietLogger) {
                    try? await store.dropDatabase()
                    await store.close()
                }
            })
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-fleet-outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (opener, openerOutput) = try ProcessTests.spawn(["open", url])
        _ = await ProcessTests.blocking {
            _ = openerOutput.fileHandleForReading.readDataToEndOfFile()
            opener.waitUntilExit()
        }

        // $20 at $0.005 a request; 16 tasks per process, 100 ms between route and settle: about
        // $1.40 a second for the pair, so the outage falls in the middle. Slices of 40% of what
        // is ungranted ($8 and $4.80 first: several seconds of spending, to outlast a slow
        // server stop); 30 s leases (none lapses during the outage); a task the budget refuses
        // tries again for up to 20 s without a settle (no slice can be taken while the store is
        // away).
        let errorFiles = (0..<2).map { directory.appendingPathComponent("helper-\($0).err") }
        let helpers = try await ProcessTests.spawnTogether(
            ["fleet", url, "2000", "16", "100", "fleet", "30000", "20000", "400"], errorFiles: errorFiles, cleanup: dropDatabase)
        let outputs = helpers.map { LineReader($0.1.fileHandleForReading) }

        func waitFor(_ what: String, within limit: Duration = .seconds(60), _ condition: () -> Bool) async throws {
            let started = ContinuousClock.now
            while !condition() {
                guard ContinuousClock.now - started < limit else {
                    Issue.record("\(server): timed out waiting until \(what); helpers printed \(outputs.map { $0.lines.suffix(5) })")
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await waitFor("both processes settled") { outputs.allSatisfy { $0.lines.contains("first") } }
        let stopping = ContinuousClock.now
        try await Self.control(control, "stop")
        let stopped = ContinuousClock.now
        let stoppedAt = SystemClock().now()
        try await waitFor("both processes report the store unavailable") { outputs.allSatisfy { $0.lines.contains("store-unavailable") } }
        // Down for 3 seconds at least (real time: this is about a real server being away).
        try await Task.sleep(until: stopped + .seconds(3))
        #expect(outputs.allSatisfy { !$0.lines.contains("store-recovered") }, "\(server): a process saw the store back while it was stopped")
        let restartedAt = SystemClock().now()
        try await Self.control(control, "start")
        try await waitFor("both processes report the store back") { outputs.allSatisfy { $0.lines.contains("store-recovered") } }

        var settled = Money.zero
        for (index, (process, _, _)) in helpers.enumerated() {
            let lines = await outputs[index].all()
            let status = await ProcessTests.blocking {
                process.waitUntilExit()
                return process.terminationStatus
            }
            let said = (try? String(contentsOf: errorFiles[index], encoding: .utf8)) ?? ""
            let done = lines.first { $0.hasPrefix("done ") }
            #expect(status == 0 && done != nil, "\(server): helper \(index) failed: \(lines.suffix(5)); stderr: \(said.suffix(2_000))")
            settled += Money(nanodollars: done.flatMap { $0.split(separator: " ").last }.flatMap { Int64($0) } ?? 0)
            // The store went away and came back, in that order.
            let health = lines.filter { $0.hasPrefix("store-") }
            #expect(health.first == "store-unavailable" && health.last == "store-recovered", "\(server): helper \(index) reported \(health)")
        }

        let store = try await StateStores.open(url: url, logger: quietLogger)
        let epoch = Timestamp(nanosecondsSinceEpoch: 0)
        let end = Timestamp(secondsSinceEpoch: 4_000_000_000)
        let spent = try await store.spend(of: "fleet", periodStart: epoch)
        let ledger = try await store.usageTotals(from: epoch, to: end, groupedBy: .total)["total"] ?? UsageTotals()
        let events = try await store.usageEvents(from: epoch, to: end, limit: 100_000)
        await store.close()
        await dropDatabase()

        let limit = Money(dollars: 20)
        #expect(spent <= limit, "\(server): the fleet settled \(spent) against a \(limit) hard budget through the outage")
        #expect(spent.nanodollars * 100 >= limit.nanodollars * 95, "\(server): only \(spent) of \(limit) was used")
        // Nothing lost, nothing twice: every settle that returned is stored, the counter agrees.
        #expect(ledger.cost == spent, "\(server): ledger \(ledger.cost), spend counter \(spent)")
        #expect(ledger.cost >= settled, "\(server): settles that returned \(settled), ledger \(ledger.cost)")
        #expect(events.count == ledger.requests)
        #expect(Set(events.map { "\($0.keyID)/\($0.leaseID)/\($0.at.nanosecondsSinceEpoch)" }).count == events.count, "\(server): duplicate usage events")
        // The processes went on serving from their slices while the store was away.
        let duringOutage = events.filter { $0.at >= stoppedAt && $0.at < restartedAt }
        #expect(!duringOutage.isEmpty, "\(server): nothing was settled while the store was stopped")
        print("fleet outage on \(server): \(events.count) settles, \(spent) of \(limit); \(duringOutage.count) settled while the store was stopped (\(Money(nanodollars: duringOutage.reduce(0) { $0 + $1.cost.nanodollars }))); stopping took \(stopped - stopping)")
    }
}

/// Reads a helper's output lines on a thread of its own as they arrive, until the helper closes it.
final class LineReader: Sendable {
    private let received = Locked<[String]>([])
    private let finished = Locked(false)

    init(_ handle: FileHandle) {
        Thread { [received, finished] in
            while let line = ProcessTests.readLine(handle) { received.withLock { $0.append(line) } }
            finished.withLock { $0 = true }
        }.start()
    }

    /// The lines read so far.
    var lines: [String] { received.withLock { $0 } }

    /// Every line, once the helper closed its output (polls, for at most `limit`).
    func all(within limit: Duration = .seconds(180)) async -> [String] {
        let started = ContinuousClock.now
        while !finished.withLock({ $0 }), ContinuousClock.now - started < limit { try? await Task.sleep(for: .milliseconds(20)) }
        return lines
    }
}
