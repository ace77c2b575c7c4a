package import Foundation

/// A value bound to a SQL statement parameter, in both SQL stores.
package enum SQLValue: Sendable {
    case integer(Int64)
    case text(String)
    case bytes(Data)
    case null
}
