internal import DequeModule
extension RoutingEngine {
    /// Charges a lease's real cost, returns the rest of its reservations and records success.
    ///
    /// The lease is consumed whatever happens: usage that is negative or implausible is refused
    /// (`invalidArgument`) after the lease has been settled at its reserved cost, so a bad report
    /// from a provider can never leak a reservation, a concurrency slot or TPM tokens.
    func settle(leaseID: UInt64, usage: Usage, now: Timestamp) throws(RouterError) -> UsageEvent {
        reclaimExpiredLeases(now: now)
        guard let lease = leases.removeValue(forKey: leaseID) else {
            if let expired = expiredLeases.removeValue(forKey: leaseID) {
                return try settleLate(expired.record, usage: usage, now: now)
            }
            throw RouterError(.leaseNotActive, "lease #\(leaseID) was already settled or released, or was not issued by this router")
        }
        if let problem = Self.problem(with: usage) {
            settleAtReservation(lease, outcome: .failure, failure: nil, label: "invalid_usage", now: now)
            throw RouterError(.invalidArgument, "\(problem); lease #\(leaseID) was settled at its reserved cost \(lease.reservedCost)")
        }
        let cost = lease.price.cost(inputTokens: usage.inputTokens, outputTokens: usage.outputTokens)
        charge(lease, cost: cost, now: now)
        if let slot = liveSlot(of: lease) {
            let index = Int(slot)
            finishRequest(slot: slot, lease: lease, usedTokens: usage.inputTokens + usage.outputTokens, nowMs: now.millisecondsSinceEpoch)
            keys[index].spend += cost
            keys[index].consecutiveFailures = 0
            keys[index].consecutiveRateLimits = 0
            keys[index].successPPM += (1_000_000 - keys[index].successPPM) / 8
            if let latency = usage.latency {
                let sample = max(0, latency.wholeNanoseconds)
                keys[index].latencyEWMA = keys[index].latencyEWMA == 0 ? max(1, sample) : max(1, keys[index].latencyEWMA + (sample - keys[index].latencyEWMA) / 8)
            }
            if case .halfOpen = keys[index].circuit { keys[index].circuit = .closed }
            refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
            rescore(slot: slot)
        }
        let event = UsageEvent(
            leaseID: leaseID, keyID: lease.keyID, model: lease.model, inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens, cost: cost, latencyNanoseconds: usage.latency?.wholeNanoseconds,
            outcome: .success, failure: nil, tags: lease.tags.sorted(), at: wallNow)
        effects.append(.usage(event))
        return event
    }

    /// Returns a lease's reservations after a failure (charging `usage` if some was consumed) and
    /// applies the failure to the key's state. Like ``settle(leaseID:usage:now:)``, it consumes
    /// the lease even when `usage` is refused (charging the reservation).
    func release(leaseID: UInt64, failure: ProviderFailure, usage: Usage?, now: Timestamp) throws(RouterError) -> UsageEvent {
        reclaimExpiredLeases(now: now)
        guard let lease = leases.removeValue(forKey: leaseID) else {
            if let expired = expiredLeases.removeValue(forKey: leaseID) {
                return try settleLate(expired.record, usage: usage ?? .none, now: now, failure: failure)
            }
            throw RouterError(.leaseNotActive, "lease #\(leaseID) was already settled or released, or was not issued by this router")
        }
        if let usage, let problem = Self.problem(with: usage) {
            settleAtReservation(lease, outcome: .failure, failure: failure, label: failure.label, now: now)
            throw RouterError(.invalidArgument, "\(problem); lease #\(leaseID) was released at its reserved cost \(lease.reservedCost)")
        }
        let used = usage ?? .none
        let cost = lease.price.cost(inputTokens: used.inputTokens, outputTokens: used.outputTokens)
        charge(lease, cost: cost, now: now)
        if let slot = liveSlot(of: lease) {
            let index = Int(slot)
            finishRequest(slot: slot, lease: lease, usedTokens: used.inputTokens + used.outputTokens, nowMs: now.millisecondsSinceEpoch)
            keys[index].spend += cost
            apply(failure, slot: slot, model: lease.model, now: now)
            refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
            rescore(slot: slot)
        }
        let event = UsageEvent(
            leaseID: leaseID, keyID: lease.keyID, model: lease.model, inputTokens: used.inputTokens,
            outputTokens: used.outputTokens, cost: cost, latencyNanoseconds: used.latency?.wholeNanoseconds,
            outcome: .failure, failure: failure.label, tags: lease.tags.sorted(), at: wallNow)
        effects.append(.usage(event))
        return event
    }

    /// Why `usage` cannot be charged as reported, or `nil` if it can.
    static func problem(with usage: Usage) -> String? {
        guard usage.inputTokens >= 0, usage.outputTokens >= 0 else {
            return "usage token counts must not be negative (input \(usage.inputTokens), output \(usage.outputTokens))"
        }
        guard usage.inputTokens <= Usage.maximumTokens, usage.outputTokens <= Usage.maximumTokens else {
            return "usage token counts above \(Usage.maximumTokens) are not plausible (input \(usage.inputTokens), output \(usage.outputTokens))"
        }
        return nil
    }

    /// Consumes a lease whose reported usage was refused: its reservation (the worst case the
    /// budgets admitted) is charged, so the ledger and budgets err on the side of spend.
    private func settleAtReservation(_ lease: LeaseRecord, outcome: UsageEvent.Outcome, failure: ProviderFailure?, label: String, now: Timestamp) {
        charge(lease, cost: lease.reservedCost, now: now)
        if let slot = liveSlot(of: lease) {
            finishRequest(slot: slot, lease: lease, usedTokens: lease.reservedTokens, nowMs: now.millisecondsSinceEpoch)
            keys[Int(slot)].spend += lease.reservedCost
            if let failure { apply(failure, slot: slot, model: lease.model, now: now) }
            refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
            rescore(slot: slot)
        }
        effects.append(.usage(UsageEvent(
            leaseID: lease.id, keyID: lease.keyID, model: lease.model, inputTokens: 0, outputTokens: 0,
            cost: lease.reservedCost, latencyNanoseconds: nil, outcome: outcome, failure: label,
            tags: lease.tags.sorted(), at: wallNow)))
    }

    /// Charges a settle or release that arrived after its lease was reclaimed: the reservation,
    /// slot and tokens were already returned, so only what the call used is charged.
    private func settleLate(_ lease: LeaseRecord, usage: Usage, now: Timestamp, failure: ProviderFailure? = nil) throws(RouterError) -> UsageEvent {
        var used = usage
        var label = failure?.label
        let refused = Self.problem(with: usage)
        if refused != nil {
            used = .none
            label = "invalid_usage"
        }
        let cost = lease.price.cost(inputTokens: used.inputTokens, outputTokens: used.outputTokens)
        charge(lease, cost: cost, now: now)
        if let slot = liveSlot(of: lease) {
            let index = Int(slot)
            let nowMs = now.millisecondsSinceEpoch
            if keys[index].tokensPerMinute != nil {
                keys[index].tokensPerMinute!.advance(to: nowMs)
                keys[index].tokensPerMinute!.take(Int64(used.inputTokens) + Int64(used.outputTokens))
            }
            // Its reservation was given back when it was reclaimed: the tokens it used count now.
            keys[index].fleetPermits?.tokensPerMinute?.used += Int64(used.inputTokens) + Int64(used.outputTokens)
            keys[index].spend += cost
            if let failure { apply(failure, slot: slot, model: lease.model, now: now) }
            refresh(slot: slot, nowMs: nowMs)
        }
        let event = UsageEvent(
            leaseID: lease.id, keyID: lease.keyID, model: lease.model, inputTokens: used.inputTokens,
            outputTokens: used.outputTokens, cost: cost, latencyNanoseconds: used.latency?.wholeNanoseconds,
            outcome: label == nil ? .success : .failure, failure: label, tags: lease.tags.sorted(), at: wallNow)
        effects.append(.usage(event))
        if let problem = refused {
            throw RouterError(.invalidArgument, "\(problem); the expired lease #\(lease.id) was charged nothing")
        }
        return event
    }

    /// Reclaims leases whose time-to-live has passed: returns their reservations, concurrency
    /// slots and reserved tokens, and remembers them (bounded) so a late settle is still charged.
    /// Called on every route, settle and release; it scans the outstanding leases (not every
    /// lease ever issued) at most once per ``leaseScanIntervalMs``, so it costs one comparison
    /// otherwise.
    func reclaimExpiredLeases(now: Timestamp) {
        let nowMs = now.millisecondsSinceEpoch
        guard nowMs >= nextLeaseScanMs else { return }
        nextLeaseScanMs = nowMs.addingSaturating(leaseScanIntervalMs)
        var due: [UInt64] = []
        for (id, lease) in leases where lease.expiresAtMs <= nowMs { due.append(id) }
        for id in due.sorted() {
            guard var lease = leases.removeValue(forKey: id) else { continue }
            charge(lease, cost: .zero, now: now)
            if let slot = liveSlot(of: lease) {
                finishRequest(slot: slot, lease: lease, usedTokens: 0, nowMs: nowMs)
                if case .halfOpen(probeInFlight: true) = keys[Int(slot)].circuit { keys[Int(slot)].circuit = .halfOpen(probeInFlight: false) }
                refresh(slot: slot, nowMs: nowMs)
                rescore(slot: slot)
            }
            effects.append(.event(.leaseExpired(LeaseExpiry(
                leaseID: lease.id, keyID: lease.keyID, model: lease.model, reservedCost: lease.reservedCost, at: wallNow))))
            lease.reservedCost = .zero
            lease.reservedTokens = 0
            expiredLeases[lease.id] = ExpiredLease(record: lease, expiredAtMs: nowMs)
            expiredOrder.append(lease.id)
            while expiredOrder.count > Self.expiredLeaseMemory, let oldest = expiredOrder.popFirst() {
                expiredLeases[oldest] = nil
            }
        }
    }

    private func liveSlot(of lease: LeaseRecord) -> Int32? {
        let index = Int(lease.slot)
        guard index < keys.count, keys[index].live, keys[index].generation == lease.keyGeneration else { return nil }
        return lease.slot
    }

    /// Concurrency and token-window bookkeeping common to settle and release.
    private func finishRequest(slot: Int32, lease: LeaseRecord, usedTokens: Int, nowMs: Int64) {
        let index = Int(slot)
        keys[index].inFlight -= 1
        if keys[index].tokensPerMinute != nil {
            keys[index].tokensPerMinute!.advance(to: nowMs)
            let difference = Int64(lease.reservedTokens) - Int64(usedTokens)
            if difference > 0 {
                keys[index].tokensPerMinute!.giveBack(difference)
            } else if difference < 0 {
                keys[index].tokensPerMinute!.take(-difference)
            }
        }
        if let permit = keys[index].fleetPermits?.tokensPerMinute {
            let difference = Int64(lease.reservedTokens) - Int64(usedTokens)
            if difference < 0 {
                keys[index].fleetPermits!.tokensPerMinute!.used += -difference
            } else if permit.epoch == lease.tokenPermitEpoch {
                // Only to the grant it reserved from: a renewal since recorded the reservation as used.
                keys[index].fleetPermits!.tokensPerMinute!.used = max(0, permit.used - difference)
            }
        }
    }

    /// Moves the reservation to spend in every budget the lease reserved against.
    private func charge(_ lease: LeaseRecord, cost: Money, now _: Timestamp) {
        // Budget periods are calendar periods: they roll on the wall clock.
        let now = wallNow
        let nowMs = now.millisecondsSinceEpoch
        for account in lease.accounts {
            guard budgets.accounts.indices.contains(Int(account)), budgets[account] != nil else { continue }
            budgets[account]!.roll(to: nowMs)
            budgets[account]!.reserved = max(.zero, budgets[account]!.reserved - lease.reservedCost)
            budgets[account]!.spent += cost
            if cost > .zero {
                effects.append(.spend(SpendDelta(budgetID: budgets[account]!.budget.id, periodStart: budgets[account]!.periodStart, amount: cost)))
                if let counter = budgets[account]!.fleetSpendCounter {
                    effects.append(.spend(SpendDelta(budgetID: counter, periodStart: budgets[account]!.periodStart, amount: cost)))
                }
            }
            // A call that used more than it reserved can take a hard budget past its limit; the
            // excess is charged (the ledger tells the truth) and reported, and the budget admits
            // nothing more until its spend is back under the limit (a new period, a raised limit).
            if cost > lease.reservedCost, let state = budgets[account], state.budget.enforcement == .hard, state.spent > state.budget.limit {
                effects.append(.event(.budgetOverrun(BudgetOverrun(
                    budgetID: state.budget.id, leaseID: lease.id, reserved: lease.reservedCost, charged: cost,
                    spent: state.spent, limit: state.budget.limit, at: now))))
            }
            alertIfCrossed(account: account, now: now)
        }
    }

    private func alertIfCrossed(account: Int32, now: Timestamp) {
        guard let state = budgets[account] else { return }
        let limit = state.budget.limit
        for (position, percent) in state.budget.alertThresholds.enumerated() where !state.alerted.contains(position) {
            let threshold = Money(nanodollars: Int64((Int128(limit.nanodollars) * Int128(percent) + 99) / 100))
            if state.spent >= threshold, state.spent > .zero {
                budgets[account]!.alerted.insert(position)
                effects.append(.event(.budgetThresholdCrossed(BudgetAlert(
                    budgetID: state.budget.id, percent: percent, spent: state.spent, limit: limit,
                    enforcement: state.budget.enforcement, at: now))))
            }
        }
        if state.budget.enforcement == .soft, state.spent > limit { alertExhausted(account: account, now: now) }
    }

    /// Raises `budgetExhausted` for the budget of `account`, once until its period rolls over.
    func alertExhausted(account: Int32, now: Timestamp) {
        guard let state = budgets[account], !state.exhaustedAlerted else { return }
        budgets[account]!.exhaustedAlerted = true
        effects.append(.event(.budgetExhausted(BudgetAlert(
            budgetID: state.budget.id, percent: 100, spent: state.spent, limit: state.budget.limit, enforcement: state.budget.enforcement, at: now))))
    }

    /// Applies a failure to the key's state, counters and circuit breaker.
    private func apply(_ failure: ProviderFailure, slot: Int32, model: ModelRef, now: Timestamp) {
        let index = Int(slot)
        switch failure.kind {
        case .cancelled:
            if case .halfOpen(probeInFlight: true) = keys[index].circuit { keys[index].circuit = .halfOpen(probeInFlight: false) }
            return
        case .rejected:
            keys[index].failures += 1
            if case .halfOpen(probeInFlight: true) = keys[index].circuit { keys[index].circuit = .halfOpen(probeInFlight: false) }
            return
        default:
            keys[index].failures += 1
            keys[index].successPPM -= keys[index].successPPM / 8
        }
        if case .disabled = keys[index].state { return }
        switch failure.kind {
        case .rateLimited:
            let retryAfter = failure.retryAfter
            keys[index].consecutiveRateLimits += 1
            let cooldown = retryAfter.map { max($0, .milliseconds(1)) } ?? backoff(attempt: keys[index].consecutiveRateLimits)
            if failure.isModelScoped {
                // A per-model limit: the key stays available for its other models.
                coolDown(slot: slot, model: model, until: now + cooldown, now: now)
                return
            }
            extendCooldown(slot: slot, until: now + cooldown, exhausted: false, reason: .rateLimited, detail: retryAfter.map { "retry-after \($0)" }, now: now)
        case .quotaExhausted:
            let until = max(failure.resetAt ?? (now + configuration.quotaResetFallback), now + .milliseconds(1))
            extendCooldown(slot: slot, until: until, exhausted: true, reason: .quotaExhausted, detail: nil, now: now)
        case .authInvalid:
            // The provider's own words (scrubbed of the secret) tell an operator whether the key
            // itself was refused or a proxy in front relayed someone else's 401.
            transition(slot: slot, to: .invalid, reason: .authInvalid, detail: failure.reason, now: now)
        case .serverError, .timeout:
            keys[index].consecutiveFailures += 1
            let breaker = configuration.circuitBreaker
            let reopen: Bool
            switch keys[index].circuit {
            case .halfOpen: reopen = true
            case .closed: reopen = keys[index].consecutiveFailures >= breaker.failureThreshold
            case .open: reopen = false
            }
            if reopen {
                let until = now + breaker.openDuration
                keys[index].circuit = .open(untilMs: until.millisecondsSinceEpoch)
                effects.append(.event(.circuitOpened(keyID: keys[index].id, until: until)))
            }
        default:
            // Cancelled and rejected changed nothing above; a kind this version does not know
            // counts as a failure and nothing more.
            break
        }
    }

    private func backoff(attempt: Int) -> Duration {
        let base = configuration.rateLimitBackoff
        let cap = configuration.maxRateLimitBackoff
        var value = base
        for _ in 1..<max(1, min(attempt, 32)) {
            value *= 2
            if value >= cap { return cap }
        }
        return min(value, cap)
    }

    /// Throttles or exhausts a key; a new cooldown never shortens an existing one.
    func extendCooldown(slot: Int32, until: Timestamp, exhausted: Bool, reason: TransitionReason, detail: String?, now: Timestamp) {
        let current = keys[Int(slot)].state
        switch current {
        case .invalid, .disabled:
            return
        case .available:
            transition(slot: slot, to: exhausted ? .exhausted(until: until) : .throttled(until: until), reason: reason, detail: detail, now: now)
        case .throttled(let existing):
            let later = max(existing, until)
            let next: KeyState = exhausted ? .exhausted(until: later) : .throttled(until: later)
            if next != current { transition(slot: slot, to: next, reason: reason, detail: detail, now: now) }
        case .exhausted(let existing):
            if until > existing { transition(slot: slot, to: .exhausted(until: until), reason: reason, detail: detail, now: now) }
        }
    }

    /// Emits ``RouterEvent/exhaustionPredicted(keyID:at:)`` once when a key's daily requests will
    /// run out within the warning horizon at its current request rate.
    func checkExhaustionPrediction(slot: Int32, now: Timestamp) {
        let index = Int(slot)
        guard keys[index].requestsPerDay != nil else { return }
        let predicted = predictedExhaustion(slot: slot, nowMs: now.millisecondsSinceEpoch)
        let horizon = now + configuration.exhaustionWarningHorizon
        if let predicted, predicted <= horizon {
            if !keys[index].exhaustionWarned {
                keys[index].exhaustionWarned = true
                effects.append(.event(.exhaustionPredicted(keyID: keys[index].id, at: predicted)))
            }
        } else {
            keys[index].exhaustionWarned = false
        }
    }

    /// When the key's daily request window empties at the current rate: remaining ÷ (rate − refill).
    func predictedExhaustion(slot: Int32, nowMs: Int64) -> Timestamp? {
        let key = keys[Int(slot)]
        guard let window = key.requestsPerDay, key.intervalEWMAms > 0 else { return nil }
        // Requests per ms arrive at 1/interval and refill at limit/window; exhaustion only if faster.
        let interval = Int128(key.intervalEWMAms)
        let limit = Int128(window.limit)
        let windowMs = Int128(window.windowMs)
        guard interval * limit < windowMs else { return nil }
        let remaining = Int128(window.remaining)
        let ms = remaining * interval * windowMs / (windowMs - interval * limit)
        guard ms < Int128(Int64.max / 2_000_000) else { return nil }
        return Timestamp(nanosecondsSinceEpoch: (nowMs + Int64(ms)) * 1_000_000)
    }
}

extension RoutingEngine {
    /// Throttles a key the provider says has no capacity left (its rate-limit headers report zero
    /// remaining), until the provider's reset, so the next request goes elsewhere instead of
    /// earning a 429. Never shortens an existing cooldown.
    func throttleForProviderLimits(keyID: KeyID, for wait: Duration, now: Timestamp) throws(RouterError) {
        let slot = try slot(of: keyID)
        extendCooldown(slot: slot, until: now + max(wait, .milliseconds(1)), exhausted: false, reason: .rateLimited, detail: "provider reports no capacity left", now: now)
    }
}
