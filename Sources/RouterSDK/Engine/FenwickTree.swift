/// A Fenwick (binary indexed) tree of non-negative weights: O(log n) updates and weighted
/// sampling for the weighted-random strategy.
struct FenwickTree {
    private var tree: [Int64]
    private var values: [Int64]
    private(set) var total: Int64 = 0

    init(capacity: Int) {
        tree = Array(repeating: 0, count: max(capacity, 1) + 1)
        values = Array(repeating: 0, count: max(capacity, 1))
    }

    var capacity: Int { values.count }

    mutating func set(_ index: Int, _ value: Int64) {
        if index >= values.count { grow(to: max(index + 1, values.count * 2)) }
        let delta = value - values[index]
        guard delta != 0 else { return }
        values[index] = value
        total += delta
        var i = index + 1
        while i < tree.count {
            tree[i] += delta
            i += i & -i
        }
    }

    /// The index whose cumulative range contains `target` (0 ≤ target < total).
    func find(_ target: Int64) -> Int {
        var position = 0
        var remaining = target
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            let next = position + step
            if next < tree.count, tree[next] <= remaining {
                position = next
                remaining -= tree[next]
            }
            step /= 2
        }
        return position
    }

    private mutating func grow(to capacity: Int) {
        let old = values
        tree = Array(repeating: 0, count: capacity + 1)
        values = Array(repeating: 0, count: capacity)
        total = 0
        for (index, value) in old.enumerated() where value != 0 { set(index, value) }
    }
}

/// SplitMix64: a tiny, fast, seedable generator, so weighted-random routing and simulations are
/// reproducible. Not for anything security-related.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; the same seed gives the same sequence.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
