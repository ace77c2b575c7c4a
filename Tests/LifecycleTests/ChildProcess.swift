import Foundation

/// Helpers for the example executables these tests run as real processes.
enum ChildProcess {
    /// An executable built next to this test bundle.
    static func executable(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Runs blocking work (pipe reads, waiting for the process) on a thread of its own, never on
    /// the cooperative pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Reads `reader` line by line until a line starts with `prefix` and returns it (`nil` at
    /// the end of the output); the lines before it (logs) are skipped.
    static func line(startingWith prefix: String, in reader: FileHandle) async -> String? {
        await blocking { () -> String? in
            var line = Data()
            while let byte = try? reader.read(upToCount: 1), let first = byte.first {
                if first != UInt8(ascii: "\n") {
                    line.append(first)
                    continue
                }
                let text = String(decoding: line, as: UTF8.self)
                if text.hasPrefix(prefix) { return text }
                line.removeAll()
            }
            return nil
        }
    }
}
