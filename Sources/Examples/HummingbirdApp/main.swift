// HummingbirdApp: RouterSDK inside a Hummingbird server, with the store, the router and the HTTP
// server in one swift-service-lifecycle ServiceGroup.
//
// Hummingbird's `Router` and RouterSDK's `LLMRouter` are used side by side without module
// qualification. SIGTERM or SIGINT shuts down in order: the server stops taking requests and
// finishes those in flight, the router drains its leases and writes every buffered record, and
// the store closes last. Offline: the "provider" is a stand-in that charges tokens by length.
//
//     ROUTERSDK_MASTER_KEY=$(head -c32 /dev/urandom | base64) \
//       swift run HummingbirdApp [store-url] [port]      # default: sqlite:.local/hummingbird.db 8080
//     curl -s -XPOST localhost:8080/complete -d 'Say hello'
//     curl -s localhost:8080/health
import Foundation
import Hummingbird
import Logging
import RouterSDK
import RouterStores
import ServiceLifecycle
import UnixSignals

let arguments = CommandLine.arguments.dropFirst()
let storeURL = arguments.first ?? "sqlite:.local/hummingbird.db"
let port = arguments.dropFirst().first.flatMap(Int.init) ?? 8080

var logger = Logger(label: "HummingbirdApp")
logger.logLevel = .notice
if storeURL.hasPrefix("sqlite:") {
    try FileManager.default.createDirectory(atPath: ".local", withIntermediateDirectories: true)
}
let store = try await StateStores.open(url: storeURL, logger: logger)
let llm = try LLMRouter(store: store, logger: logger)
try await llm.restore()

// Two replicas of this app may start together on one store: registering the same key is
// idempotent (the second adopts the stored one); a different key under an existing id is
// `duplicateKeyID`, caught below with the filtered-catch pattern (which compiles and runs).
for index in 1...2 {
    let key = APIKey(id: KeyID("openai-\(index)"), provider: .openai, secret: Secret("sk-demo-\(index)"), models: ["gpt-4o-mini"])
    do {
        try await llm.register(key)
    } catch let error as RouterError where error.code == .duplicateKeyID {
        logger.info("key already registered", metadata: ["key": "\(key.id)"])
    }
}

let router = Router()
router.get("health") { _, _ -> String in
    let health = llm.storeHealth
    return "store \(health.isAvailable ? "available" : "unavailable"), \(health.bufferedRecords) buffered\n"
}
router.post("complete") { request, context -> String in
    let prompt = String(buffer: try await request.body.collect(upTo: 64 * 1024))
    let lease = try await llm.route(RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: prompt.utf8.count / 4 + 1, maxOutputTokens: 64))
    // The provider call would go here, with `lease.secret`; this stand-in answers in 32 tokens.
    let event = try await llm.settle(lease, usage: Usage(inputTokens: prompt.utf8.count / 4 + 1, outputTokens: 32))
    return "\(event.keyID) \(event.cost.nanodollars)\n"
}

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        // Tests and scripts read the port (useful with port 0) from this line.
        FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))
    },
    logger: logger)

// Reverse order at shutdown: the server first, then the router (drains and writes), then the store.
let group = ServiceGroup(configuration: .init(
    services: [StateStoreService(store), llm, app],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger))
try await group.run()
print("shut down cleanly: \(llm.storeHealth.droppedRecords) records dropped")
