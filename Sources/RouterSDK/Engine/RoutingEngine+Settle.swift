extension RoutingEngine {
    /// Charges a lease's real cost, returns the rest of its reservations and records success.
    func settle(leaseID: UInt64, usage: Usage, now: Timestamp) throws(RouterError) -> UsageEvent {
        try validate(usage)
        guard let lease = leases.removeValue(forKey: leaseID) else {
            throw RouterError(.leaseNotActive, "lease #\(leaseID) was already settled or released, or was not issued by this router")
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
            outcome: .success, failure: nil, tags: lease.tags.sorted(), at: now)
        effects.append(.usage(event))
        return event
    }

    /// Returns a lease's reservations after a failure (charging `usage` if some was consumed) and
    /// applies the failure to the key's state.
    func release(leaseID: UInt64, failure: ProviderFailure, usage: Usage?, now: Timestamp) throws(RouterError) -> UsageEvent {
        if let usage { try validate(usage) }
        guard let lease = leases.removeValue(forKey: leaseID) else {
            throw RouterError(.leaseNotActive, "lease #\(leaseID) was already settled or released, or was not issued by this router")
        }
        let used = usage ?? .none
        let cost = lease.price.cost(inputTokens: used.inputTokens, outputTokens: used.outputTokens)
        charge(lease, cost: cost, now: now)
        if let slot = liveSlot(of: lease) {
            let index = Int(slot)
            finishRequest(slot: slot, lease: lease, usedTokens: used.inputTokens + used.outputTokens, nowMs: now.millisecondsSinceEpoch)
            keys[index].spend += cost
            apply(failure, slot: slot, now: now)
            refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
            rescore(slot: slot)
        }
        let event = UsageEvent(
            leaseID: leaseID, keyID: lease.keyID, model: lease.model, inputTokens: used.inputTokens,
            outputTokens: used.outputTokens, cost: cost, latencyNanoseconds: used.latency?.wholeNanoseconds,
            outcome: .failure, failure: failure.label, tags: lease.tags.sorted(), at: now)
        effects.append(.usage(event))
        return event
    }

    private func validate(_ usage: Usage) throws(RouterError) {
        guard usage.inputTokens >= 0, usage.outputTokens >= 0 else {
            throw RouterError(.invalidArgument, "usage token counts must not be negative (input \(usage.inputTokens), output \(usage.outputTokens))")
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
    }

    /// Moves the reservation to spend in every budget the lease reserved against.
    private func charge(_ lease: LeaseRecord, cost: Money, now: Timestamp) {
        let nowMs = now.millisecondsSinceEpoch
        for account in lease.accounts {
            guard budgets.accounts.indices.contains(Int(account)), budgets[account] != nil else { continue }
            budgets[account]!.roll(to: nowMs)
            budgets[account]!.reserved = max(.zero, budgets[account]!.reserved - lease.reservedCost)
            budgets[account]!.spent += cost
            if cost > .zero {
                effects.append(.spend(SpendDelta(budgetID: budgets[account]!.budget.id, periodStart: budgets[account]!.periodStart, amount: cost)))
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
        if state.budget.enforcement == .soft, state.spent > limit, !state.exhaustedAlerted {
            budgets[account]!.exhaustedAlerted = true
            effects.append(.event(.budgetExhausted(BudgetAlert(
                budgetID: state.budget.id, percent: 100, spent: state.spent, limit: limit, enforcement: .soft, at: now))))
        }
    }

    /// Applies a failure to the key's state, counters and circuit breaker.
    private func apply(_ failure: ProviderFailure, slot: Int32, now: Timestamp) {
        let index = Int(slot)
        switch failure {
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
        switch failure {
        case .rateLimited(let retryAfter):
            keys[index].consecutiveRateLimits += 1
            let cooldown = retryAfter.map { max($0, .milliseconds(1)) } ?? backoff(attempt: keys[index].consecutiveRateLimits)
            extendCooldown(slot: slot, until: now + cooldown, exhausted: false, reason: .rateLimited, detail: retryAfter.map { "retry-after \($0)" }, now: now)
        case .quotaExhausted(let resetAt):
            let until = max(resetAt ?? (now + configuration.quotaResetFallback), now + .milliseconds(1))
            extendCooldown(slot: slot, until: until, exhausted: true, reason: .quotaExhausted, detail: nil, now: now)
        case .authInvalid:
            transition(slot: slot, to: .invalid, reason: .authInvalid, detail: nil, now: now)
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
        case .cancelled, .rejected:
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
