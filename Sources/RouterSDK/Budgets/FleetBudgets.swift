/// Hard budgets shared by every router instance on one store: each instance spends only what the
/// store has granted it, and the store grants slices of a budget with one atomic conditional
/// increment that can never take the sum of granted slices past the budget's limit — so the
/// fleet's settled spend never exceeds a hard budget, whatever the number of processes, while
/// each decision stays local.
///
/// - An instance starts a period with nothing granted. A reservation its slices cannot cover
///   takes a new slice first (one or two store round trips, off the hot path for every request
///   the slice then covers); when the unused part of its slices runs low it takes the next one in
///   the background, before a request has to wait.
/// - A slice is ``slicePermille`` of what is still ungranted, at least ``minimumSlice`` and the
///   reservation at hand — so slices shrink as a budget nears its limit and the last dollars go
///   where requests still arrive instead of sitting unused in an idle instance.
/// - ``LLMRouter/shutdown()`` returns the unused part of the instance's slices to the fleet.
/// - Requires committed acknowledgement (the default on the SQLite, PostgreSQL and MongoDB
///   stores): a settle returns once its spend is in the store.
///
/// What a crash strands: the unused part of a killed instance's slices stays granted until the
/// period ends (slices are not yet leased with an expiry). It never lets the fleet overspend; it
/// can leave up to one slice per killed instance unspent.
public struct FleetBudgets: Sendable, Hashable {
    /// The share of a budget's ungranted amount one slice takes, in thousandths (1...1000).
    public var slicePermille: Int
    /// The smallest slice taken (a reservation larger than it takes a slice its size).
    public var minimumSlice: Money
    /// Take the next slice in the background once the unused part of the slices falls below
    /// this share of the last slice, in thousandths (0...1000; 0: only when a request needs it).
    public var renewBelowPermille: Int

    /// Creates fleet settings.
    public init(slicePermille: Int = 50, minimumSlice: Money = Money(nanodollars: 10_000_000), renewBelowPermille: Int = 500) {
        self.slicePermille = slicePermille
        self.minimumSlice = minimumSlice
        self.renewBelowPermille = renewBelowPermille
    }

    func validate() throws(RouterError) {
        guard (1...1000).contains(slicePermille), (0...1000).contains(renewBelowPermille), minimumSlice > .zero else {
            throw RouterError(.invalidArgument, "fleet budgets need slicePermille 1...1000, renewBelowPermille 0...1000 and a positive minimumSlice")
        }
    }

    /// The spend counter under which the store keeps the sum of slices granted for `budget`.
    static func grantsCounter(_ budget: BudgetID) -> BudgetID { BudgetID("\(budget.rawValue)#granted") }

    /// The slice to ask for when `ungranted` is left and `needed` is wanted at least.
    func slice(ungranted: Money, needed: Money) -> Money {
        let share = Money(nanodollars: Int64(Int128(ungranted.nanodollars) * Int128(slicePermille) / 1000))
        return max(needed, max(minimumSlice, share))
    }
}
