internal import CMongo
import Foundation
import RouterSDK
internal import StoreSupport

/// A BSON value as the MongoDB store builds and reads documents: only the types it writes, plus
/// `.unsupported` so a hand-edited document with another type reads as a typed error, not a crash.
///
/// Documents keep their field order (BSON is ordered; sort specs and compound `_id`s depend on it).
indirect enum BSON: Sendable, Hashable {
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    case string(String)
    case binary(Data)
    case bool(Bool)
    case null
    case document([Field])
    case array([BSON])
    /// A value of a type the store never writes, by BSON type number.
    case unsupported(UInt32)

    /// One field of a document.
    struct Field: Sendable, Hashable {
        let name: String
        let value: BSON
    }

    /// The value of field `name` of a document (`nil` if absent or not a document).
    subscript(name: String) -> BSON? {
        guard case .document(let fields) = self else { return nil }
        return fields.first { $0.name == name }?.value
    }

    /// An integer, from any integral BSON number.
    var integer: Int64? {
        switch self {
        case .int32(let value): Int64(value)
        case .int64(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: Int64(value)
        default: nil
        }
    }

    /// The text of a string value.
    var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}

extension BSON: ExpressibleByDictionaryLiteral, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    init(dictionaryLiteral elements: (String, BSON)...) {
        self = .document(elements.map { Field(name: $0.0, value: $0.1) })
    }

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int64) { self = .int64(value) }
    init(arrayLiteral elements: BSON...) { self = .array(elements) }
}

// MARK: Conversion to and from libbson

extension BSON {
    /// Builds a heap-allocated `bson_t` for a document value; the caller destroys it.
    func makeDocument() -> OpaquePointer {
        let document = bson_new()!
        switch self {
        case .document(let fields):
            for field in fields { field.value.append(to: document, key: field.name) }
        case .array(let elements):
            for (index, element) in elements.enumerated() { element.append(to: document, key: String(index)) }
        default:
            preconditionFailure("only documents and arrays are BSON documents")
        }
        return document
    }

    /// Runs `body` with this document as a `bson_t`.
    func withDocument<T, E: Error>(_ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        let document = makeDocument()
        defer { bson_destroy(document) }
        return try body(document)
    }

    private func append(to document: OpaquePointer, key: String) {
        let keyLength = Int32(key.utf8.count)
        switch self {
        case .int32(let value): _ = bson_append_int32(document, key, keyLength, value)
        case .int64(let value): _ = bson_append_int64(document, key, keyLength, value)
        case .double(let value): _ = bson_append_double(document, key, keyLength, value)
        case .string(let value): _ = bson_append_utf8(document, key, keyLength, value, Int32(value.utf8.count))
        case .binary(let data):
            _ = data.withUnsafeBytes { bytes in
                bson_append_binary(document, key, keyLength, BSON_SUBTYPE_BINARY, bytes.bindMemory(to: UInt8.self).baseAddress, UInt32(bytes.count))
            }
        case .bool(let value): _ = bson_append_bool(document, key, keyLength, value)
        case .null, .unsupported: _ = bson_append_null(document, key, keyLength)
        case .document:
            let child = makeDocument()
            defer { bson_destroy(child) }
            _ = bson_append_document(document, key, keyLength, child)
        case .array:
            let child = makeDocument()
            defer { bson_destroy(child) }
            _ = bson_append_array(document, key, keyLength, child)
        }
    }

    /// Reads a whole document (a `const bson_t *`).
    init(reading document: OpaquePointer) {
        let iterator = cmongo_iter_alloc()!
        defer { free(UnsafeMutableRawPointer(iterator)) }
        guard bson_iter_init(iterator, document) else {
            self = .document([])
            return
        }
        self = .document(Self.fields(of: iterator))
    }

    private static func fields(of iterator: OpaquePointer) -> [Field] {
        var fields: [Field] = []
        while bson_iter_next(iterator) {
            fields.append(Field(name: String(cString: bson_iter_key(iterator)), value: value(at: iterator)))
        }
        return fields
    }

    private static func value(at iterator: OpaquePointer) -> BSON {
        let type = bson_iter_type(iterator)
        switch type {
        case BSON_TYPE_INT32: return .int32(bson_iter_int32(iterator))
        case BSON_TYPE_INT64: return .int64(bson_iter_int64(iterator))
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iterator))
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iterator))
        case BSON_TYPE_NULL: return .null
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let pointer = bson_iter_utf8(iterator, &length) else { return .null }
            return .string(String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self))
        case BSON_TYPE_BINARY:
            var subtype = BSON_SUBTYPE_BINARY
            var length: UInt32 = 0
            var pointer: UnsafePointer<UInt8>?
            bson_iter_binary(iterator, &subtype, &length, &pointer)
            return .binary(pointer.map { Data(bytes: $0, count: Int(length)) } ?? Data())
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let child = cmongo_iter_alloc()!
            defer { free(UnsafeMutableRawPointer(child)) }
            guard bson_iter_recurse(iterator, child) else { return .unsupported(type.rawValue) }
            let fields = fields(of: child)
            return type == BSON_TYPE_ARRAY ? .array(fields.map(\.value)) : .document(fields)
        default:
            return .unsupported(type.rawValue)
        }
    }
}

/// A stored document read by field, with typed errors naming the record, so keys and usage events
/// decode through the same ``StoreRow`` code as the SQL stores (columns map to field names).
struct MongoRow: StoreRow {
    let document: BSON
    /// The field each column index stands for.
    let fields: [String]

    private func value(_ column: Int) -> BSON? {
        guard column < fields.count, let value = document[fields[column]] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func corrupt(_ column: Int, _ record: String, _ problem: String) -> RouterError {
        RouterError(.corruptRecord, "\(record) is corrupted: field '\(column < fields.count ? fields[column] : "?")' \(problem)")
    }

    func integer(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64 {
        guard let value = value(column)?.integer else { throw corrupt(column, record(), "is not an integer") }
        return value
    }

    func optionalInteger(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64? {
        guard value(column) != nil else { return nil }
        return try integer(column, record())
    }

    /// Text; an array of strings reads as its JSON text, the form the SQL stores keep tags in.
    func text(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String {
        switch value(column) {
        case .string(let text):
            return text
        case .array(let elements):
            let strings = elements.compactMap(\.text)
            guard strings.count == elements.count else { throw corrupt(column, record(), "is not an array of strings") }
            return try StoreRecordCoding.encode(strings)
        default:
            throw corrupt(column, record(), "is not a string")
        }
    }

    func optionalText(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String? {
        guard value(column) != nil else { return nil }
        return try text(column, record())
    }

    func bytes(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Data {
        guard case .binary(let data) = value(column) else { throw corrupt(column, record(), "is not binary data") }
        return data
    }
}
