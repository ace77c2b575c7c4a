// A helper process for the tests that need real OS processes on one store (StoreTests/ProcessTests):
//
//     RouterTestHelper open <store-url>
//         opens (and migrates) the store, prints "opened", exits 0 (1 and the error otherwise).
//     RouterTestHelper settle <store-url> <tasks> [committed|buffered]
//         routes and settles from <tasks> concurrent tasks until killed, writing each lease id to
//         stdout (unbuffered) only after its settle returned: what the parent reads is what was
//         acknowledged. The acknowledgement mode defaults to the router's (committed here).
//     RouterTestHelper fleet <store-url> <limit-cents> <tasks> <delay-ms> fleet|solo [<ttl-ms> <patience-ms> <slice-permille>]
//         spends one shared hard budget ("fleet", period total) from <tasks> concurrent tasks,
//         each request costing $0.005 (reserving $0.0073), with <delay-ms> between route and
//         settle (a provider call), until the budget refuses; `fleet` shares it
//         (RouterConfiguration.fleet), `solo` enforces it alone as before. Prints "ready" once set
//         up and starts spending when a line arrives on stdin (so all processes start together),
//         prints "first" after its first settle; then shuts down (returning unused slices) and
//         prints "done <settled> <nanodollars>". With <patience-ms>, a task the budget refuses
//         tries again every 100 ms until that long has passed without a settle (so slices
//         reclaimed from a killed process get used); <ttl-ms> and <slice-permille> set the
//         fleet's lease TTL and slice size. Prints "store-unavailable" and "store-recovered" as
//         the router reports its store's health change.
//     RouterTestHelper ratelimit <store-url> <rpm> <tasks> <seconds> <scale> <origin-ms> <grant-lifetime-ms> [solo]
//         sends requests on one key whose requests-per-minute limit (<rpm>) is shared with the
//         fleet, from <tasks> concurrent tasks, for <seconds> of a clock running <scale> times
//         faster than real time from <origin-ms> (wall milliseconds; every process of a run gets
//         the same origin, so their clocks agree). A task the limit refuses waits until the
//         refusal's earliest retry. Prints "ready", starts on a line on stdin, then (after
//         shutdown) one line "sent <ms>" per request with its decision time on that clock, and
//         "done <count>". Grants last <grant-lifetime-ms> of that clock. `solo`: the limit is
//         this process's alone (no fleet rate limits).
//     RouterTestHelper keysync <store-url> breaker|watcher <interval-ms>
//         two instances of one fleet (key sync every <interval-ms>) with keys "sync-a" and
//         "sync-b". The watcher prints "ready", then waits until it sees sync-a invalid and sync-b
//         throttled, printing "invalid <ms>" and "throttled <ms> <until-ns>" as it does (wall
//         milliseconds; gives up after 30 s). The breaker reports a rejected credential on
//         sync-a and a 429 with retry-after 60 s on sync-b, printing "invalidated <ms>" and
//         "throttled <ms> <until-ns>" once each is stored.
import Foundation
import Logging
import RouterSDK
import RouterStores

let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first, arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: RouterTestHelper open|settle <store-url> [tasks]\n".utf8))
    exit(2)
}
let url = arguments[arguments.startIndex + 1]
// ROUTERSDK_HELPER_LOG=1 sends the router's log lines to stderr (for diagnosing a run by hand).
let logger = ProcessInfo.processInfo.environment["ROUTERSDK_HELPER_LOG"] == nil
    ? Logger(label: "helper") { _ in SwiftLogNoOpLogHandler() }
    : { var logger = Logger(label: "helper-\(getpid())") { StreamLogHandler.standardError(label: $0) }; logger.logLevel = .debug; return logger }()

do {
    let store = try await StateStores.open(url: url, logger: logger)
    switch command {
    case "open":
        try await store.ping()
        print("opened")
    case "settle":
        let tasks = arguments.count > 2 ? Int(arguments[arguments.startIndex + 2]) ?? 64 : 64
        let master = try MasterKey(id: "helper", bytes: Array(repeating: 5, count: 32))
        var configuration = RouterConfiguration(masterKey: master)
        if arguments.count > 3, arguments[arguments.startIndex + 3] == "buffered" { configuration.persistence.acknowledgement = .buffered }
        let router = try LLMRouter(configuration: configuration, store: store, logger: logger)
        try await router.register(APIKey(id: KeyID("helper-\(getpid())"), provider: .openai, secret: "sk-helper", models: ["gpt-4o-mini"]))
        // A budget whose spend counter the parent compares with the ledger after the kill.
        try await router.setBudget(Budget(id: "helper-total", period: .total, limit: Money(dollars: 1_000_000)))
        let out = FileHandle.standardOutput
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    while true {
                        guard let lease = try? await router.route(RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 100, maxOutputTokens: 50)),
                            (try? await router.settle(lease, usage: Usage(inputTokens: 90, outputTokens: 40))) != nil
                        else { continue }
                        out.write(Data("\(lease.id)\n".utf8))
                    }
                }
            }
        }
    case "fleet":
        guard arguments.count >= 6, let cents = Int64(arguments[arguments.startIndex + 2]), let tasks = Int(arguments[arguments.startIndex + 3]),
            let delay = Int(arguments[arguments.startIndex + 4])
        else {
            FileHandle.standardError.write(Data("usage: RouterTestHelper fleet <store-url> <limit-cents> <tasks> <delay-ms> fleet|solo\n".utf8))
            exit(2)
        }
        let shared = arguments[arguments.startIndex + 5] == "fleet"
        func optional(_ offset: Int) -> Int? { arguments.count > offset ? Int(arguments[arguments.startIndex + offset]) : nil }
        // Named after the process, so the parent can find a killed one's counter.
        var fleet = FleetBudgets(instanceID: "pid\(getpid())")
        if let ttl = optional(6) { fleet.leaseTimeToLive = .milliseconds(ttl) }
        let patience = Duration.milliseconds(optional(7) ?? 0)
        if let permille = optional(8) { fleet.slicePermille = permille }
        let master = try MasterKey(id: "helper", bytes: Array(repeating: 5, count: 32))
        var catalog = try ModelCatalog.bundled()
        // $100 per million tokens: a request of 30 + 20 tokens costs $0.005.
        try catalog.setModel(ModelInfo(
            ref: ModelRef(provider: .openai, name: "fleet-model"),
            price: ModelPrice(inputPerMillion: Money(dollars: 100), outputPerMillion: Money(dollars: 100)), contextWindow: 100_000, maxOutputTokens: 1_000))
        let router = try LLMRouter(
            configuration: RouterConfiguration(masterKey: master, fleet: shared ? fleet : nil), catalog: catalog, store: store, logger: logger)
        // Every process registers the same key, as replicas with one configuration do.
        try await router.register(APIKey(id: "fleet-shared", provider: .openai, secret: "sk-helper", models: ["fleet-model"]))
        try await router.setBudget(Budget(id: "fleet", period: .total, limit: Money(nanodollars: cents * 10_000_000)))
        let request = RouteRequest(model: "fleet-model", estimatedInputTokens: 30, maxOutputTokens: 40)
        // Store health changes, for the fleet outage test: one line each, as they happen.
        let events = await router.events()
        let health = Task {
            for await event in events where event.kind == .storeUnavailable || event.kind == .storeRecovered {
                try? FileHandle.standardOutput.write(contentsOf: Data((event.kind == .storeUnavailable ? "store-unavailable\n" : "store-recovered\n").utf8))
            }
        }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        _ = readLine()
        let deadline = ContinuousClock.now + .seconds(120)
        let progress = Progress()
        let settled = await withTaskGroup(of: (Int, Int64).self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var count = 0
                    var spent: Int64 = 0
                    while ContinuousClock.now < deadline {
                        let lease: Lease
                        do {
                            lease = try await router.route(request)
                        } catch let error as RouterError where error.code == .budgetExceeded {
                            guard ContinuousClock.now - progress.lastSettle < patience else { break }
                            try? await Task.sleep(for: .milliseconds(100))
                            continue
                        } catch {
                            continue
                        }
                        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                        if let event = try? await router.settle(lease, usage: Usage(inputTokens: 30, outputTokens: 20)) {
                            count += 1
                            spent += event.cost.nanodollars
                            progress.settled()
                        }
                    }
                    return (count, spent)
                }
            }
            var total = (0, Int64(0))
            for await (count, spent) in group { total = (total.0 + count, total.1 + spent) }
            return total
        }
        try await router.shutdown()
        await health.value
        print("done \(settled.0) \(settled.1)")
    case "ratelimit":
        guard arguments.count >= 8, let rpm = Int(arguments[arguments.startIndex + 2]), let tasks = Int(arguments[arguments.startIndex + 3]),
            let seconds = Int64(arguments[arguments.startIndex + 4]), let scale = Int64(arguments[arguments.startIndex + 5]),
            let origin = Int64(arguments[arguments.startIndex + 6]), let lifetime = Int64(arguments[arguments.startIndex + 7])
        else {
            FileHandle.standardError.write(Data("usage: RouterTestHelper ratelimit <store-url> <rpm> <tasks> <seconds> <scale> <origin-ms> <grant-lifetime-ms> [solo]\n".utf8))
            exit(2)
        }
        let solo = arguments.count > 8 && arguments[arguments.startIndex + 8] == "solo"
        let clock = ScaledClock(origin: Timestamp(nanosecondsSinceEpoch: origin * 1_000_000), scale: scale)
        let master = try MasterKey(id: "helper", bytes: Array(repeating: 5, count: 32))
        let router = try LLMRouter(
            configuration: RouterConfiguration(masterKey: master, fleet: FleetBudgets(instanceID: "pid\(getpid())", rateLimits: solo ? nil : FleetRateLimits(grantLifetime: .milliseconds(lifetime)),
                // Nobody changes the key; a sync every 2 s of a 30× clock would only load the store.
                keySyncInterval: nil)),
            store: store, clock: clock, logger: logger)
        try await router.register(APIKey(
            id: "rate-shared", provider: .openai, secret: "sk-helper", models: ["gpt-4o-mini"], limits: KeyLimits(requestsPerMinute: rpm)))
        let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 10, maxOutputTokens: 10)
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        _ = readLine()
        let end = clock.now() + .seconds(seconds)
        let sent = await withTaskGroup(of: [Int64].self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var sent: [Int64] = []
                    while clock.now() < end {
                        do {
                            let lease = try await router.route(request)
                            sent.append(lease.issuedAt.millisecondsSinceEpoch)
                            _ = try? await router.settle(lease, usage: Usage(inputTokens: 10, outputTokens: 10))
                        } catch let error as RouterError where error.code == .noEligibleKey {
                            // Wait for the earliest retry (at least a scaled 100 ms, at most until the end).
                            let retry = max(error.noEligibleKey?.earliestRetry ?? clock.now(), clock.now() + .milliseconds(100))
                            try? await clock.sleep(until: min(retry, end))
                        } catch {
                            FileHandle.standardError.write(Data("route failed: \(error)\n".utf8))
                            try? await clock.sleep(until: clock.now() + .milliseconds(100))
                        }
                    }
                    return sent
                }
            }
            var all: [Int64] = []
            for await times in group { all += times }
            return all
        }
        try await router.shutdown()
        print(sent.map { "sent \($0)" }.joined(separator: "\n"))
        print("done \(sent.count)")
    case "keysync":
        guard arguments.count >= 4, let interval = Int64(arguments[arguments.startIndex + 3]) else {
            FileHandle.standardError.write(Data("usage: RouterTestHelper keysync <store-url> breaker|watcher <interval-ms>\n".utf8))
            exit(2)
        }
        let master = try MasterKey(id: "helper", bytes: Array(repeating: 5, count: 32))
        let fleet = FleetBudgets(instanceID: "pid\(getpid())", keySyncInterval: .milliseconds(interval))
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: master, fleet: fleet), store: store, logger: logger)
        for id in ["sync-a", "sync-b"] {
            try await router.register(APIKey(id: KeyID(id), provider: .openai, secret: Secret("sk-helper-\(id)"), models: ["gpt-4o-mini"]))
        }
        func ms() -> Int64 { SystemClock().now().millisecondsSinceEpoch }
        // Unbuffered: the parent reads each line as it is printed.
        func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if arguments[arguments.startIndex + 2] == "breaker" {
            for (id, failure) in [("sync-a", ProviderFailure.authInvalid), ("sync-b", .rateLimited(retryAfter: .seconds(60)))] {
                var request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 10, maxOutputTokens: 10)
                request.excludedKeys = [id == "sync-a" ? "sync-b" : "sync-a"]
                try await router.release(try await router.route(request), failure: failure)
                await router.flush()
                let state = try await router.state(of: KeyID(id))
                say(id == "sync-a" ? "invalidated \(ms())" : "throttled \(ms()) \(state.cooldownDeadline?.nanosecondsSinceEpoch ?? 0)")
            }
        } else {
            say("ready")
            var sawInvalid = false
            var sawThrottle = false
            let giveUp = ms() + 30_000
            while !(sawInvalid && sawThrottle), ms() < giveUp {
                if !sawInvalid, try await router.state(of: "sync-a") == .invalid {
                    sawInvalid = true
                    say("invalid \(ms())")
                }
                if !sawThrottle, let until = try await router.state(of: "sync-b").cooldownDeadline {
                    sawThrottle = true
                    say("throttled \(ms()) \(until.nanosecondsSinceEpoch)")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        try await router.shutdown()
    default:
        FileHandle.standardError.write(Data("unknown command \(command)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

/// When the last settle of any task happened; prints "first" on the first.
final class Progress: @unchecked Sendable {
    // NSLock rather than Mutex: this helper also runs under the thread sanitizer.
    private let lock = NSLock()
    private var last = ContinuousClock.now
    private var any = false

    var lastSettle: ContinuousClock.Instant { lock.withLock { last } }

    func settled() {
        let first = lock.withLock { () -> Bool in
            defer { (last, any) = (ContinuousClock.now, true) }
            return !any
        }
        if first { FileHandle.standardOutput.write(Data("first\n".utf8)) }
    }
}

/// Real time running `scale` times faster from `origin`: the same in every process given the
/// same origin (a minute-long rate window passes in seconds).
struct ScaledClock: RouterClock {
    let origin: Timestamp
    let scale: Int64
    private let system = SystemClock()

    func now() -> Timestamp {
        origin + (system.now() - origin) * Int(scale)
    }

    func monotonicNow() -> Duration {
        system.monotonicNow() * Int(scale)
    }

    func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline - now()
        if remaining > .zero { try await Task.sleep(for: remaining / Int(scale)) }
    }
}
