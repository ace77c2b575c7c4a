import Foundation
import RouterSDK
import RouterTesting
import Testing

/// Random interleavings of what instances of a fleet do — reserve, settle, release (with and
/// without partial usage), take and renew slices, let leases run out, crash (cut off from the
/// store for good, leases held) and start new instances — never break the fleet's invariant:
/// everything the slice ledger granted or retired stays within the limit, and so does the
/// settled spend. Seeded, so a failure reproduces.
@Suite struct FleetInvariantPropertyTests {
    /// Small enough that the fleet runs into it many times in a run.
    static let limit = Money(decimal: "0.05")!
    static let epoch = Timestamp(nanosecondsSinceEpoch: 0)

    /// One instance of the fleet: its router, its view of the store, and its leases in flight.
    final class Instance {
        let router: LLMRouter
        let store: FaultInjectingStateStore
        var leases: [Lease] = []
        var crashed = false

        init(router: LLMRouter, store: FaultInjectingStateStore) {
            self.router = router
            self.store = store
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomInterleavingsNeverGrantOrSpendPastTheLimit(seed: UInt64) async throws {
        var random = SeededRandomNumberGenerator(seed: seed)
        let shared = InMemoryStateStore()
        let clock = ManualClock()  // one wall clock: the instances' clocks agree, as NTP keeps them
        let budget = Budget(id: "b", period: .total, limit: Self.limit)
        var instances: [Instance] = []
        func start() async throws {
            let store = FaultInjectingStateStore(wrapping: shared)
            let fleet = FleetBudgets(
                slicePermille: Int.random(in: 20...500, using: &random), minimumSlice: Money(decimal: "0.005")!,
                renewBelowPermille: Int.random(in: 0...800, using: &random), leaseTimeToLive: .seconds(30), instanceID: "i\(instances.count)")
            let router = try makeRouter(clock: clock, store: store) {
                $0.fleet = fleet
                $0.persistence.acknowledgement = .committed
            }
            try await router.register(key("shared", models: ["small"]))
            try await router.setBudget(budget)
            instances.append(Instance(router: router, store: store))
        }
        for _ in 0..<3 { try await start() }

        for step in 0..<400 {
            let alive = instances.filter { !$0.crashed }
            if alive.isEmpty { try await start() }
            let instance = instances.filter { !$0.crashed }.randomElement(using: &random)!
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40:
                // Reserve: up to 0.003 (1,000 in + 1,000 out on `small`).
                let request = RouteRequest(model: "small", estimatedInputTokens: Int.random(in: 1...1_000, using: &random), maxOutputTokens: Int.random(in: 1...1_000, using: &random))
                if let lease = try? await instance.router.route(request) { instance.leases.append(lease) }
            case 40..<70:
                // Settle within what was reserved.
                guard !instance.leases.isEmpty else { continue }
                let lease = instance.leases.remove(at: Int.random(in: 0..<instance.leases.count, using: &random))
                _ = try? await instance.router.settle(lease, usage: Usage(inputTokens: Int.random(in: 0...lease.reservedTokens / 2, using: &random), outputTokens: Int.random(in: 0...lease.reservedTokens / 2, using: &random)))
            case 70..<80:
                guard !instance.leases.isEmpty else { continue }
                let lease = instance.leases.removeLast()
                let partial = Bool.random(using: &random) ? Usage(inputTokens: Int.random(in: 0...lease.reservedTokens / 2, using: &random), outputTokens: 0) : nil
                _ = try? await instance.router.release(lease, failure: .serverError(status: 503), usage: partial)
            case 80..<90:
                // Time passes, in steps shorter than a heartbeat (a third of the 30 s TTL), so live
                // instances renew on time and only crashed ones' leases run out.
                clock.advance(by: .seconds(Int64.random(in: 1...9, using: &random)))
                for _ in 0..<50 { await Task.yield() }
            case 90..<95:
                // A crash: the instance is cut off from the store for good, leases in flight.
                guard alive.count > 1 else { continue }
                instance.crashed = true
                instance.store.failSharedRecords(true)
                instance.store.failAppends(next: Int.max)
            default:
                if instances.count < 8 { try await start() }
            }
            let broken = try await Self.invariantViolations(shared, instances: instances.count)
            #expect(broken.isEmpty, "seed \(seed), step \(step): \(broken)")
            if !broken.isEmpty { return }
        }
        for instance in instances where !instance.crashed {
            for lease in instance.leases { _ = try? await instance.router.settle(lease, usage: Usage(inputTokens: 1, outputTokens: 1)) }
            try await instance.router.shutdown()
        }
        #expect(try await shared.spend(of: "b", periodStart: Self.epoch) <= Self.limit)
    }

    /// What breaks the fleet's invariant now, if anything: everything granted or retired stays
    /// within the limit, and so does the settled spend; the spend is the sum of the instances'
    /// counters; an instance holding slices has spent no more than they hold; and what instances
    /// no longer holding slices spent is all retired.
    static func invariantViolations(_ store: InMemoryStateStore, instances: Int) async throws -> [String] {
        var broken: [String] = []
        let spent = try await store.spend(of: "b", periodStart: epoch)
        var figures = SliceLedgerFigures(holders: [:], retired: [:])
        if let record = try await store.sharedRecord("fleet/b/0") {
            figures = try JSONDecoder().decode(SliceLedgerFigures.self, from: Data(record.body.utf8))
        }
        if figures.total > limit { broken.append("\(figures.total) granted") }
        if spent > limit { broken.append("\(spent) spent") }
        var counted = Money.zero
        for index in 0..<instances {
            let id = "i\(index)"
            let own = try await store.spend(of: BudgetID("b@\(id)"), periodStart: epoch)
            counted += own
            let retired = Money(nanodollars: figures.retired[id] ?? 0)
            if let holder = figures.holders[id] {
                // What it spent since it was last retired (if ever) is covered by its slices.
                if own - retired > Money(nanodollars: holder.granted) { broken.append("\(id) spent \(own - retired) of \(Money(nanodollars: holder.granted))") }
            } else if own > retired {
                broken.append("\(id) left or was reclaimed having spent \(own), \(retired) retired")
            }
        }
        if counted != spent { broken.append("the instances' counters sum to \(counted), the budget's to \(spent)") }
        return broken
    }
}
