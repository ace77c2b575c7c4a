public import RouterSDK

/// Runs `body` and returns the ``RouterSDK/RouterError`` it threw — `nil` when it returned, or
/// threw something else.
///
/// Framework-neutral, so it serves Swift Testing and XCTest alike:
///
/// ```swift
/// let error = await routerError { try await router.route(request) }
/// #expect(error?.code == .noEligibleKey)
/// XCTAssertEqual(error?.code, .budgetExceeded)
/// ```
public func routerError<T>(from body: () async throws -> T) async -> RouterError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? RouterError
    }
}
