internal import Foundation

/// The JSON body of a fleet's shared record (``StateStore/sharedRecord(_:)``): empty when the
/// record does not exist yet.
protocol SharedRecordBody: Codable {
    /// What the record is, for the error a corrupted one raises.
    static var kind: String { get }
    init()
}

extension SharedRecordBody {
    /// Decodes a record's body (`nil`: no record yet, an empty one).
    ///
    /// - Throws: `corruptRecord` naming the record's key.
    init(decoding body: String?, key: String) throws(RouterError) {
        guard let body else {
            self.init()
            return
        }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(body.utf8))
        } catch {
            throw RouterError(.corruptRecord, "the \(Self.kind) '\(key)' is corrupted: \(error)")
        }
    }

    var encoded: String {
        // Encoding integers and strings cannot fail.
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
