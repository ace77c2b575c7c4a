import Foundation
import Logging
import RouterSDK
import SQLiteStateStore
import Testing

/// Every StateStore backend the conformance suite runs against. Live-server backends join this
/// list with their URLs from the environment.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    /// Whether a reopened store sees what an earlier instance wrote.
    var isPersistent: Bool { self != .memory }
}

let quietLogger = Logger(label: "store-tests") { _ in SwiftLogNoOpLogHandler() }

/// A fresh, empty store of one backend, and a way to open it again (a new instance on the same data).
struct StoreFixture: Sendable {
    let backend: Backend
    let directory: URL
    let store: any StateStore

    func reopen() async throws -> any StateStore {
        switch backend {
        case .memory: store
        case .sqlite: try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.db").path, logger: quietLogger)
        }
    }
}

/// Runs `body` with a fresh store of `backend` and removes its files afterwards.
func withStore(_ backend: Backend, _ body: (StoreFixture) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store: any StateStore = switch backend {
    case .memory: InMemoryStateStore()
    case .sqlite: try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.db").path, logger: quietLogger)
    }
    try await body(StoreFixture(backend: backend, directory: directory, store: store))
}

let testMasterKey = try! MasterKey(id: "store-tests", bytes: Array(repeating: UInt8(3), count: 32))
let epoch = Timestamp(secondsSinceEpoch: 1_767_225_600)

func sampleKey(_ id: String, version: Int64 = 1, state: KeyState = .available) throws -> StoredKey {
    let sealer = SecretSealer(current: testMasterKey)
    return StoredKey(
        id: KeyID(id), settings: KeySettings(provider: .openai, models: ["gpt-4o-mini"], weight: 2, tags: ["eu"], limits: KeyLimits(requestsPerMinute: 60)),
        sealedSecret: try sealer.seal(Secret("sk-plaintext-\(id)-SECRETVALUE")), state: state, version: version, updatedAt: epoch)
}

func usage(_ lease: UInt64, key: String, provider: ProviderID = .openai, model: String = "gpt-4o-mini", cost: Int64, tags: [String] = [], at seconds: Int64) -> UsageEvent {
    UsageEvent(
        leaseID: lease, keyID: KeyID(key), model: ModelRef(provider: provider, name: model), inputTokens: 100, outputTokens: 50,
        cost: Money(nanodollars: cost), latencyNanoseconds: lease.isMultiple(of: 2) ? 1_000_000 : nil, outcome: lease.isMultiple(of: 3) ? .failure : .success,
        failure: lease.isMultiple(of: 3) ? "timeout" : nil, tags: tags, at: epoch + .seconds(seconds))
}

/// Expects `body` to throw a `RouterError` with `code`.
@discardableResult
func expectCode<T>(_ code: RouterError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async -> RouterError? {
    do {
        _ = try await body()
        Issue.record("expected RouterError.\(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RouterError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RouterError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
