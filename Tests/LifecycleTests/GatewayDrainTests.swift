import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RouterChat
import RouterSDK
import RouterTesting
import SQLiteStateStore
import Testing

/// The Gateway executable as operators run it: its `/metrics` carries RouterSDK's series beside
/// the gateway's (one Prometheus registry); stopped with a real SIGTERM while 32 streams are in
/// flight, every stream runs to its end within the drain timeout, every usage event is in the
/// ledger, and it exits 0.
@Suite(.timeLimit(.minutes(2))) struct GatewayDrainTests {
    static let streams = 32

    @Test func sigtermWithThirtyTwoStreamsInFlightFinishesThemAndRecordsEveryOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("gateway.db").path
        // A slow model: 25 events 80 ms apart, so each stream lasts about 2 s.
        let upstream = try await FakeProviderServer.start()
        defer { Task { await upstream.shutdown() } }
        let words = (1...24).map { "word\($0) " }.joined()
        upstream.defaultReply = FakeReply(text: words, inputTokens: 20, outputTokens: 24, eventInterval: .milliseconds(80))

        let process = Process()
        process.executableURL = ChildProcess.executable("Gateway")
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["ROUTERSDK_MASTER_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        environment["GATEWAY_PORT"] = "0"
        environment["GATEWAY_STORE_URL"] = "sqlite:" + storePath
        environment["GATEWAY_AUTH"] = "none"
        environment["GATEWAY_KEYS"] = "k1 openai sk-drain-test-0001; k2 openai sk-drain-test-0002"
        environment["GATEWAY_BASE_URL_OPENAI"] = "http://127.0.0.1:\(upstream.port)/openai/v1"
        environment["GATEWAY_DRAIN_TIMEOUT_SECONDS"] = "30"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let reader = output.fileHandleForReading
        let listening = await ChildProcess.line(startingWith: "listening on", in: reader)
        let port = try #require(listening?.split(separator: ":").last.flatMap { Int($0) }, "no listening line")

        // One request, then a scrape: RouterSDK's swift-metrics and the gateway's own series.
        var one = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        one.method = .POST
        one.body = .bytes(ByteBuffer(string: #"{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}"#))
        let answer = try await HTTPClient.shared.execute(one, timeout: .seconds(30))
        #expect(answer.status == .ok)
        _ = try await answer.body.collect(upTo: 1 << 20)
        let scrape = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
        let metrics = String(buffer: try await scrape.body.collect(upTo: 1 << 22))
        for series in [
            "routersdk_decision_duration_seconds_bucket", #"routersdk_keys{state="available"} 2"#, "routersdk_store_buffered_records",
            "routersdk_decisions_total", #"gateway_requests_total{route="/v1/chat/completions",method="POST",status="200"} 1"#,
            #"gateway_upstream_requests_total{provider="openai",outcome="success"} 1"#,
        ] {
            #expect(metrics.contains(series), "\(series) not in /metrics")
        }

        // 32 streams; SIGTERM once every one has its first chunk.
        let started = Counter()
        let pid = process.processIdentifier
        let bodies = await withTaskGroup(of: String?.self) { group in
            for index in 0..<Self.streams {
                group.addTask {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: """
                        {"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "user": "client-\(index)",
                         "messages": [{"role": "user", "content": "Count"}]}
                        """))
                    guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(60)), response.status == .ok else { return nil }
                    var body = ""
                    var first = true
                    do {
                        for try await chunk in response.body {
                            body += String(buffer: chunk)
                            if first {
                                first = false
                                if started.increment() == Self.streams { kill(pid, SIGTERM) }
                            }
                        }
                    } catch {
                        return body + "\n<connection error: \(error)>"
                    }
                    return body
                }
            }
            var bodies: [String?] = []
            for await body in group { bodies.append(body) }
            return bodies
        }

        let status = await ChildProcess.blocking { () -> Int32 in
            process.waitUntilExit()
            return process.terminationStatus
        }
        let rest = String(decoding: (try? reader.readToEnd()) ?? Data(), as: UTF8.self)
        #expect(started.value == Self.streams)
        #expect(status == 0)
        #expect(rest.contains("shut down cleanly: 0 records dropped"), "output: \(rest)")
        // Every stream ran to its end: all its text, its usage, then [DONE].
        let completed = bodies.compactMap { $0 }.filter { body in
            let events = body.split(separator: "\n\n").map { $0.dropFirst("data: ".count) }
            let text = events.compactMap { JSONValue(parsing: Array($0.utf8))?["choices"]?[0]?["delta"]?["content"]?.string }.joined()
            return text == words && events.last == "[DONE]" && body.contains(#""completion_tokens":24"#)
        }
        #expect(completed.count == Self.streams, "\(bodies.compactMap { $0 }.filter { !$0.hasSuffix("[DONE]\n\n") }.prefix(2))")

        // The gateway is gone: every stream's usage event is in the ledger, once, with its tag.
        let store = try await SQLiteStateStore.open(path: storePath)
        let events = try await store.usageEvents(from: Timestamp(nanosecondsSinceEpoch: 0), to: Timestamp(secondsSinceEpoch: 4_000_000_000), limit: 1_000)
        await store.close()
        #expect(events.count == Self.streams + 1)
        #expect(Set(events.flatMap(\.tags).filter { $0.hasPrefix("user:") }).count == Self.streams)
        #expect(events.allSatisfy { $0.outputTokens == 24 && $0.outcome == .success })
    }
}

/// A count shared by the client tasks.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// Adds one and returns the new count.
    func increment() -> Int { lock.withLock { count += 1; return count } }

    var value: Int { lock.withLock { count } }
}
