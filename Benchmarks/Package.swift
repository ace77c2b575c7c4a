// swift-tools-version: 6.1
// Benchmarks live in their own package so package-benchmark never reaches RouterSDK's users.
import PackageDescription

import struct Foundation.URL

/// SwiftPM names a path dependency after its directory, which is whatever the clone is called
/// (`RouterSDK`, `main`, `ci-check`, ...), so derive it instead of hard-coding it.
let rootPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "RouterSDKBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "RoutingBenchmarks",
            dependencies: [
                .product(name: "RouterSDK", package: rootPackage),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RoutingBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ChatBenchmarks",
            dependencies: [
                .product(name: "RouterSDK", package: rootPackage),
                .product(name: "RouterChat", package: rootPackage),
                .product(name: "RouterTesting", package: rootPackage),
                .product(name: "RouterHTTPClient", package: rootPackage),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ChatBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StoreBenchmarks",
            dependencies: [
                .product(name: "RouterSDK", package: rootPackage),
                .product(name: "SQLiteStateStore", package: rootPackage),
                .product(name: "PostgresStateStore", package: rootPackage),
                .product(name: "MongoStateStore", package: rootPackage),
                .product(name: "RouterTesting", package: rootPackage),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StoreBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
