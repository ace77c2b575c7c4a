internal import RouterSDK

/// Throws a ``StateStoreConformance/Failure`` unless `actual == expected` (the check's name is
/// filled in by ``StateStoreConformance/Check/run(_:)``).
func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String) throws {
    guard actual == expected else {
        throw StateStoreConformance.Failure(check: "", message: "\(what): expected \(expected), got \(actual)")
    }
}

/// Throws a failure unless `body` throws a `RouterError` with `code`.
func expectCode<T>(_ code: RouterError.Code, _ what: String, _ body: () async throws -> T) async throws {
    do {
        _ = try await body()
    } catch let error as RouterError {
        guard error.code == code else {
            throw StateStoreConformance.Failure(check: "", message: "\(what): expected RouterError.\(code), got \(error)")
        }
        return
    } catch {
        throw StateStoreConformance.Failure(check: "", message: "\(what): expected RouterError.\(code), got \(error)")
    }
    throw StateStoreConformance.Failure(check: "", message: "\(what): expected RouterError.\(code), nothing was thrown")
}
