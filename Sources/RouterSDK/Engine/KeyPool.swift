/// The keys that can serve one model at one provider, with the indexes strategies need.
///
/// Members have pool-local indices (reused after removal). `available` is the dense set of
/// dispatchable members, kept on state changes; scored strategies keep a heap each, built the
/// first time they are used; weighted random keeps a Fenwick tree.
struct KeyPool {
    static let scoredStrategies: [RoutingStrategy] = [.latency, .reliability, .leastUsed, .priority]

    let model: ModelRef
    var info: ModelInfo
    var members: [Int32] = []
    private var freeLocals: [Int32] = []
    private(set) var available: [Int32] = []
    private var availablePosition: [Int32] = []
    var roundRobinCursor = 0
    var weights: FenwickTree?
    var heaps: [IndexedHeap?] = [nil, nil, nil, nil]
    /// Provider- and model-scoped budget accounts.
    var budgetAccounts: [Int32] = []
    var liveMembers = 0

    init(info: ModelInfo) {
        self.model = info.ref
        self.info = info
    }

    static func heapIndex(_ strategy: RoutingStrategy) -> Int? {
        switch strategy {
        case .latency: 0
        case .reliability: 1
        case .leastUsed: 2
        case .priority: 3
        default: nil
        }
    }

    mutating func addMember(slot: Int32) -> Int32 {
        liveMembers += 1
        if let local = freeLocals.popLast() {
            members[Int(local)] = slot
            return local
        }
        members.append(slot)
        availablePosition.append(-1)
        return Int32(members.count - 1)
    }

    /// Removes a member; the caller has already made it unavailable.
    mutating func removeMember(local: Int32) {
        liveMembers -= 1
        members[Int(local)] = -1
        freeLocals.append(local)
    }

    func isAvailable(_ local: Int32) -> Bool { availablePosition[Int(local)] >= 0 }

    /// Adds to the available set; scores for built heaps and the weight come from the caller.
    mutating func makeAvailable(_ local: Int32, weight: Int64, scores: (RoutingStrategy) -> StrategyScore) {
        guard availablePosition[Int(local)] < 0 else { return }
        availablePosition[Int(local)] = Int32(available.count)
        available.append(local)
        weights?.set(Int(local), weight)
        for (index, strategy) in Self.scoredStrategies.enumerated() where heaps[index] != nil {
            heaps[index]!.upsert(local, scores(strategy))
        }
    }

    mutating func makeUnavailable(_ local: Int32) {
        let position = Int(availablePosition[Int(local)])
        guard position >= 0 else { return }
        let last = available.count - 1
        if position != last {
            let moved = available[last]
            available[position] = moved
            availablePosition[Int(moved)] = Int32(position)
        }
        available.removeLast()
        availablePosition[Int(local)] = -1
        weights?.set(Int(local), 0)
        for index in heaps.indices where heaps[index] != nil {
            heaps[index]!.remove(local)
        }
    }

    /// Re-scores a member in every built heap.
    mutating func rescore(_ local: Int32, scores: (RoutingStrategy) -> StrategyScore) {
        guard availablePosition[Int(local)] >= 0 else { return }
        for (index, strategy) in Self.scoredStrategies.enumerated() where heaps[index] != nil {
            heaps[index]!.upsert(local, scores(strategy))
        }
    }

    /// Re-weights a member in the Fenwick tree, if built.
    mutating func reweight(_ local: Int32, weight: Int64) {
        guard availablePosition[Int(local)] >= 0 else { return }
        weights?.set(Int(local), weight)
    }

    /// Builds the heap for `strategy` if it does not exist yet.
    mutating func ensureHeap(_ strategy: RoutingStrategy, scores: (Int32) -> StrategyScore) -> Int {
        let index = Self.heapIndex(strategy)!
        if heaps[index] == nil {
            var heap = IndexedHeap()
            for local in available { heap.upsert(local, scores(local)) }
            heaps[index] = heap
        }
        return index
    }

    /// Builds the weight tree if it does not exist yet.
    mutating func ensureWeights(weight: (Int32) -> Int64) {
        if weights == nil {
            var tree = FenwickTree(capacity: max(members.count, 16))
            for local in available { tree.set(Int(local), weight(local)) }
            weights = tree
        }
    }
}
