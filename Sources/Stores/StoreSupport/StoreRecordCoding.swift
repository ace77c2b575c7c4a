package import RouterSDK
import Foundation

/// JSON coding for the structured columns of persistent stores (settings, states, transitions,
/// decision samples, budgets), with errors that name the record instead of crashing.
///
/// Every backend stores these the same way, so a database written by one version of RouterSDK
/// reads the same in every backend. Keys are sorted so equal values encode to equal text.
package enum StoreRecordCoding {
    /// Encodes a value as compact JSON text.
    package static func encode(_ value: some Encodable) throws(RouterError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw RouterError(.storeFailure, "could not encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes JSON text; throws ``RouterError/Code/corruptRecord`` naming `record` if it does not parse.
    package static func decode<Value: Decodable>(_ type: Value.Type, from text: String, record: String) throws(RouterError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw RouterError(.corruptRecord, "\(record) is corrupted: cannot read \(Value.self) from its stored JSON")
        }
    }
}
