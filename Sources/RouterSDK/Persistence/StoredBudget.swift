/// A budget as a store keeps it: its definition and version.
///
/// Versions make budget definitions safe to share: every replica of an app may set the same
/// budget at start without writing it again, and a change is a compare-and-set on the version
/// the changer knows (``StateStore/saveBudget(_:expectedVersion:)``), so two instances changing
/// one budget at once cannot silently overwrite each other.
public struct StoredBudget: Sendable, Hashable, Codable {
    /// The definition.
    public var budget: Budget
    /// 1 when first saved, incremented on every change.
    public var version: Int64
    /// When it was saved.
    public var updatedAt: Timestamp

    /// The budget's id.
    public var id: BudgetID { budget.id }

    /// Creates a stored budget.
    public init(budget: Budget, version: Int64, updatedAt: Timestamp) {
        self.budget = budget
        self.version = version
        self.updatedAt = updatedAt
    }
}
