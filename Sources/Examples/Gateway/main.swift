// Gateway: an OpenAI-, Anthropic- and Ollama-compatible HTTP server in front of many provider
// keys, with RouterSDK's routing, limits, budgets, failover and cost tracking — point any of
// their clients' base URL at it. Configuration comes from the environment (see
// GatewayConfiguration); secrets never from the command line. scripts/gateway-quickstart.sh
// runs it offline end to end.
//
//     ROUTERSDK_MASTER_KEY=$(head -c32 /dev/urandom | base64) GATEWAY_ADMIN_TOKEN=… \
//     GATEWAY_KEYS='openai-1 openai sk-...' swift run Gateway
//     curl -s localhost:8080/admin/virtual-keys -H "Authorization: Bearer $GATEWAY_ADMIN_TOKEN" -d '{"name": "me"}'
//     curl -s localhost:8080/v1/chat/completions -H 'Authorization: Bearer gk-…' \
//       -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'
//
// SIGTERM or SIGINT: the server stops taking requests and lets those in flight finish (within
// GATEWAY_DRAIN_TIMEOUT_SECONDS), the router writes every buffered record, the store closes.
import AsyncHTTPClient
import Foundation
import GatewayKit
import Hummingbird
import Logging
import Metrics
import Prometheus
import RouterChat
import RouterHTTPClient
import RouterSDK
import RouterStores
import ServiceLifecycle
import UnixSignals

// One Prometheus registry for the gateway's metrics and RouterSDK's (swift-metrics), emitted by
// GET /metrics.
let metrics = GatewayMetrics()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

var logger = Logger(label: "Gateway")
logger.logLevel = ProcessInfo.processInfo.environment["GATEWAY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

let configuration: GatewayConfiguration
do {
    configuration = try GatewayConfiguration(environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("Gateway: \(error)\n".utf8))
    exit(2)
}
if configuration.storeURL.hasPrefix("sqlite:.local/") {
    try FileManager.default.createDirectory(atPath: ".local", withIntermediateDirectories: true)
}
let store = try await StateStores.open(url: configuration.storeURL, logger: logger)
let llm = try LLMRouter(configuration: RouterConfiguration(decisionSampleInterval: configuration.decisionSampleInterval), store: store, logger: logger)
try await llm.restore()
for (provider, url) in configuration.baseURLs {
    guard var info = await llm.catalog.providers[provider] else {
        logger.warning("a base URL is set for a provider the catalog does not know", metadata: ["provider": "\(provider)"])
        continue
    }
    info.baseURL = url
    await llm.setProvider(info)
}
// Every replica registers the same keys: the same key again is adopted, not duplicated.
for key in configuration.keys {
    do {
        try await llm.register(key)
    } catch let error as RouterError where error.code == .duplicateKeyID {
        logger.warning("a different key is stored under this id; keeping the stored one", metadata: ["key": "\(key.id)"])
    }
}

// The shared HTTPClient keeps at most 8 connections a host: a gateway streaming for many
// callers through one provider's host needs as many as it has requests in flight.
var httpConfiguration = HTTPClient.Configuration()
httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.upstreamConnectionsPerHost)
let httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
let client = ChatClient(
    router: llm, transport: HTTPClientTransport(client: httpClient, defaultTimeout: configuration.requestTimeout),
    configuration: .init(requestTimeout: configuration.requestTimeout))
// Gateway keys are fingerprinted under the master key that seals provider secrets; an
// in-memory store (whose keys die with the process) may go without one.
let masterKey = try MasterKey.fromEnvironment() ?? MasterKey.random()
let virtualKeys = configuration.requireVirtualKeys ? VirtualKeys(store: store, masterKey: masterKey) : nil
if virtualKeys == nil { logger.warning("GATEWAY_AUTH=none: clients are not authenticated; only trusted callers may reach this gateway") }
let gateway = Gateway(router: llm, client: client, configuration: configuration, virtualKeys: virtualKeys, metrics: metrics)
let app = Application(
    router: gateway.routes(),
    configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
    onServerRunning: { channel in
        // Tests and scripts read the port (useful with port 0) from this line.
        FileHandle.standardOutput.write(Data("listening on \(configuration.host):\(channel.localAddress?.port ?? configuration.port)\n".utf8))
    },
    logger: logger)

// Reverse order at shutdown: the server first, then the router (drains and writes), then the store.
var groupConfiguration = ServiceGroupConfiguration(
    services: [StateStoreService(store), llm, app],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger)
// Requests and streams still running after the drain timeout are cancelled (their leases are
// released and recorded), so a stuck upstream cannot hold the shutdown.
groupConfiguration.maximumGracefulShutdownDuration = configuration.drainTimeout
let group = ServiceGroup(configuration: groupConfiguration)
try await group.run()
try await httpClient.shutdown().get()
FileHandle.standardOutput.write(Data("shut down cleanly: \(llm.storeHealth.droppedRecords) records dropped\n".utf8))
