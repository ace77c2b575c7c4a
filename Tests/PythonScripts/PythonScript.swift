public import Foundation

/// Runs the project's Python check scripts (`scripts/*.py`) with the official client SDKs from
/// PyPI, which live in the project's `.local/venv` (scripts/with-services.sh installs them).
/// Outside CI a machine without them skips those tests; in CI (`CI` set) they must run.
public enum PythonScript {
    /// The repository's root.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's interpreter (or `ROUTERSDK_PYTHON`), if the SDKs are installed.
    public static var python: String? {
        let candidate = ProcessInfo.processInfo.environment["ROUTERSDK_PYTHON"] ?? root.appendingPathComponent(".local/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: candidate),
            FileManager.default.fileExists(atPath: root.appendingPathComponent(".local/venv/lib").path)
        else { return nil }
        return candidate
    }

    /// Whether the SDK tests must run (in CI).
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// Runs `scripts/<name>` with `arguments` to its end and returns its exit status and output.
    public static func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        guard let python else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no Python with the official SDKs; run scripts/with-services.sh"]) }
        return try await runProcess(python, [root.appendingPathComponent("scripts/\(name)").path] + arguments)
    }

    /// Runs a process to its end without blocking a thread of the cooperative pool: the exit
    /// arrives through the termination handler, the output through a file.
    static func runProcess(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("python-script-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        defer { try? FileManager.default.removeItem(at: outputURL) }
        return (status, (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "")
    }
}
