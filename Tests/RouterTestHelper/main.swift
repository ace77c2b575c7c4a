// A helper process for the tests that need real OS processes on one store (StoreTests/ProcessTests):
//
//     RouterTestHelper open <store-url>
//         opens (and migrates) the store, prints "opened", exits 0 (1 and the error otherwise).
//     RouterTestHelper settle <store-url> <tasks> [committed|buffered]
//         routes and settles from <tasks> concurrent tasks until killed, writing each lease id to
//         stdout (unbuffered) only after its settle returned: what the parent reads is what was
//         acknowledged. The acknowledgement mode defaults to the router's (committed here).
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
let logger = Logger(label: "helper") { _ in SwiftLogNoOpLogHandler() }

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
    default:
        FileHandle.standardError.write(Data("unknown command \(command)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
