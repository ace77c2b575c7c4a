internal import RouterSDK

// The checks of ``StateStoreConformance``: each gets a fresh, empty store.
extension StateStoreConformance {
    static func keysCRUDWithOptimisticVersions(_ subject: Subject) async throws {
        let store = subject.store
        try await store.saveKey(try sampleKey("b"), expectedVersion: nil)
        try await store.saveKey(try sampleKey("a"), expectedVersion: nil)
        try await expectCode(.versionConflict, "versionConflict") { try await store.saveKey(try sampleKey("a"), expectedVersion: nil) }
        try await expectCode(.unknownKey, "unknownKey") { try await store.saveKey(try sampleKey("zzz", version: 2), expectedVersion: 1) }
        var updated = try sampleKey("a", version: 2, state: .throttled(until: epoch + .seconds(30)))
        updated.settings.weight = 7
        try await store.saveKey(updated, expectedVersion: 1)
        try await expectCode(.versionConflict, "versionConflict") { try await store.saveKey(try sampleKey("a", version: 3), expectedVersion: 1) }
        let keys = try await store.loadKeys()
        try expectEqual(keys.map(\.id), ["a", "b"], "keys.map(\\.id)")
        try expectEqual(keys[0], updated, "keys[0]")
        try expectEqual(try SecretSealer(current: testMasterKey).open(keys[0].sealedSecret), Secret("sk-plaintext-a-SECRETVALUE"), "SecretSealer(current: testMasterKey).open(keys[0].sealedSecret)")
        try await store.deleteKey("a")
        try await expectCode(.unknownKey, "unknownKey") { try await store.deleteKey("a") }
        try expectEqual(try await store.loadKeys().map(\.id), ["b"], "store.loadKeys().map(\\.id)")
    }

    static func budgetsCRUDWithOptimisticVersions(_ subject: Subject) async throws {
        let store = subject.store
        let daily = StoredBudget(
            budget: Budget(id: "daily", period: .day, limit: Money(dollars: 5), enforcement: .soft, alertThresholds: [10, 90]), version: 1, updatedAt: epoch)
        // The operator's revision is part of the definition and comes back with it.
        let tenant = StoredBudget(
            budget: Budget(id: "tenant", scope: .tag("t-1"), period: .month, limit: Money(cents: 250), revision: 3), version: 1, updatedAt: epoch)
        try await store.saveBudget(tenant, expectedVersion: nil)
        try await store.saveBudget(daily, expectedVersion: nil)
        try await expectCode(.versionConflict, "versionConflict") { try await store.saveBudget(daily, expectedVersion: nil) }
        var missing = daily
        missing.budget.id = "missing"
        try await expectCode(.unknownBudget, "unknownBudget") { try await store.saveBudget(missing, expectedVersion: 1) }
        var changed = daily
        changed.budget.limit = Money(dollars: 6)
        changed.version = 2
        changed.updatedAt = epoch + .seconds(5)
        try await store.saveBudget(changed, expectedVersion: 1)
        var stale = daily
        stale.version = 2
        try await expectCode(.versionConflict, "versionConflict") { try await store.saveBudget(stale, expectedVersion: 1) }
        try expectEqual(try await store.loadBudgets(), [changed, tenant], "store.loadBudgets()")
        try await store.deleteBudget("daily")
        try await expectCode(.unknownBudget, "unknownBudget") { try await store.deleteBudget("daily") }
        try expectEqual(try await store.loadBudgets(), [tenant], "store.loadBudgets()")
    }

    static func batchesAndAggregateQueries(_ subject: Subject) async throws {
        let store = subject.store
        let events = [
            usage(1, key: "a", cost: 1_000, tags: ["t1", "t2"], at: 0),
            usage(2, key: "b", provider: .anthropic, model: "claude", input: 2_000, output: 700, cost: 2_500, tags: ["t1"], at: 10),
            usage(3, key: "a", model: "gpt-4o", cost: 300, at: 20),
            usage(4, key: "a", cost: 7, tags: ["t2"], at: 3_600),
        ]
        let transitions = [
            KeyTransition(keyID: "a", from: .available, to: .throttled(until: epoch + .seconds(5)), reason: .rateLimited, detail: "retry-after 5s", at: epoch),
            KeyTransition(keyID: "b", from: .available, to: .invalid, reason: .authInvalid, at: epoch + .seconds(1)),
            KeyTransition(keyID: "a", from: .throttled(until: epoch + .seconds(5)), to: .available, reason: .cooldownElapsed, at: epoch + .seconds(5)),
        ]
        let sample = DecisionSample(leaseID: 1, keyID: "a", model: ModelRef(provider: .openai, name: "gpt-4o-mini"), strategy: .cost, reservedCost: Money(nanodollars: 9), explanation: "chose a", at: epoch)
        try await store.append(StoreBatch(usage: Array(events[0..<2]), transitions: transitions, decisions: [sample]))
        try await store.append(StoreBatch(usage: Array(events[2...])))
        try await store.append(StoreBatch())

        let window = (epoch, epoch + .seconds(60))
        try expectEqual(try await store.usageEvents(from: window.0, to: window.1, limit: 10), Array(events[0..<3]), "store.usageEvents(from: window.0, to: window.1, limit: 10)")
        try expectEqual(try await store.usageEvents(from: epoch, to: epoch + .seconds(86_400), limit: 2), Array(events[0..<2]), "store.usageEvents(from: epoch, to: epoch + .seconds(86_400), limit: 2)")
        try expectEqual(try await store.spend(from: window.0, to: window.1, groupedBy: .total), ["total": Money(nanodollars: 3_800)], "store.spend(from: window.0, to: window.1, groupedBy: .total)")
        try expectEqual(try await store.spend(from: window.0, to: window.1, groupedBy: .key), ["a": Money(nanodollars: 1_300), "b": Money(nanodollars: 2_500)], "store.spend(from: window.0, to: window.1, groupedBy: .key)")
        try expectEqual(try await store.spend(from: window.0, to: window.1, groupedBy: .provider), ["openai": Money(nanodollars: 1_300), "anthropic": Money(nanodollars: 2_500)], "store.spend(from: window.0, to: window.1, groupedBy: .provider)")
        try expectEqual(try await store.spend(from: window.0, to: window.1, groupedBy: .model), [
            "openai/gpt-4o-mini": Money(nanodollars: 1_000), "openai/gpt-4o": Money(nanodollars: 300), "anthropic/claude": Money(nanodollars: 2_500),
        ], "store.spend(from: window.0, to: window.1, groupedBy: .model)")
        try expectEqual(try await store.spend(from: epoch, to: epoch + .seconds(86_400), groupedBy: .tag), ["t1": Money(nanodollars: 3_500), "t2": Money(nanodollars: 1_007)], "store.spend(from: epoch, to: epoch + .seconds(86_400), groupedBy: .tag)")
        try expectEqual(try await store.spend(from: epoch + .seconds(100_000), to: epoch + .seconds(200_000), groupedBy: .total).isEmpty, true, "store.spend(from: epoch + .seconds(100_000), to: epoch + .seconds(200_000), groupedBy: .total).isEmpty")
        // Counts and token sums come from the store too, grouped alike; the oracle is the
        // in-memory aggregation of the fixture.
        try expectEqual(
            try await store.usageTotals(from: window.0, to: window.1, groupedBy: .total),
            ["total": UsageTotals(requests: 3, inputTokens: 2_200, outputTokens: 800, cost: Money(nanodollars: 3_800))],
            "store.usageTotals(from: window.0, to: window.1, groupedBy: .total)")
        for grouping in SpendGrouping.allCases {
            for (from, to) in [window, (epoch, epoch + .seconds(86_400)), (epoch + .seconds(100_000), epoch + .seconds(200_000))] {
                try expectEqual(
                    try await store.usageTotals(from: from, to: to, groupedBy: grouping),
                    InMemoryStateStore.totals(events.filter { $0.at >= from && $0.at < to }, groupedBy: grouping),
                    "store.usageTotals(from: \(from), to: \(to), groupedBy: .\(grouping))")
            }
        }
        try expectEqual(try await store.transitions(of: nil, limit: 10), transitions.reversed(), "store.transitions(of: nil, limit: 10)")
        try expectEqual(try await store.transitions(of: "a", limit: 1), [transitions[2]], "store.transitions(of: \"a\", limit: 1)")
        // Restore reads the newest transition of every key in one query.
        try expectEqual(try await store.latestTransitions(), ["a": transitions[2], "b": transitions[1]], "store.latestTransitions()")
        try expectEqual(try await store.decisionSamples(limit: 5), [sample], "store.decisionSamples(limit: 5)")
    }

    static func sharedRecordsAreCompareAndSet(_ subject: Subject) async throws {
        let store = subject.store
        try expectEqual(try await store.sharedRecord("fleet/a"), nil, "store.sharedRecord(\"fleet/a\") before any write")
        try expectEqual(try await store.writeSharedRecord("fleet/a", body: #"{"n":1}"#, expectedVersion: nil), true, "the first insert")
        try expectEqual(try await store.writeSharedRecord("fleet/a", body: #"{"n":9}"#, expectedVersion: nil), false, "a second insert")
        try expectEqual(try await store.writeSharedRecord("fleet/a", body: #"{"n":9}"#, expectedVersion: 2), false, "a write of a version that is not there")
        try expectEqual(try await store.sharedRecord("fleet/a"), SharedRecord(version: 1, body: #"{"n":1}"#), "store.sharedRecord(\"fleet/a\")")
        // 16 tasks race to replace version 1: exactly one wins, and the record is its write.
        let winners = try await withThrowingTaskGroup(of: Int?.self) { group in
            for task in 0..<16 {
                group.addTask { try await store.writeSharedRecord("fleet/a", body: #"{"n":\#(task + 10)}"#, expectedVersion: 1) ? task : nil }
            }
            return try await group.reduce(into: [Int]()) { if let winner = $1 { $0.append(winner) } }
        }
        try expectEqual(winners.count, 1, "writers of version 1 that won")
        try expectEqual(try await store.sharedRecord("fleet/a"), SharedRecord(version: 2, body: #"{"n":\#(winners[0] + 10)}"#), "the winner's record")
        try expectEqual(try await store.writeSharedRecord("fleet/a", body: "{}", expectedVersion: 2), true, "a write of the current version")
        try expectEqual(try await store.sharedRecord("fleet/a")?.version, 3, "the version after three writes")
        // Many writes later, a writer that read nothing still cannot start the record over.
        for version in 3..<40 {
            try expectEqual(try await store.writeSharedRecord("fleet/a", body: "{\"v\":\(version)}", expectedVersion: Int64(version)), true, "write \(version)")
        }
        try expectEqual(try await store.writeSharedRecord("fleet/a", body: "{}", expectedVersion: nil), false, "an insert over a long-lived record")
        try expectEqual(try await store.sharedRecord("fleet/a"), SharedRecord(version: 40, body: "{\"v\":39}"), "the newest version")
        try expectEqual(try await store.sharedRecord("fleet/b"), nil, "another key")
    }

    static func spendCountersAreAtomicUnderConcurrency(_ subject: Subject) async throws {
        let store = subject.store
        let limit = Money(nanodollars: 1_000)
        // 100 tasks race to add 30 each against a limit of 1,000: exactly 33 may succeed.
        let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<100 {
                group.addTask { try await store.addSpend(Money(nanodollars: 30), to: "cap", periodStart: epoch, limit: limit) != nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        try expectEqual(accepted, 33, "accepted")
        try expectEqual(try await store.spend(of: "cap", periodStart: epoch), Money(nanodollars: 990), "store.spend(of: \"cap\", periodStart: epoch)")
        try expectEqual(try await store.addSpend(Money(nanodollars: 11), to: "cap", periodStart: epoch, limit: limit), nil, "store.addSpend(Money(nanodollars: 11), to: \"cap\", periodStart: epoch, limit: limit)")
        try expectEqual(try await store.addSpend(Money(nanodollars: 10), to: "cap", periodStart: epoch, limit: limit), limit, "store.addSpend(Money(nanodollars: 10), to: \"cap\", periodStart: epoch, limit: limit)")
        // Unlimited adds, other periods and batch deltas are independent counters.
        try expectEqual(try await store.addSpend(Money(nanodollars: 5), to: "cap", periodStart: epoch + .seconds(86_400), limit: nil), Money(nanodollars: 5), "store.addSpend(Money(nanodollars: 5), to: \"cap\", periodStart: epoch + .seconds(86_400), limit: nil)")
        try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 50))]))
        try expectEqual(try await store.spend(of: "cap", periodStart: epoch), Money(nanodollars: 1_050), "store.spend(of: \"cap\", periodStart: epoch)")
        try expectEqual(try await store.spend(of: "other", periodStart: epoch), .zero, "store.spend(of: \"other\", periodStart: epoch)")
    }

    static func batchesWithAnIDAreAppliedExactlyOnce(_ subject: Subject) async throws {
        let store = subject.store
        func batch(_ writer: String, _ sequence: Int64, lease: UInt64) -> StoreBatch {
            StoreBatch(
                id: BatchID(writer: writer, sequence: sequence),
                usage: [usage(lease, key: "a", cost: 100, tags: ["t"], at: 0)],
                transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch)],
                spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 100))])
        }
        try await store.append(batch("w1", 1, lease: 1))
        try await store.append(batch("w1", 1, lease: 1))  // the retry of a committed batch
        try await store.append(batch("w1", 2, lease: 2))
        try await store.append(batch("w1", 1, lease: 1))  // an older batch, late: ignored too
        try await store.append(batch("w2", 1, lease: 3))  // another writer's first batch
        let events = try await store.usageEvents(from: epoch, to: epoch + .seconds(1), limit: 10)
        try expectEqual(events.map(\.leaseID), [1, 2, 3], "events.map(\\.leaseID)")
        try expectEqual(try await store.spend(of: "cap", periodStart: epoch), Money(nanodollars: 300), "store.spend(of: \"cap\", periodStart: epoch)")
        try expectEqual(try await store.spend(from: epoch, to: epoch + .seconds(1), groupedBy: .tag), ["t": Money(nanodollars: 300)], "store.spend(from: epoch, to: epoch + .seconds(1), groupedBy: .tag)")
        try expectEqual(try await store.transitions(of: "a", limit: 10).count, 3, "store.transitions(of: \"a\", limit: 10).count")
        // Batches without an id are one-off writes, applied each time.
        try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 1))]))
        try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 1))]))
        try expectEqual(try await store.spend(of: "cap", periodStart: epoch), Money(nanodollars: 302), "store.spend(of: \"cap\", periodStart: epoch)")
    }

    static func retentionPrunesOldRecordsAndKeepsSpendCounters(_ subject: Subject) async throws {
        let store = subject.store
        try await store.append(StoreBatch(
            usage: [usage(1, key: "a", cost: 10, tags: ["t"], at: 0), usage(2, key: "a", cost: 20, tags: ["t"], at: 100), usage(3, key: "a", cost: 30, at: 200)],
            transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch + .seconds(50))],
            spend: [SpendDelta(budgetID: "b", periodStart: epoch, amount: Money(nanodollars: 60))]))
        try expectEqual(try await store.ledgerSize(), 3, "store.ledgerSize()")
        try expectEqual(try await store.pruneLedger(before: epoch + .seconds(150)), 2, "store.pruneLedger(before: epoch + .seconds(150))")
        try expectEqual(try await store.ledgerSize(), 1, "store.ledgerSize()")
        let all = (epoch - .seconds(1), epoch + .seconds(1_000))
        try expectEqual(try await store.usageEvents(from: all.0, to: all.1, limit: 10).map(\.leaseID), [3], "store.usageEvents(from: all.0, to: all.1, limit: 10).map(\\.leaseID)")
        try expectEqual(try await store.spend(from: all.0, to: all.1, groupedBy: .tag).isEmpty, true, "store.spend(from: all.0, to: all.1, groupedBy: .tag).isEmpty")
        try expectEqual(try await store.transitions(of: "a", limit: 10).isEmpty, true, "store.transitions(of: \"a\", limit: 10).isEmpty")
        try expectEqual(try await store.spend(of: "b", periodStart: epoch), Money(nanodollars: 60), "store.spend(of: \"b\", periodStart: epoch)")
        try expectEqual(try await store.pruneLedger(before: epoch), 0, "store.pruneLedger(before: epoch)")
    }

    static func reopenReadsEverythingBack(_ subject: Subject) async throws {
        try await subject.store.saveKey(try sampleKey("a"), expectedVersion: nil)
        try await subject.store.saveBudget(StoredBudget(budget: Budget(id: "b", period: .total, limit: 1), version: 1, updatedAt: epoch), expectedVersion: nil)
        try await subject.store.append(StoreBatch(
            usage: [usage(1, key: "a", cost: 42, tags: ["x"], at: 0)],
            transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch)],
            spend: [SpendDelta(budgetID: "b", periodStart: Timestamp(nanosecondsSinceEpoch: 0), amount: Money(nanodollars: 42))]))
        let written = try await subject.store.loadKeys()
        let reopened = try await reopenOrFail(subject)
        try expectEqual(try await reopened.loadKeys(), written, "reopened.loadKeys()")
        try expectEqual(written.count, 1, "written.count")
        try expectEqual(try await reopened.loadBudgets().map(\.id), ["b"], "reopened.loadBudgets().map(\\.id)")
        try expectEqual(try await reopened.usageEvents(from: epoch, to: epoch + .seconds(1), limit: 5).map(\.cost), [Money(nanodollars: 42)], "reopened.usageEvents(from: epoch, to: epoch + .seconds(1), limit: 5).map(\\.cost)")
        try expectEqual(try await reopened.transitions(of: "a", limit: 5).map(\.reason), [.authInvalid], "reopened.transitions(of: \"a\", limit: 5).map(\\.reason)")
        try expectEqual(try await reopened.spend(of: "b", periodStart: Timestamp(nanosecondsSinceEpoch: 0)), Money(nanodollars: 42), "reopened.spend(of: \"b\", periodStart: Timestamp(nanosecondsSinceEpoch: 0))")
    }
}
