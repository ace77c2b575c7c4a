internal import Foundation
package import RouterSDK

// Sample records the checks write and read back; `package` so the package's own store tests
// use the same ones.

package let testMasterKey = try! MasterKey(id: "conformance", bytes: Array(repeating: UInt8(3), count: 32))
/// 2026-01-01T00:00:00Z: every record is stamped relative to it.
package let epoch = Timestamp(secondsSinceEpoch: 1_767_225_600)

package func sampleKey(_ id: String, version: Int64 = 1, state: KeyState = .available) throws -> StoredKey {
    let sealer = SecretSealer(current: testMasterKey)
    return StoredKey(
        id: KeyID(id), settings: KeySettings(provider: .openai, models: ["gpt-4o-mini"], weight: 2, tags: ["eu"], limits: KeyLimits(requestsPerMinute: 60)),
        sealedSecret: try sealer.seal(Secret("sk-plaintext-\(id)-SECRETVALUE")), state: state, version: version, updatedAt: epoch)
}

package func usage(
    _ lease: UInt64, key: String, provider: ProviderID = .openai, model: String = "gpt-4o-mini", input: Int = 100, output: Int = 50, cost: Int64, tags: [String] = [],
    at seconds: Int64
) -> UsageEvent {
    UsageEvent(
        leaseID: lease, keyID: KeyID(key), model: ModelRef(provider: provider, name: model), inputTokens: input, outputTokens: output,
        cost: Money(nanodollars: cost), latencyNanoseconds: lease.isMultiple(of: 2) ? 1_000_000 : nil, outcome: lease.isMultiple(of: 3) ? .failure : .success,
        failure: lease.isMultiple(of: 3) ? "timeout" : nil, tags: tags, at: epoch + .seconds(seconds))
}

/// A second instance on the subject's data, or a failure saying the check needs one.
func reopenOrFail(_ subject: StateStoreConformance.Subject) async throws -> any StateStore {
    guard let reopen = subject.reopen else {
        throw StateStoreConformance.Failure(check: "", message: "this check needs Subject.reopen (skip it for stores that do not persist)")
    }
    return try await reopen()
}
