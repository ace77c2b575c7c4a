import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RouterSDK
import SQLiteStateStore
import Testing

/// The HummingbirdApp example as users run it: a real process with Hummingbird's `Router` and
/// RouterSDK's `LLMRouter` in one ServiceGroup, stopped with a real SIGTERM while requests are
/// in flight. Every request that got an answer is in the store, and nothing else is.
@Suite(.timeLimit(.minutes(2))) struct HummingbirdAppTests {
    @Test func sigtermDrainsTheRouterAndWritesEveryAnsweredRequest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("app.db").path

        let process = Process()
        process.executableURL = ChildProcess.executable("HummingbirdApp")
        process.arguments = ["sqlite:" + storePath, "0"]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["ROUTERSDK_MASTER_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) } }

        // The app prints "listening on 127.0.0.1:PORT" once the server is up.
        let reader = output.fileHandleForReading
        let firstLine = await ChildProcess.blocking { () -> String in
            var line = Data()
            while let byte = try? reader.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") { line.append(first) }
            return String(decoding: line, as: UTF8.self)
        }
        let port = try #require(firstLine.split(separator: ":").last.flatMap { Int($0) }, "unexpected first line: \(firstLine)")

        // Four clients send requests until the server stops answering; SIGTERM after 40 answers.
        let answered = Answers()
        let pid = process.processIdentifier
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<500 {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/complete")
                        request.method = .POST
                        request.body = .bytes(ByteBuffer(string: "tell me something about routers"))
                        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)),
                              response.status == .ok,
                              let body = try? await response.body.collect(upTo: 1024)
                        else { return }
                        let fields = String(buffer: body).split(separator: " ")
                        guard fields.count == 2, let cost = Int64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
                        if answered.add(cost) == 40 { kill(pid, SIGTERM) }
                    }
                }
            }
        }

        let status = await ChildProcess.blocking { () -> Int32 in
            process.waitUntilExit()
            return process.terminationStatus
        }
        let rest = String(decoding: (try? reader.readToEnd()) ?? Data(), as: UTF8.self)
        #expect(status == 0)
        #expect(rest.contains("shut down cleanly: 0 records dropped"), "output: \(rest)")
        let (count, total) = answered.snapshot
        #expect(count >= 40)

        // The app is gone: what it acknowledged is in the store, once.
        let store = try await SQLiteStateStore.open(path: storePath)
        let events = try await store.usageEvents(from: Timestamp(nanosecondsSinceEpoch: 0), to: Timestamp(secondsSinceEpoch: 4_000_000_000), limit: 100_000)
        await store.close()
        #expect(events.count == count)
        #expect(events.reduce(Int64(0)) { $0 + $1.cost.nanodollars } == total)
    }
}

/// Answers counted across the client tasks.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var total: Int64 = 0

    /// Adds one answer and returns how many there are now.
    func add(_ cost: Int64) -> Int {
        lock.withLock {
            count += 1
            total += cost
            return count
        }
    }

    var snapshot: (Int, Int64) { lock.withLock { (count, total) } }
}
