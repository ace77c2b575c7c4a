internal import Hummingbird
internal import RouterChat
internal import RouterSDK

extension Gateway {
    /// `/health`: status, version, uptime and the store's state. Always 200 while serving; a
    /// store outage makes the status `degraded` (readiness is the probe that fails).
    func health() -> Response {
        let store = router.storeHealth
        let uptime = ContinuousClock.now - started
        return Self.json(.ok, [
            "status": .string(store.isAvailable ? "ok" : "degraded"), "version": .string(Self.version),
            "uptime_seconds": .integer(uptime.components.seconds),
            "store": ["available": .bool(store.isAvailable), "buffered_records": .integer(Int64(store.bufferedRecords))],
        ])
    }

    /// `/health/ready`: 200 when the store is reachable and some key is available; 503 with the
    /// reasons otherwise.
    func readiness() async -> Response {
        var problems: [JSONValue] = []
        if !router.storeHealth.isAvailable { problems.append("the state store is unreachable") }
        var anyAvailable = false
        for id in await router.keyIDs {
            if (try? await router.state(of: id)) == .available {
                anyAvailable = true
                break
            }
        }
        if !anyAvailable { problems.append("no provider key is available") }
        return Self.json(problems.isEmpty ? .ok : .serviceUnavailable, ["status": .string(problems.isEmpty ? "ready" : "not ready"), "problems": .array(problems)])
    }
}
