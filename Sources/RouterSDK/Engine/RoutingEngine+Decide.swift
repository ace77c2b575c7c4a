extension RoutingEngine {
    /// Chooses a key for `request`, reserves its limits and budgets, and issues a lease.
    ///
    /// Fast path: one dictionary lookup for the model's pools, O(1)/O(log n) to pick the
    /// strategy's best available key, a few integer checks. Only when that key cannot take the
    /// request (token limit, budget, request filters) does it walk the pool in strategy order.
    func route(_ request: RouteRequest, now: Timestamp) throws(RouterError) -> Lease {
        try request.validate()
        let nowMs = now.millisecondsSinceEpoch
        reclaimExpiredLeases(now: now)
        wakeDueKeys(now: now)
        let strategy = request.strategy ?? configuration.strategy
        var poolIndices = try resolvePools(request.models)
        if strategy == .cost, poolIndices.count > 1 {
            poolIndices.sort { lhs, rhs in
                let left = reservationCost(pools[Int(lhs)].info.price, request)
                let right = reservationCost(pools[Int(rhs)].info.price, request)
                return left < right
            }
        }
        let tagAccounts = budgets.accounts(forTags: request.tags)
        var skipped = 0
        for poolIndex in poolIndices {
            if !request.providers.isEmpty, !request.providers.contains(pools[Int(poolIndex)].model.provider) { continue }
            let cost = reservationCost(pools[Int(poolIndex)].info.price, request)
            if let local = fastPick(pool: poolIndex, strategy: strategy) {
                let slot = pools[Int(poolIndex)].members[Int(local)]
                guard let reason = ineligibility(slot: slot, pool: poolIndex, request: request, cost: cost, tagAccounts: tagAccounts, nowMs: nowMs) else {
                    return commit(slot: slot, pool: poolIndex, cost: cost, request: request, strategy: strategy, skipped: skipped, tagAccounts: tagAccounts, poolIndices: poolIndices, now: now)
                }
                // A fleet grant that ran out: the key leaves the available sets until renewed.
                if reason == .fleetRateLimit { refresh(slot: slot, nowMs: nowMs) }
                for local in orderedAvailable(pool: poolIndex, strategy: strategy) {
                    let slot = pools[Int(poolIndex)].members[Int(local)]
                    guard let reason = ineligibility(slot: slot, pool: poolIndex, request: request, cost: cost, tagAccounts: tagAccounts, nowMs: nowMs) else {
                        return commit(slot: slot, pool: poolIndex, cost: cost, request: request, strategy: strategy, skipped: skipped, tagAccounts: tagAccounts, poolIndices: poolIndices, now: now)
                    }
                    if reason == .fleetRateLimit { refresh(slot: slot, nowMs: nowMs) }
                    skipped += 1
                }
            }
        }
        throw noKeyError(request: request, poolIndices: poolIndices, tagAccounts: tagAccounts, nowMs: nowMs)
    }

    /// The worst-case cost reserved for `request` at `price`: its estimated input plus the
    /// configured headroom (estimates run low for images, CJK text and providers that count
    /// differently), and its maximum output.
    func reservationCost(_ price: ModelPrice, _ request: RouteRequest) -> Money {
        let input = request.estimatedInputTokens
        let padded = input + (input * configuration.reservationHeadroomPercent + 99) / 100
        return price.cost(inputTokens: padded, outputTokens: request.maxOutputTokens)
    }

    /// The strategy's first choice among the pool's available keys.
    func fastPick(pool poolIndex: Int32, strategy: RoutingStrategy) -> Int32? {
        let p = Int(poolIndex)
        let count = pools[p].available.count
        guard count > 0 else { return nil }
        switch strategy {
        case .cost, .roundRobin:
            let cursor = pools[p].roundRobinCursor
            pools[p].roundRobinCursor = cursor &+ 1
            return pools[p].available[Int(UInt(bitPattern: cursor) % UInt(count))]
        case .weightedRandom:
            // Copy what the closures read: they run while `pools[p]` is being modified.
            let members = pools[p].members
            pools[p].ensureWeights { Int64(keys[Int(members[Int($0)])].settings.weight) }
            let total = pools[p].weights!.total
            guard total > 0 else { return pools[p].available[0] }
            let draw = Int64(rng.next() % UInt64(total))
            return Int32(pools[p].weights!.find(draw))
        case .latency, .reliability, .leastUsed, .priority:
            let heap = ensureHeap(pool: p, strategy)
            return pools[p].heaps[heap]!.top
        }
    }

    private func ensureHeap(pool p: Int, _ strategy: RoutingStrategy) -> Int {
        if let index = KeyPool.heapIndex(strategy), pools[p].heaps[index] != nil { return index }
        // Copy what the closure reads: it runs while `pools[p]` is being modified.
        let members = pools[p].members
        let keys = self.keys
        return pools[p].ensureHeap(strategy) { local in ScoreInputs(keys[Int(members[Int(local)])]).score(strategy, local) }
    }

    /// All available keys of a pool in the strategy's order (slow path: O(n log n)).
    func orderedAvailable(pool poolIndex: Int32, strategy: RoutingStrategy) -> [Int32] {
        let p = Int(poolIndex)
        switch strategy {
        case .latency, .reliability, .leastUsed, .priority:
            let heap = ensureHeap(pool: p, strategy)
            return pools[p].heaps[heap]!.sortedMembers()
        case .cost, .roundRobin, .weightedRandom:
            let available = pools[p].available
            guard !available.isEmpty else { return [] }
            let start = strategy == .weightedRandom ? Int(rng.next() % UInt64(available.count)) : Int(UInt(bitPattern: pools[p].roundRobinCursor) % UInt(available.count))
            return Array(available[start...] + available[..<start])
        }
    }

    /// Why an available key cannot take this request, or `nil` if it can. Budget checks name the
    /// first hard budget that would be exceeded.
    func ineligibility(
        slot: Int32, pool poolIndex: Int32, request: RouteRequest, cost: Money, tagAccounts: [Int32], nowMs: Int64,
        blockingBudget: UnsafeMutablePointer<BudgetID?>? = nil
    ) -> Ineligibility? {
        let index = Int(slot)
        if !request.excludedKeys.isEmpty, request.excludedKeys.contains(keys[index].id) { return .filtered }
        if !request.requiredKeyTags.isEmpty, !request.requiredKeyTags.isSubset(of: keys[index].settings.tags) { return .filtered }
        if keys[index].tokensPerMinute != nil {
            keys[index].tokensPerMinute!.advance(to: nowMs)
            if !keys[index].tokensPerMinute!.fits(Int64(request.reservedTokens)) { return .tokenLimit }
        }
        if let permits = keys[index].fleetPermits, !permits.admit(tokens: Int64(request.reservedTokens), nowMs: nowMs) { return .fleetRateLimit }
        if !budgets.isEmpty {
            let blocking = firstBlockingBudget(budgets.global, cost, nowMs)
                ?? firstBlockingBudget(pools[Int(poolIndex)].budgetAccounts, cost, nowMs)
                ?? firstBlockingBudget(keys[index].budgetAccounts, cost, nowMs)
                ?? firstBlockingBudget(tagAccounts, cost, nowMs)
            if let blocking {
                blockingBudget?.pointee = blocking
                return .budget
            }
        }
        return nil
    }

    /// Budget periods are calendar periods: they roll on the wall clock, not the engine's.
    private func firstBlockingBudget(_ accounts: [Int32], _ cost: Money, _: Int64) -> BudgetID? {
        let nowMs = wallNow.millisecondsSinceEpoch
        for account in accounts {
            budgets[account]!.roll(to: nowMs)
            if !budgets[account]!.admits(cost) { return budgets[account]!.budget.id }
        }
        return nil
    }

    /// Takes the key: limits, concurrency, budget reservations, the lease record.
    private func commit(
        slot: Int32, pool poolIndex: Int32, cost: Money, request: RouteRequest, strategy: RoutingStrategy, skipped: Int,
        tagAccounts: [Int32], poolIndices: [Int32], now: Timestamp
    ) -> Lease {
        let index = Int(slot)
        let nowMs = now.millisecondsSinceEpoch
        let alternatives = request.explain ? explain(request: request, poolIndices: poolIndices, tagAccounts: tagAccounts, nowMs: nowMs) : []
        keys[index].requestsPerMinute?.take(1)
        keys[index].requestsPerDay?.take(1)
        keys[index].tokensPerMinute?.take(Int64(request.reservedTokens))
        keys[index].fleetPermits?.take(tokens: Int64(request.reservedTokens))
        keys[index].inFlight += 1
        keys[index].requests += 1
        if case .halfOpen(probeInFlight: false) = keys[index].circuit {
            keys[index].circuit = .halfOpen(probeInFlight: true)
        }
        if let last = keys[index].lastRoutedMs {
            let interval = max(0, nowMs - last)
            keys[index].intervalEWMAms = keys[index].intervalEWMAms == 0 ? interval : keys[index].intervalEWMAms + (interval - keys[index].intervalEWMAms) / 8
        }
        keys[index].lastRoutedMs = nowMs
        var accounts: [Int32] = []
        if !budgets.isEmpty {
            accounts = budgets.global + pools[Int(poolIndex)].budgetAccounts + keys[index].budgetAccounts + tagAccounts
            for account in accounts { budgets[account]!.reserved += cost }
        }
        let leaseID = nextLeaseID
        nextLeaseID &+= 1
        let expiry = nowMs.addingSaturating(configuration.leaseTimeToLive.wholeMillisecondsRoundedUp)
        let model = pools[Int(poolIndex)].model
        leases[leaseID] = LeaseRecord(
            id: leaseID, slot: slot, keyGeneration: keys[index].generation, keyID: keys[index].id, model: model,
            price: pools[Int(poolIndex)].info.price, reservedCost: cost, reservedTokens: request.reservedTokens,
            accounts: accounts, tags: request.tags, expiresAtMs: expiry, tokenPermitEpoch: keys[index].fleetPermits?.tokensPerMinute?.epoch)
        refresh(slot: slot, nowMs: nowMs)
        rescore(slot: slot)
        checkExhaustionPrediction(slot: slot, now: now)
        let decision = RoutingDecision(strategy: strategy, keyID: keys[index].id, model: model, cost: cost, skipped: skipped, alternatives: alternatives)
        decisionCount &+= 1
        if configuration.decisionSampleInterval > 0, decisionCount % configuration.decisionSampleInterval == 0 {
            effects.append(.sample(DecisionSample(leaseID: leaseID, keyID: keys[index].id, model: model, strategy: strategy, reservedCost: cost, explanation: decision.explanation, at: wallNow)))
        }
        return Lease(
            id: leaseID, keyID: keys[index].id, model: model, secret: keys[index].secret, reservedCost: cost,
            reservedTokens: request.reservedTokens, issuedAt: wallNow, decision: decision)
    }

    /// Every candidate of the request with its verdict (only when the request asks to explain).
    private func explain(request: RouteRequest, poolIndices: [Int32], tagAccounts: [Int32], nowMs: Int64) -> [RoutingDecision.Alternative] {
        var result: [RoutingDecision.Alternative] = []
        forEachCandidate(request: request, poolIndices: poolIndices, tagAccounts: tagAccounts, nowMs: nowMs) { slot, pool, cost, reason, _, _ in
            result.append(RoutingDecision.Alternative(keyID: keys[Int(slot)].id, model: pools[Int(pool)].model, ineligibility: reason, cost: cost))
        }
        return result
    }

    /// Calls `body` for every (key, model) candidate with why it cannot serve (or `nil`), the
    /// time it could next serve if known, and the blocking budget if any. O(n): reports only.
    func forEachCandidate(
        request: RouteRequest, poolIndices: [Int32], tagAccounts: [Int32], nowMs: Int64,
        _ body: (Int32, Int32, Money, Ineligibility?, Int64?, BudgetID?) -> Void
    ) {
        for poolIndex in poolIndices {
            let cost = reservationCost(pools[Int(poolIndex)].info.price, request)
            let providerFiltered = !request.providers.isEmpty && !request.providers.contains(pools[Int(poolIndex)].model.provider)
            for slot in pools[Int(poolIndex)].members where slot >= 0 {
                if providerFiltered {
                    body(slot, poolIndex, cost, .filtered, nil, nil)
                    continue
                }
                let (ok, wakeMs) = evaluate(slot: slot, nowMs: nowMs)
                if !ok {
                    body(slot, poolIndex, cost, unavailableReason(slot: slot, nowMs: nowMs), wakeMs, nil)
                    continue
                }
                if let until = modelCooldown(slot: slot, pool: poolIndex, nowMs: nowMs) {
                    body(slot, poolIndex, cost, .throttled, until, nil)
                    continue
                }
                var budget: BudgetID?
                let reason = ineligibility(slot: slot, pool: poolIndex, request: request, cost: cost, tagAccounts: tagAccounts, nowMs: nowMs, blockingBudget: &budget)
                var wake: Int64?
                if reason == .tokenLimit, let window = keys[Int(slot)].tokensPerMinute {
                    wake = nowMs + window.millisecondsUntilFits(Int64(request.reservedTokens))
                }
                body(slot, poolIndex, cost, reason, wake, budget)
            }
        }
    }

    /// Why `evaluate` said no.
    func unavailableReason(slot: Int32, nowMs: Int64) -> Ineligibility {
        let key = keys[Int(slot)]
        switch key.state {
        case .throttled: return .throttled
        case .exhausted: return .exhausted
        case .disabled: return .disabled
        case .invalid: return .invalid
        case .available: break
        }
        if case .closed = key.circuit {} else { return .circuitOpen }
        if let max = key.settings.limits.maxConcurrentRequests, key.inFlight >= max { return .concurrencyLimit }
        if let window = key.tokensPerMinute, !window.fits(1) { return .tokenLimit }
        if let permits = key.fleetPermits, key.requestsPerMinute?.fits(1) ?? true, key.requestsPerDay?.fits(1) ?? true,
            !permits.admit(tokens: 1, nowMs: nowMs)
        {
            return .fleetRateLimit
        }
        return .requestLimit
    }

    private func noKeyError(request: RouteRequest, poolIndices: [Int32], tagAccounts: [Int32], nowMs: Int64) -> RouterError {
        var report = IneligibilityReport()
        var earliest: Int64?
        forEachCandidate(request: request, poolIndices: poolIndices, tagAccounts: tagAccounts, nowMs: nowMs) { _, _, _, reason, wakeMs, budget in
            report.candidates += 1
            report.counts[reason ?? .filtered, default: 0] += 1
            if let wakeMs { earliest = min(earliest ?? wakeMs, wakeMs) }
            if let budget, report.blockingBudget == nil { report.blockingBudget = budget }
        }
        report.earliestRetry = earliest.map { Timestamp(nanosecondsSinceEpoch: $0 * 1_000_000) }
        let names = request.models.joined(separator: ", ")
        // A shared budget blocks here whenever this instance needs its next slice: the router
        // reports it exhausted only when the store has none left (``fleetBudgetExhausted``).
        if let budget = report.blockingBudget, let account = budgets.indexByID[budget], budgets[account]?.fleetCap == nil {
            alertExhausted(account: account, now: wallNow)
        }
        // A global or request-tag budget applies to every candidate, so it is the reason even
        // when some candidates are also cooling down.
        let blocksAll = report.blockingBudget.flatMap { budgets.indexByID[$0] }.flatMap { budgets[$0] }.map {
            switch $0.budget.scope {
            case .global, .tag: true
            default: false
            }
        } ?? false
        if report.candidates > 0, report.counts[.budget] == report.candidates || blocksAll, let budget = report.blockingBudget {
            return RouterError(.budgetExceeded, "budget '\(budget)' would be exceeded by this request's worst-case cost", budgetID: budget, model: request.models.first, noEligibleKey: report)
        }
        return RouterError(.noEligibleKey, "no eligible key for \(names): \(report)", budgetID: report.blockingBudget, model: request.models.first, noEligibleKey: report)
    }
}
