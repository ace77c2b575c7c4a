import Foundation
import RouterSDK
import RouterTesting
import Testing

/// Fleet rate limits in one process: routers on one store stand for instances. (The
/// cross-process proof, four real processes on every backend, is StoreTests' ProcessTests.)
@Suite struct FleetRateLimitTests {
    static let request = RouteRequest(model: "small", estimatedInputTokens: 100, maxOutputTokens: 100)

    /// A key limit's shared record as the store holds it.
    struct LedgerFigures: Decodable {
        struct Entry: Decodable {
            var units: Int64
            var untilMs: Int64
        }

        var active: [String: Entry]
        var used: [Entry]
    }

    static func ledger(_ store: any StateStore, _ key: String, _ limit: String) async throws -> LedgerFigures? {
        guard let record = try await store.sharedRecord("fleet-rate/\(key)/\(limit)") else { return nil }
        return try JSONDecoder().decode(LedgerFigures.self, from: Data(record.body.utf8))
    }

    func instance(
        _ id: String, store: any StateStore, clock: ManualClock, limits: KeyLimits, rateLimits: FleetRateLimits? = FleetRateLimits()
    ) async throws -> LLMRouter {
        let router = try makeRouter(clock: clock, store: store) {
            $0.fleet = FleetBudgets(instanceID: id, rateLimits: rateLimits)
            $0.persistence.acknowledgement = .committed
        }
        try await router.register(key("shared", models: ["small"], limits: limits))
        return router
    }

    /// Lets background renewals finish (the in-memory store answers at once).
    func settle() async {
        for _ in 0..<100 { await Task.yield() }
    }

    /// Routes on the instances in turn until each has been refused once in a row; returns the
    /// requests sent and the last refusal.
    func drain(_ instances: [LLMRouter]) async throws -> (sent: Int, refusal: RouterError?) {
        var sent = 0
        var refusedInARow = 0
        var refusal: RouterError?
        var turn = 0
        while refusedInARow < instances.count, sent < 1_000 {
            let router = instances[turn % instances.count]
            turn += 1
            do {
                let lease = try await router.route(Self.request)
                try await router.settle(lease, usage: Usage(inputTokens: 100, outputTokens: 100))
                sent += 1
                refusedInARow = 0
            } catch let error as RouterError {
                refusal = error
                refusedInARow += 1
            }
            await settle()
        }
        return (sent, refusal)
    }

    @Test func badFleetRateLimitSettingsAreRefused() async throws {
        for bad in [
            FleetRateLimits(grantPermille: 0), FleetRateLimits(grantPermille: 1_001), FleetRateLimits(renewBelowPermille: -1),
            FleetRateLimits(grantLifetime: .milliseconds(50)), FleetRateLimits(grantLifetime: .seconds(3_600)),
        ] {
            await expectRouterError(.invalidArgument) {
                try makeRouter(store: InMemoryStateStore()) {
                    $0.fleet = FleetBudgets(rateLimits: bad)
                    $0.persistence.acknowledgement = .committed
                }
            }
        }
    }

    /// Three instances on a key with 10 requests per minute send 10 in the minute, not 30; the
    /// refusal names the fleet limit and when a grant can next be had; after that, 10 more.
    @Test func aKeysRequestLimitIsTheFleetsLimit() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        var instances: [LLMRouter] = []
        for index in 0..<3 { instances.append(try await instance("i\(index)", store: store, clock: clock, limits: KeyLimits(requestsPerMinute: 10))) }
        let first = try await drain(instances)
        #expect(first.sent == 10)
        let report = try #require(first.refusal?.noEligibleKey)
        #expect(first.refusal?.code == .noEligibleKey)
        #expect(report.counts[.fleetRateLimit] == 1)
        // Every unit was used at the start: the earliest grant is one window after the grants run out.
        let retry = try #require(report.earliestRetry)
        #expect(retry > clock.now() + .seconds(55) && retry <= clock.now() + .seconds(66), "earliest retry \(retry)")

        // Not asked again right away: a refusal is remembered for a tenth of the grant lifetime.
        let counting = FaultInjectingStateStore(wrapping: store)
        let late = try await instance("late", store: counting, clock: clock, limits: KeyLimits(requestsPerMinute: 10))
        await expectRouterError(.noEligibleKey) { try await late.route(Self.request) }
        let roundTrips = counting.sharedRoundTrips
        await expectRouterError(.noEligibleKey) { try await late.route(Self.request) }
        #expect(counting.sharedRoundTrips == roundTrips)

        clock.advance(to: retry)
        let second = try await drain(instances + [late])
        #expect(second.sent == 10)
        for router in instances + [late] { try await router.shutdown() }
    }

    /// Without ``FleetBudgets/rateLimits`` each instance enforces the key's limit alone.
    @Test func withoutSharedRateLimitsEachInstanceHasTheWholeLimit() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        var instances: [LLMRouter] = []
        for index in 0..<3 {
            instances.append(try await instance("i\(index)", store: store, clock: clock, limits: KeyLimits(requestsPerMinute: 10), rateLimits: nil))
        }
        #expect(try await drain(instances).sent == 30)
        #expect(try await Self.ledger(store, "shared", "rpm") == nil)
    }

    /// Tokens: a request reserves its worst case from the grant and gives back what it did not
    /// use; shutdown gives the unused part of a grant back, so another instance can use it now.
    @Test func tokensComeBackToTheGrantAndShutdownReturnsWhatIsLeft() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let settings = FleetRateLimits(grantPermille: 1_000, renewBelowPermille: 0)
        let a = try await instance("a", store: store, clock: clock, limits: KeyLimits(tokensPerMinute: 1_000), rateLimits: settings)
        let b = try await instance("b", store: store, clock: clock, limits: KeyLimits(tokensPerMinute: 1_000), rateLimits: settings)
        // A takes the whole window (a grant of all that is free); its requests reserve 200 tokens
        // and use 50: all five fit, then five more, as each gives back 150.
        for _ in 0..<10 {
            try await a.settle(try await a.route(Self.request), usage: Usage(inputTokens: 25, outputTokens: 25))
        }
        #expect(try await Self.ledger(store, "shared", "tpm")?.active["a"]?.units == 1_000)
        await expectRouterError(.noEligibleKey) { try await b.route(Self.request) }
        try await a.shutdown()
        // A used 500 tokens: they stay counted for the window, the other 500 are B's now.
        let ledger = try #require(try await Self.ledger(store, "shared", "tpm"))
        #expect(ledger.active["a"] == nil)
        #expect(ledger.used.reduce(0) { $0 + $1.units } == 500)
        // B's refusal is remembered for a tenth of the grant lifetime, then the store is asked.
        clock.advance(by: .seconds(1))
        // 150 + 150 + 200: the 500 A left; the fourth request's 200 do not fit.
        for _ in 0..<2 { try await b.settle(try await b.route(Self.request), usage: Usage(inputTokens: 100, outputTokens: 50)) }
        try await b.settle(try await b.route(Self.request), usage: Usage(inputTokens: 100, outputTokens: 100))
        await expectRouterError(.noEligibleKey) { try await b.route(Self.request) }
        try await b.shutdown()
    }

    /// A grant an instance stops using (it died) runs out and frees its units after its
    /// lifetime plus one window, without anyone reclaiming it.
    @Test func aDeadInstancesGrantRunsOutByItself() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let settings = FleetRateLimits(grantPermille: 1_000, grantLifetime: .seconds(5), renewBelowPermille: 0)
        let dead = try await instance("dead", store: store, clock: clock, limits: KeyLimits(requestsPerMinute: 5), rateLimits: settings)
        _ = try await dead.route(Self.request)  // takes all 5, uses 1, then is never heard of again
        let live = try await instance("live", store: store, clock: clock, limits: KeyLimits(requestsPerMinute: 5), rateLimits: settings)
        await expectRouterError(.noEligibleKey) { try await live.route(Self.request) }
        clock.advance(by: .seconds(64))
        await expectRouterError(.noEligibleKey) { try await live.route(Self.request) }
        clock.advance(by: .seconds(2))
        for _ in 0..<5 { try await live.settle(try await live.route(Self.request), usage: Usage(inputTokens: 1, outputTokens: 1)) }
        try await live.shutdown()
    }

    /// Random interleavings of several instances — route, settle with any usage up to the
    /// reservation, time passing, instances dying and starting — never put more requests or
    /// tokens in any 60 s window than the key's limits, and use most of them.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomInterleavingsNeverPassTheLimitsInAnyWindow(seed: UInt64) async throws {
        var random = SeededRandomNumberGenerator(seed: seed)
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let start = clock.now()
        let limits = KeyLimits(requestsPerMinute: 30, tokensPerMinute: 9_000)
        var instances: [(router: LLMRouter, leases: [Lease], dead: Bool)] = []
        func launch() async throws {
            let settings = FleetRateLimits(
                grantPermille: Int.random(in: 50...1_000, using: &random), grantLifetime: .milliseconds(Int64.random(in: 500...8_000, using: &random)),
                renewBelowPermille: Int.random(in: 0...900, using: &random))
            let router = try await instance("i\(instances.count)", store: store, clock: clock, limits: limits, rateLimits: settings)
            instances.append((router, [], false))
        }
        for _ in 0..<4 { try await launch() }
        // (time, tokens used) of every request sent.
        var sent: [(ms: Int64, tokens: Int64)] = []
        var tokensOf: [UInt64: (index: Int, ms: Int64)] = [:]
        for _ in 0..<1_500 {
            let alive = instances.indices.filter { !instances[$0].dead }
            let index = alive.randomElement(using: &random)!
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<50:
                let request = RouteRequest(model: "small", estimatedInputTokens: Int.random(in: 1...300, using: &random), maxOutputTokens: Int.random(in: 1...300, using: &random))
                if let lease = try? await instances[index].router.route(request) {
                    instances[index].leases.append(lease)
                    tokensOf[lease.id] = (sent.count, clock.now().millisecondsSinceEpoch - start.millisecondsSinceEpoch)
                    sent.append((clock.now().millisecondsSinceEpoch - start.millisecondsSinceEpoch, Int64(lease.reservedTokens)))
                }
            case 50..<85:
                guard !instances[index].leases.isEmpty else { continue }
                let lease = instances[index].leases.remove(at: Int.random(in: 0..<instances[index].leases.count, using: &random))
                let input = Int.random(in: 0...lease.reservedTokens, using: &random)
                let usage = Usage(inputTokens: input, outputTokens: Int.random(in: 0...(lease.reservedTokens - input), using: &random))
                if (try? await instances[index].router.settle(lease, usage: usage)) != nil, let position = tokensOf[lease.id]?.index {
                    sent[position].tokens = Int64(usage.inputTokens + usage.outputTokens)
                }
            case 85..<97:
                clock.advance(by: .milliseconds(Int64.random(in: 1...3_000, using: &random)))
            case 97..<99:
                // Dies with its grants and leases (the provider counted what they sent).
                if alive.count > 1 { instances[index].dead = true } else { try await launch() }
            default:
                try await launch()
            }
            await settle()
        }
        let times = sent.sorted { $0.ms < $1.ms }
        var windowStart = 0
        var tokens: Int64 = 0
        var busiest = 0
        for end in times.indices {
            tokens += times[end].tokens
            while times[end].ms - times[windowStart].ms >= 60_000 {
                tokens -= times[windowStart].tokens
                windowStart += 1
            }
            let count = end - windowStart + 1
            busiest = max(busiest, count)
            #expect(count <= 30, "\(count) requests in the 60 s window from \(times[windowStart].ms) ms (seed \(seed))")
            #expect(tokens <= 9_000, "\(tokens) tokens in the 60 s window from \(times[windowStart].ms) ms (seed \(seed))")
            if count > 30 || tokens > 9_000 { break }
        }
        // Not vacuous: the fleet reached the limit.
        #expect(busiest >= 20, "the busiest window held \(busiest) requests (seed \(seed))")
        for instance in instances where !instance.dead {
            // Shutdown waits for leases in flight on the router's clock, which only the test moves.
            for lease in instance.leases { try await instance.router.settle(lease, usage: Usage(inputTokens: 1, outputTokens: 0)) }
            try await instance.router.shutdown()
        }
    }
}
