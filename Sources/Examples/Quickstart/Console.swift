import Foundation
import RouterSDK

/// A one-line progress bar on a terminal; a line every 10 % when output is redirected.
final class ProgressBar {
    private let total: Int
    private var done = 0
    private var lastDecile = -1
    private let interactive = isatty(STDOUT_FILENO) != 0

    init(total: Int) { self.total = max(total, 1) }

    func advance() {
        done += 1
        if interactive {
            if done % max(1, total / 200) == 0 || done == total { draw() }
        } else if done * 10 / total != lastDecile {
            lastDecile = done * 10 / total
            print("progress: \(done)/\(total)")
        }
    }

    func finish() { if interactive { draw(); print("") } }

    private func draw() {
        let width = 40
        let filled = done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        // Write straight to the terminal: unbuffered, so the bar redraws in place.
        let text = "\r[\(bar)] \(done)/\(total)"
        _ = text.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }
}

/// Prints rows as an aligned table; the first row is the header.
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    var widths = header.map(\.count)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    func line(_ row: [String]) -> String {
        row.enumerated().map { index, cell in
            index >= 2 ? String(repeating: " ", count: widths[index] - cell.count) + cell : cell + String(repeating: " ", count: widths[index] - cell.count)
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
    for row in rows.dropFirst() { print(line(row)) }
}

/// A master key for sealing the demo's secrets, kept next to its database so a second run can
/// open them. Demo only: real deployments pass ROUTERSDK_MASTER_KEY from a secret manager.
func demoMasterKey(in directory: URL) throws -> MasterKey {
    if let key = try MasterKey.fromEnvironment() { return key }
    let file = directory.appendingPathComponent("quickstart.masterkey")
    if let text = try? String(contentsOf: file, encoding: .utf8) {
        return try MasterKey(id: "quickstart", base64: text)
    }
    var bytes = [UInt8](repeating: 0, count: 32)
    var generator = SystemRandomNumberGenerator()
    for index in bytes.indices { bytes[index] = UInt8.random(in: 0 ... 255, using: &generator) }
    try Data(bytes).base64EncodedString().write(to: file, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
    return try MasterKey(id: "quickstart", bytes: bytes)
}
