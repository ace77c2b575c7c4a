/// A strategy's ordering key for one pool member; smaller is better.
struct StrategyScore: Comparable {
    var primary: Int64
    var secondary: Int64
    var local: Int32

    static func < (lhs: StrategyScore, rhs: StrategyScore) -> Bool {
        if lhs.primary != rhs.primary { return lhs.primary < rhs.primary }
        if lhs.secondary != rhs.secondary { return lhs.secondary < rhs.secondary }
        return lhs.local < rhs.local
    }
}

/// A binary min-heap of pool-local indices that supports updating and removing any member in
/// O(log n), so scored strategies keep their best key at the top as scores change.
struct IndexedHeap {
    private var heap: [Int32] = []
    private var scores: [StrategyScore] = []
    private var positions: [Int32] = []

    var count: Int { heap.count }
    var top: Int32? { heap.first }

    func contains(_ local: Int32) -> Bool {
        Int(local) < positions.count && positions[Int(local)] >= 0
    }

    func score(of local: Int32) -> StrategyScore { scores[Int(local)] }

    /// Inserts `local`, or updates its score if present.
    mutating func upsert(_ local: Int32, _ score: StrategyScore) {
        let index = Int(local)
        if index >= positions.count {
            let newCount = max(index + 1, positions.count * 2)
            positions.append(contentsOf: repeatElement(-1, count: newCount - positions.count))
            scores.append(contentsOf: repeatElement(StrategyScore(primary: 0, secondary: 0, local: 0), count: newCount - scores.count))
        }
        if positions[index] >= 0 {
            let old = scores[index]
            scores[index] = score
            let position = Int(positions[index])
            if score < old { siftUp(position) } else { siftDown(position) }
        } else {
            scores[index] = score
            heap.append(local)
            positions[index] = Int32(heap.count - 1)
            siftUp(heap.count - 1)
        }
    }

    mutating func remove(_ local: Int32) {
        guard contains(local) else { return }
        let position = Int(positions[Int(local)])
        let last = heap.count - 1
        if position != last {
            swapAt(position, last)
        }
        heap.removeLast()
        positions[Int(local)] = -1
        if position < heap.count {
            siftDown(position)
            siftUp(position)
        }
    }

    /// Members in score order (slow path only: O(n log n)).
    func sortedMembers() -> [Int32] {
        heap.sorted { scores[Int($0)] < scores[Int($1)] }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        positions[Int(heap[a])] = Int32(a)
        positions[Int(heap[b])] = Int32(b)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard scores[Int(heap[child])] < scores[Int(heap[parent])] else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var best = left
            let right = left + 1
            if right < heap.count, scores[Int(heap[right])] < scores[Int(heap[left])] { best = right }
            guard scores[Int(heap[best])] < scores[Int(heap[parent])] else { return }
            swapAt(best, parent)
            parent = best
        }
    }
}
