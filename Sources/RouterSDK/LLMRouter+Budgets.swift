internal import CoreMetrics
internal import Logging
extension LLMRouter {
    /// Adds or replaces a budget (replacing keeps the current period's spend) and saves it.
    ///
    /// Budget definitions are versioned in the store (``StoredBudget``), like keys, so every
    /// replica of an app can start by setting the same budgets:
    /// - Setting the definition this router already has writes nothing.
    /// - A budget the store does not have is saved at version 1. If the store has the *same*
    ///   definition (another replica set it), this router adopts it with its version, writing
    ///   nothing.
    /// - A different definition replaces the version this router has (from an earlier
    ///   ``setBudget(_:)``, ``restore()`` or fleet sync) with a compare-and-set, so the next
    ///   version is this one. Other instances follow it at their next fleet sync
    ///   (``FleetBudgets/keySyncInterval``) or ``restore()``.
    /// - If the store holds a different definition this router has not seen (another instance
    ///   changed the budget, or it was set elsewhere first), nothing is overwritten: this router
    ///   adopts the stored definition and throws `versionConflict` naming its version. Calling
    ///   `setBudget` again then replaces that version, deliberately.
    ///
    /// When both this definition and the one it would replace carry an operator
    /// ``Budget/revision``, the revision decides instead, seen or not: a higher one replaces the
    /// stored definition; a lower one, or the same revision with a different definition, is
    /// refused with `versionConflict` and this router follows the stored definition. A replica
    /// started with an older configuration during a rolling deploy therefore cannot undo the
    /// newer one, even after ``restore()``.
    ///
    /// - Throws: `invalidArgument`/`invalidLimits` for an empty id, a negative limit or
    ///   revision, or bad thresholds; `unknownModel` for a model scope the catalog lacks;
    ///   `versionConflict` as above; `storeFailure`.
    public func setBudget(_ budget: Budget) async throws {
        try checkOpen()
        try engine.checkBudget(budget)
        await lock(.budget(budget.id))
        defer { unlock(.budget(budget.id)) }
        let known = engine.budgetDefinition(budget.id)
        if let known, known.budget == budget { return }
        if let known { try Self.checkRevision(budget, against: known.budget, version: known.version) }
        var replacing = known?.version
        // Each lost compare-and-set reads the store once; a higher revision then tries again
        // over what it read, so a few concurrent writers settle within these rounds.
        for _ in 0..<8 {
            var outcome = await saveBudgetDefinition(budget, replacing: replacing)
            // A budget this router has but the store lost (removed elsewhere) is saved anew.
            if case .missing = outcome, replacing != nil { outcome = await saveBudgetDefinition(budget, replacing: nil) }
            switch outcome {
            case .saved(let saved):
                try adoptBudget(saved)
                await afterManagement()
                return
            case .failed(let error):
                throw error
            case .conflict, .missing:
                guard let stored = try await adoptStoredBudget(budget) else { replacing = nil; continue }
                if stored.budget == budget { return }
                guard let revision = budget.revision, let storedRevision = stored.budget.revision, revision > storedRevision else {
                    try Self.checkRevision(budget, against: stored.budget, version: stored.version)
                    throw RouterError(
                        .versionConflict,
                        "budget '\(budget.id)' has a different definition in the store (version \(stored.version)), set by another instance; "
                            + "this router now follows it — call setBudget again to replace that version",
                        budgetID: budget.id)
                }
                replacing = stored.version
            }
        }
        throw RouterError(.versionConflict, "budget '\(budget.id)' kept changing in the store while being set; set it again", budgetID: budget.id)
    }

    /// Refuses `budget` over `current` (a different definition at store version `version`)
    /// when both carry a revision and `budget`'s is not higher.
    private static func checkRevision(_ budget: Budget, against current: Budget, version: Int64) throws(RouterError) {
        guard let revision = budget.revision, let currentRevision = current.revision, revision <= currentRevision else { return }
        let why =
            revision < currentRevision
            ? "revision \(revision) is older than the stored revision \(currentRevision) (version \(version)); this router follows the stored definition"
            : "revision \(revision) already has a different definition in the store (version \(version)); raise the revision to replace it"
        throw RouterError(.versionConflict, "budget '\(budget.id)': \(why)", budgetID: budget.id)
    }

    private enum BudgetSave {
        case saved(StoredBudget)
        /// Another version is in the store.
        case conflict
        /// The version to replace is not in the store.
        case missing
        case failed(RouterError)
    }

    /// One compare-and-set of `budget` over stored version `replacing` (`nil`: insert).
    private func saveBudgetDefinition(_ budget: Budget, replacing version: Int64?) async -> BudgetSave {
        let saved = StoredBudget(budget: budget, version: (version ?? 0) + 1, updatedAt: clock.now())
        do {
            try await store.saveBudget(saved, expectedVersion: version)
            return .saved(saved)
        } catch {
            let error = Self.storeError(error, "saving budget '\(budget.id)'")
            switch error.code {
            case .versionConflict: return .conflict
            case .unknownBudget: return .missing
            default: return .failed(error)
            }
        }
    }

    /// After a compare-and-set of `budget` lost: reads the store's definition and adopts it;
    /// `nil` if the store has none (removed meanwhile).
    private func adoptStoredBudget(_ budget: Budget) async throws -> StoredBudget? {
        let stored: StoredBudget?
        do {
            stored = try await store.loadBudgets().first { $0.id == budget.id }
        } catch {
            throw Self.storeError(error, "loading budget '\(budget.id)'")
        }
        guard let stored else { return nil }
        try adoptBudget(stored)
        await afterManagement()
        logger.debug("budget adopted from the state store", metadata: ["budget": "\(budget.id)", "version": "\(stored.version)"])
        return stored
    }

    /// Applies a stored budget definition here: adds or replaces it at its version (keeping the
    /// period's spend) and shares it with the fleet.
    func adoptBudget(_ stored: StoredBudget) throws(RouterError) {
        try engine.setBudget(stored.budget, version: stored.version, now: clock.now())
        enableFleet(stored.id)
    }

    /// Carries budget `id`'s current-period spend over from the store's counter.
    func restoreBudgetSpend(_ id: BudgetID) async throws {
        guard let periodStart = engine.currentPeriodStart(id, now: clock.now()) else { return }
        do {
            let spent = try await store.spend(of: id, periodStart: periodStart)
            engine.restoreSpend(id, spent: spent, now: clock.now())
        } catch {
            throw Self.storeError(error, "reading the spend of budget '\(id)'")
        }
    }

    /// Removes a budget from the store, then from the router (in fleet mode, other instances
    /// remove it at their next sync). Throws `unknownBudget`.
    public func removeBudget(_ id: BudgetID) async throws {
        try checkOpen()
        await lock(.budget(id))
        defer { unlock(.budget(id)) }
        guard engine.budgetDefinition(id) != nil else { throw RouterError(.unknownBudget, "no budget with id '\(id)'", budgetID: id) }
        do {
            try await store.deleteBudget(id)
        } catch let error as RouterError where error.code == .unknownBudget {
            // Not in the store: already the outcome asked for.
        } catch {
            throw Self.storeError(error, "deleting budget '\(id)'")
        }
        try engine.removeBudget(id)
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
