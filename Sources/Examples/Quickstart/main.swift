// Quickstart: route thousands of requests through a pool of keys at simulated providers, offline.
//
// Three OpenAI keys (one hits 429 bursts with Retry-After, one is invalid), two Anthropic keys and
// a local Ollama model, a $2.00 daily budget, 2,500 requests from 32 concurrent tasks through
// `LLMRouter.execute` with failover, then a per-key summary.
//
// State lives in an SQLite file (.local/quickstart.db, or the path in ROUTERSDK_QUICKSTART_DB):
// run it twice and the second run starts from the first run's keys, key states and spend, until
// the daily budget runs out. It links only the SQLite store, so it needs libsqlite3 and nothing
// the PostgreSQL or MongoDB stores need (scripts/quickstart.sh installs what is missing).
//
//     scripts/quickstart.sh           # default: 2,500 requests (or: swift run Quickstart)
//     scripts/quickstart.sh 20000     # more
//     rm -rf .local                   # start over
import Foundation
import Logging
import RouterSDK
import RouterTesting
import SQLiteStateStore

let totalRequests = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 2_500
let concurrency = 32

var logger = Logger(label: "Quickstart")
logger.logLevel = .error  // the summary below tells the story; warnings would interleave with it
let stateDirectory = URL(fileURLWithPath: ".local", isDirectory: true)
try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
let storePath = ProcessInfo.processInfo.environment["ROUTERSDK_QUICKSTART_DB"] ?? ".local/quickstart.db"
let store = try await SQLiteStateStore.open(path: storePath, logger: logger)
let router = try LLMRouter(
    configuration: RouterConfiguration(strategy: .cost, masterKey: try demoMasterKey(in: stateDirectory)), store: store, logger: logger)
try await router.restore()
let restoredKeys = await router.keyIDs
let provider = SimulatedProvider(seed: 2026)
let fast: ClosedRange<Duration> = .milliseconds(1) ... .milliseconds(4)

let keys: [(APIKey, SimulatedBehavior)] = [
    (APIKey(id: "openai-primary", provider: .openai, secret: "sk-sim-openai-1", models: ["gpt-4o-mini", "gpt-4o"], limits: KeyLimits(requestsPerMinute: 3_000)),
     SimulatedBehavior(latency: fast, rateLimitEvery: 400, rateLimitBurst: 3, retryAfter: .milliseconds(300), outputTokens: 180)),
    (APIKey(id: "openai-secondary", provider: .openai, secret: "sk-sim-openai-2", models: ["gpt-4o-mini", "gpt-4o"], limits: KeyLimits(requestsPerMinute: 3_000)),
     SimulatedBehavior(latency: fast, serverErrorPPM: 5_000, outputTokens: 180)),
    (APIKey(id: "openai-revoked", provider: .openai, secret: "sk-sim-openai-revoked", models: ["gpt-4o-mini"]),
     SimulatedBehavior(latency: fast, invalidCredential: true)),
    (APIKey(id: "anthropic-a", provider: .anthropic, secret: "sk-ant-sim-a", models: ["claude-haiku-4-5"], limits: KeyLimits(maxConcurrentRequests: 8)),
     SimulatedBehavior(latency: .milliseconds(2) ... .milliseconds(6), outputTokens: 220)),
    (APIKey(id: "anthropic-b", provider: .anthropic, secret: "sk-ant-sim-b", models: ["claude-haiku-4-5"], limits: KeyLimits(maxConcurrentRequests: 8)),
     SimulatedBehavior(latency: .milliseconds(2) ... .milliseconds(6), rateLimitEvery: 250, rateLimitBurst: 2, retryAfter: .milliseconds(500), outputTokens: 220)),
    (APIKey(id: "ollama-local", provider: .ollama, secret: "", models: ["llama3.2"]),
     SimulatedBehavior(latency: .milliseconds(5) ... .milliseconds(12), outputTokens: 150)),
]
for (key, behavior) in keys {
    if !restoredKeys.contains(key.id) { try await router.register(key) }
    provider.setBehavior(behavior, forSecret: key.secret)
}
let budget = Budget(id: "daily", period: .day, limit: Money(dollars: 2), alertThresholds: [50, 80, 100])
try await router.setBudget(budget)
let carriedOver = try await router.budgetStatus("daily").spent
if restoredKeys.isEmpty {
    print("fresh state in \(storePath)")
} else {
    print("restored \(restoredKeys.count) keys from \(storePath); \(carriedOver) already spent today")
}

let events = await router.events()  // subscribe before the first request, so no event is missed
let alerts = Task {
    var lines: [String] = []
    for await event in events {
        // Events are a kind plus the details that kind documents; new kinds may come, hence `default`.
        switch (event.kind, event.budgetAlert, event.transition) {
        case (.budgetThresholdCrossed, let alert?, _): lines.append("budget '\(alert.budgetID)' passed \(alert.percent)% (\(alert.spent) of \(alert.limit))")
        case (.keyStateChanged, _, let t?) where t.to == .invalid: lines.append("key \(t.keyID) marked invalid (\(t.reason))")
        case (.budgetExhausted, let alert?, _): lines.append("budget '\(alert.budgetID)' exhausted at \(alert.spent)")
        default: break
        }
    }
    return lines
}

/// Mixed traffic: mostly cheap chat, some premium, some local.
func request(_ index: Int) -> RouteRequest {
    let input = 200 + (index * 37) % 1_800
    switch index % 20 {
    case 0: return RouteRequest(model: "gpt-4o", estimatedInputTokens: input, maxOutputTokens: 400, tags: ["tenant-premium"])
    case 1, 2: return RouteRequest(model: "llama3.2", estimatedInputTokens: input, maxOutputTokens: 300)
    default: return RouteRequest(models: ["gpt-4o-mini", "claude-haiku-4-5"], estimatedInputTokens: input, maxOutputTokens: 300, tags: ["tenant-\(index % 5)"])
    }
}

let started = ContinuousClock.now
let progress = ProgressBar(total: totalRequests)
var outcomes: [String: Int] = [:]
await withTaskGroup(of: String.self) { group in
    var next = 0
    func submit() {
        let index = next
        next += 1
        group.addTask {
            var routeRequest = request(index)
            routeRequest.deadline = router.clock.now() + .seconds(5)
            let (input, output) = (routeRequest.estimatedInputTokens, routeRequest.maxOutputTokens)
            do {
                _ = try await router.execute(routeRequest, options: ExecuteOptions(maxAttempts: 3, waitForCooldown: true)) { lease in
                    try await provider.complete(lease, inputTokens: input, maxOutputTokens: output)
                }
                return "ok"
            } catch let error as RouterError {
                return "\(error.code)"
            } catch {
                return "\(error)"
            }
        }
    }
    for _ in 0..<min(concurrency, totalRequests) { submit() }
    for await outcome in group {
        outcomes[outcome, default: 0] += 1
        progress.advance()
        if next < totalRequests { submit() }
    }
}
progress.finish()
let elapsed = ContinuousClock.now - started
try await router.shutdown()

print("\n\(totalRequests) requests in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .abbreviated))) — " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
print("")
var table = [["key", "provider", "requests", "failures", "state", "spend (this run)"]]
for (key, _) in keys {
    let quota = try await router.quota(of: key.id)
    table.append([key.id.rawValue, key.settings.provider.rawValue, "\(quota.requests)", "\(quota.failures)", quota.state.name, quota.spend.description])
}
printTable(table)
let status = try await router.budgetStatus("daily")
print("\nbudget '\(status.budget.id)': spent \(status.spent) of \(status.budget.limit), \(status.remaining) left today")
for line in await alerts.value { print("  • \(line)") }
