internal import CoreMetrics
internal import Logging
extension LLMRouter {
    /// Adds or replaces a budget (replacing keeps the current period's spend) and saves it.
    ///
    /// - Throws: `invalidArgument`/`invalidLimits` for an empty id, a negative limit or bad
    ///   thresholds; `unknownModel` for a model scope the catalog lacks; `storeFailure`.
    public func setBudget(_ budget: Budget) async throws {
        try checkOpen()
        try budget.validate()
        try engine.setBudget(budget, now: clock.now())
        enableFleet(budget.id)
        do {
            try await store.saveBudget(budget)
        } catch {
            throw Self.storeError(error, "saving budget '\(budget.id)'")
        }
    }

    /// Removes a budget. Throws `unknownBudget`.
    public func removeBudget(_ id: BudgetID) async throws {
        try checkOpen()
        try engine.removeBudget(id)
        do {
            try await store.deleteBudget(id)
        } catch let error as RouterError where error.code == .unknownBudget {
            // Not in the store: already the outcome asked for.
        } catch {
            throw Self.storeError(error, "deleting budget '\(id)'")
        }
    }

    /// A budget's spend, reservations and remaining amount in its current period. Throws `unknownBudget`.
    public func budgetStatus(_ id: BudgetID) throws -> BudgetStatus {
        try engine.budgetStatus(id, now: clock.now())
    }

    /// Every budget's status, in id order.
    public func budgetStatuses() -> [BudgetStatus] {
        engine.allBudgetStatuses(now: clock.now())
    }

    // MARK: Ledger retention

    /// Deletes ledger records (usage events, transitions, decision samples) older than `age`
    /// from the store; budget spend counters are kept. Run it from a periodic job to bound the
    /// ledger. Updates the `routersdk_ledger_usage_events` gauge.
    ///
    /// - Returns: How many usage events were deleted.
    /// - Throws: `invalidArgument` for a negative age; `storeFailure`.
    @discardableResult
    public func pruneLedger(olderThan age: Duration) async throws -> Int {
        guard age >= .zero else { throw RouterError(.invalidArgument, "the retention age must not be negative") }
        do {
            let deleted = try await store.pruneLedger(before: clock.now() - age)
            metrics.ledgerEvents.record(try await store.ledgerSize())
            return deleted
        } catch {
            throw Self.storeError(error, "pruning the ledger")
        }
    }

    /// How many usage events the store's ledger holds; also records the
    /// `routersdk_ledger_usage_events` gauge.
    public func ledgerSize() async throws -> Int {
        do {
            let size = try await store.ledgerSize()
            metrics.ledgerEvents.record(size)
            return size
        } catch {
            throw Self.storeError(error, "counting the ledger")
        }
    }

    // MARK: Catalog

    /// The catalog in use.
    public var catalog: ModelCatalog { engine.catalog }

    /// Adds or overrides a model (its price applies to leases issued from now on).
    ///
    /// - Throws: `invalidPrice` for negative prices, `invalidArgument` for non-positive limits.
    public func setModel(_ model: ModelInfo) throws {
        guard engine.catalog.providers[model.ref.provider] != nil else {
            throw RouterError(.invalidArgument, "model '\(model.ref)' names unknown provider '\(model.ref.provider)'; add it with setProvider first", model: model.ref.name)
        }
        try engine.setModel(model)
        catalogChanged()
    }

    /// Adds or replaces a provider (e.g. a custom OpenAI-compatible endpoint).
    public func setProvider(_ provider: ProviderInfo) {
        engine.setProvider(provider)
        catalogChanged()
    }
}
