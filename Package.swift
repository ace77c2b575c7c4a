// swift-tools-version: 6.1
import PackageDescription

/// Settings every target of ours shares: Swift 6 mode plus the upcoming features the best
/// server packages enable, so imports and existentials stay explicit.
let sharedSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "RouterSDK",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RouterSDK", targets: ["RouterSDK"]),
        .library(name: "RouterChat", targets: ["RouterChat"]),
        .library(name: "RouterHTTPClient", targets: ["RouterHTTPClient"]),
        .library(name: "RouterTesting", targets: ["RouterTesting"]),
        .library(name: "SQLiteStateStore", targets: ["SQLiteStateStore"]),
        .library(name: "PostgresStateStore", targets: ["PostgresStateStore"]),
        .library(name: "MongoStateStore", targets: ["MongoStateStore"]),
        .library(name: "RouterStores", targets: ["RouterStores"]),
        .library(name: "StateStoreConformance", targets: ["StateStoreConformance"]),
        .executable(name: "Quickstart", targets: ["Quickstart"]),
        .executable(name: "HummingbirdApp", targets: ["HummingbirdApp"]),
        .executable(name: "SharedBudget", targets: ["SharedBudget"]),
        .executable(name: "FakeUpstream", targets: ["FakeUpstream"]),
        .executable(name: "Gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "RouterSDK",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            resources: [.copy("Resources/model-catalog.json")],
            swiftSettings: sharedSwiftSettings
        ),
        // ChatClient, the unified chat request and the OpenAI/Anthropic/Gemini wire formats.
        .target(
            name: "RouterChat",
            dependencies: [
                "RouterSDK",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "RouterHTTPClient",
            dependencies: [
                "RouterSDK",
                "RouterChat",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "RouterTesting",
            dependencies: [
                "RouterSDK",
                "RouterChat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/Stores/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "SQLiteStateStore",
            dependencies: ["RouterSDK", "StoreSupport", "CSQLite", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Stores/SQLite",
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "StoreSupport",
            dependencies: ["RouterSDK"],
            path: "Sources/Stores/StoreSupport",
            swiftSettings: sharedSwiftSettings
        ),
        .systemLibrary(
            name: "CPostgres",
            path: "Sources/Stores/CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "PostgresStateStore",
            dependencies: ["RouterSDK", "StoreSupport", "CPostgres", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Stores/Postgres",
            swiftSettings: sharedSwiftSettings
        ),
        .systemLibrary(
            name: "CMongo",
            path: "Sources/Stores/CMongo",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev"])]
        ),
        .target(
            name: "MongoStateStore",
            dependencies: ["RouterSDK", "StoreSupport", "CMongo", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Stores/Mongo",
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "RouterStores",
            dependencies: ["RouterSDK", "SQLiteStateStore", "PostgresStateStore", "MongoStateStore", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Stores/RouterStores",
            swiftSettings: sharedSwiftSettings
        ),
        // The StateStore contract as runnable checks, for every backend including third parties'.
        .target(
            name: "StateStoreConformance",
            dependencies: ["RouterSDK"],
            path: "Sources/Stores/Conformance",
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "Quickstart",
            // Only the SQLite store: the first README command must not need libpq or libmongoc
            // (scripts/check-quickstart.sh proves it in CI).
            dependencies: ["RouterSDK", "RouterTesting", "SQLiteStateStore", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Examples/Quickstart",
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "SharedBudget",
            dependencies: ["RouterSDK", "RouterStores", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Examples/SharedBudget",
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "HummingbirdApp",
            dependencies: [
                "RouterSDK",
                "RouterStores",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Examples/HummingbirdApp",
            swiftSettings: sharedSwiftSettings
        ),
        // The gateway's HTTP API (OpenAI-compatible routes, health), tested in-process.
        .target(
            name: "GatewayKit",
            dependencies: [
                "RouterSDK",
                "RouterChat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Examples/GatewayKit",
            resources: [.copy("Admin/admin-openapi.json")],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "GatewayKit",
                "RouterSDK",
                "RouterChat",
                "RouterHTTPClient",
                "RouterStores",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Examples/Gateway",
            swiftSettings: sharedSwiftSettings
        ),
        // An offline provider stand-in for the gateway's quick start and load benchmark.
        .executableTarget(
            name: "FakeUpstream",
            dependencies: ["RouterTesting", "RouterChat"],
            path: "Sources/Examples/FakeUpstream",
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "GatewayKit",
                "RouterSDK",
                "RouterChat",
                "RouterTesting",
                "RouterHTTPClient",
                "PythonScripts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "RouterSDKTests",
            dependencies: [
                "RouterSDK",
                "RouterChat",
                "RouterTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        // Runs scripts/*.py with the official client SDKs from .local/venv, for two test targets.
        .target(name: "PythonScripts", path: "Tests/PythonScripts", swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "ProviderTests",
            dependencies: ["RouterSDK", "RouterChat", "RouterTesting", "RouterHTTPClient", "PythonScripts"],
            swiftSettings: sharedSwiftSettings
        ),
        // Real OS processes on one store for StoreTests (SIGKILL, concurrent first opens).
        .executableTarget(
            name: "RouterTestHelper",
            dependencies: ["RouterSDK", "RouterStores", .product(name: "Logging", package: "swift-log")],
            path: "Tests/RouterTestHelper",
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "RouterTestHelper",
                "RouterSDK",
                "RouterTesting",
                "SQLiteStateStore",
                "PostgresStateStore",
                "MongoStateStore",
                "StoreSupport",
                "RouterStores",
                "StateStoreConformance",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        // The error-handling patterns users write, compiled (typed throws crash Swift 6.3.1 on some).
        .testTarget(
            name: "ErrorPatternTests",
            dependencies: ["RouterSDK", "RouterChat", "RouterTesting"],
            swiftSettings: sharedSwiftSettings
        ),
        // The HummingbirdApp example as a real process, stopped with SIGTERM.
        .testTarget(
            name: "LifecycleTests",
            dependencies: [
                "HummingbirdApp",
                "Gateway",
                "RouterTesting",
                "RouterChat",
                "RouterSDK",
                "SQLiteStateStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
    ]
)
