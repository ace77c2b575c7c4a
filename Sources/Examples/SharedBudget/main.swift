// Several router processes, one store, one hard budget: the fleet never spends more than it.
//
//     swift run SharedBudget [store-url] [processes] [budget-dollars]
//
// Starts <processes> copies of itself (4 by default) against one store (a fresh SQLite file by
// default; a postgres:// or mongodb:// URL works the same), each routing and settling from 16
// tasks through a simulated provider until the shared budget ($5 by default) refuses, and
// prints what each spent and what they spent together. With `RouterConfiguration.fleet` each
// process spends only slices of the budget the store granted it.
import Foundation
import Logging
import RouterSDK
import RouterStores

let quiet = Logger(label: "shared-budget") { _ in SwiftLogNoOpLogHandler() }
let budgetID: BudgetID = "shared"
let arguments = Array(CommandLine.arguments.dropFirst())

/// $100 per million tokens: a request of 30 + 20 tokens costs $0.005.
func demoCatalog() throws -> ModelCatalog {
    var catalog = try ModelCatalog.bundled()
    try catalog.setModel(ModelInfo(
        ref: ModelRef(provider: .openai, name: "demo-model"),
        price: ModelPrice(inputPerMillion: Money(dollars: 100), outputPerMillion: Money(dollars: 100)), contextWindow: 100_000, maxOutputTokens: 1_000))
    return catalog
}

/// One process of the fleet: spends the shared budget until it refuses, then reports.
func child(url: String, limit: Money) async throws {
    let store = try await StateStores.open(url: url, logger: quiet)
    let configuration = RouterConfiguration(masterKey: try MasterKey.fromEnvironment(), fleet: FleetBudgets())
    let router = try LLMRouter(configuration: configuration, catalog: try demoCatalog(), store: store, logger: quiet)
    // Every replica starts with the same configuration: registering it again is idempotent.
    try await router.register(APIKey(id: "demo-key", provider: .openai, secret: "sk-demo-shared-budget", models: ["demo-model"]))
    try await router.setBudget(Budget(id: budgetID, period: .total, limit: limit))
    let request = RouteRequest(model: "demo-model", estimatedInputTokens: 30, maxOutputTokens: 40)
    let settled = await withTaskGroup(of: (Int, Money).self) { group in
        for _ in 0..<16 {
            group.addTask {
                var count = 0
                var spent = Money.zero
                while let lease = try? await router.route(request) {
                    try? await Task.sleep(for: .milliseconds(1))  // the provider call
                    if let event = try? await router.settle(lease, usage: Usage(inputTokens: 30, outputTokens: 20)) {
                        count += 1
                        spent += event.cost
                    }
                }
                return (count, spent)
            }
        }
        var total = (0, Money.zero)
        for await (count, spent) in group { total = (total.0 + count, total.1 + spent) }
        return total
    }
    try await router.shutdown()
    await store.close()
    print("\(getpid()) \(settled.0) \(settled.1.nanodollars)")
}

/// Starts the children, waits for them, and prints the table.
func parent(url: String, processes: Int, limit: Money) async throws {
    // The children seal the key's secret with one master key; a real fleet shares it the same way.
    var bytes = [UInt8](repeating: 0, count: 32)
    var generator = SystemRandomNumberGenerator()
    for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
    var environment = ProcessInfo.processInfo.environment
    environment["ROUTERSDK_MASTER_KEY"] = Data(bytes).base64EncodedString()
    // Open (and migrate) the store once before the children start.
    let store = try await StateStores.open(url: url, logger: quiet)
    // Only the scheme: a database URL may carry a password.
    print("\(processes) processes share a \(limit) hard budget on one \(url.split(separator: ":").first ?? "") store")
    let childEnvironment = environment
    let executable = CommandLine.arguments[0]
    let results = try await withThrowingTaskGroup(of: String.self) { group in
        for _ in 0..<processes {
            group.addTask { try await run(executable, ["--child", url, String(limit.nanodollars)], environment: childEnvironment) }
        }
        return try await group.reduce(into: [String]()) { $0.append($1) }
    }
    var combined = Money.zero
    for line in results.sorted() {
        let fields = line.split(separator: " ")
        guard fields.count == 3, let count = Int(fields[1]), let nanodollars = Int64(fields[2]) else {
            print("a process failed: \(line)")
            continue
        }
        combined += Money(nanodollars: nanodollars)
        print("  process \(fields[0]): \(count) requests, \(Money(nanodollars: nanodollars))")
    }
    let stored = try await store.spend(of: budgetID, periodStart: Timestamp(nanosecondsSinceEpoch: 0))
    await store.close()
    print("together: \(combined) settled (the store's counter: \(stored)) of \(limit) — \(stored <= limit ? "never over" : "OVER THE LIMIT")")
    if stored > limit { exit(1) }
}

/// Runs a process to its end and returns its output, without blocking a thread of the pool.
func run(_ executable: String, _ arguments: [String], environment: [String: String]) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    let reader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    let text = String(decoding: await reader.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return status == 0 ? text : "exit \(status): \(text)"
}

do {
    if arguments.first == "--child", arguments.count == 3, let nanodollars = Int64(arguments[2]) {
        try await child(url: arguments[1], limit: Money(nanodollars: nanodollars))
    } else {
        let url = arguments.first ?? "sqlite://" + FileManager.default.temporaryDirectory.appendingPathComponent("shared-budget-\(getpid()).db").path
        let processes = arguments.count > 1 ? Int(arguments[1]) ?? 4 : 4
        let dollars = arguments.count > 2 ? Int64(arguments[2]) ?? 5 : 5
        try await parent(url: url, processes: max(1, processes), limit: Money(dollars: dollars))
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
