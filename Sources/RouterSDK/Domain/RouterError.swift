/// The one error type RouterSDK throws.
///
/// A struct around an extensible ``Code`` (new codes can be added without breaking a `switch`
/// in your code) plus the identifiers that help you act on it. Its ``description`` names keys,
/// budgets and models by id only: it never contains a secret or a connection password.
///
/// Public functions are declared `throws`, not `throws(RouterError)`, and document that they
/// throw `RouterError`: Swift 6.3.1 crashes (signal 11) compiling the natural pattern
/// `catch let error where error.code == …` around a typed-throws call inside a loop. Catch it
/// with `catch let error as RouterError where error.code == .duplicateKeyID`. `ChatClient`
/// throws only `RouterError` too (a provider's error is in ``providerError``).
public struct RouterError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value you can compare against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No registered key can serve the request now; ``RouterError/noEligibleKey`` says why.
        public static let noEligibleKey = Code("noEligibleKey")
        /// A hard budget would be exceeded by the request's worst-case cost.
        public static let budgetExceeded = Code("budgetExceeded")
        /// The requested model is not in the catalog (or no key serves it).
        public static let unknownModel = Code("unknownModel")
        /// No key with this id is registered.
        public static let unknownKey = Code("unknownKey")
        /// A key with this id is already registered.
        public static let duplicateKeyID = Code("duplicateKeyID")
        /// No budget with this id exists.
        public static let unknownBudget = Code("unknownBudget")
        /// A limit is negative, zero or out of range.
        public static let invalidLimits = Code("invalidLimits")
        /// A price is negative.
        public static let invalidPrice = Code("invalidPrice")
        /// A key, budget or request field is invalid (weight, empty id, token counts, ...).
        public static let invalidArgument = Code("invalidArgument")
        /// The model catalog could not be parsed or is inconsistent.
        public static let malformedCatalog = Code("malformedCatalog")
        /// The requested key-state change is not allowed from the key's current state.
        public static let invalidTransition = Code("invalidTransition")
        /// The lease was already settled or released, or never issued by this router.
        public static let leaseNotActive = Code("leaseNotActive")
        /// The request's deadline passed before it could be served.
        public static let deadlineExceeded = Code("deadlineExceeded")
        /// `execute` tried as many keys as allowed and every attempt failed.
        public static let attemptsExhausted = Code("attemptsExhausted")
        /// A sealed secret could not be opened (wrong master key or tampered data).
        public static let secretUnsealFailed = Code("secretUnsealFailed")
        /// The master key material is malformed.
        public static let invalidMasterKey = Code("invalidMasterKey")
        /// The state store failed.
        public static let storeFailure = Code("storeFailure")
        /// A stored record changed since it was read (optimistic versioning).
        public static let versionConflict = Code("versionConflict")
        /// A stored record could not be decoded (hand-edited or corrupted); the message names it.
        public static let corruptRecord = Code("corruptRecord")
        /// The database's schema is newer than this code understands; nothing was written.
        public static let schemaTooNew = Code("schemaTooNew")
        /// The store's server could not be reached within the connect timeout.
        public static let storeUnreachable = Code("storeUnreachable")
        /// A store URL is malformed or names an unsupported scheme.
        public static let invalidStoreURL = Code("invalidStoreURL")
        /// The router has been shut down.
        public static let shutDown = Code("shutDown")
        /// A provider answered with an error (``RouterError/providerError`` classifies it), or the
        /// call to it failed.
        public static let providerFailed = Code("providerFailed")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation naming ids, never secrets.
    public var message: String
    /// The key involved, if any.
    public var keyID: KeyID?
    /// The budget involved, if any.
    public var budgetID: BudgetID?
    /// The model involved, if any.
    public var model: String?
    /// For ``Code/noEligibleKey`` and ``Code/budgetExceeded``: why each candidate was passed over.
    public var noEligibleKey: IneligibilityReport?
    /// For ``Code/attemptsExhausted``: the failure of the last attempt.
    public var lastFailure: ProviderFailure?
    /// For ``Code/providerFailed``: the provider's error, classified (kind, status, retry hint,
    /// partial usage of a broken stream).
    public var providerError: ProviderError?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        keyID: KeyID? = nil,
        budgetID: BudgetID? = nil,
        model: String? = nil,
        noEligibleKey: IneligibilityReport? = nil,
        lastFailure: ProviderFailure? = nil,
        providerError: ProviderError? = nil
    ) {
        self.code = code
        self.message = message
        self.keyID = keyID
        self.budgetID = budgetID
        self.model = model
        self.noEligibleKey = noEligibleKey
        self.lastFailure = lastFailure
        self.providerError = providerError
    }

    public var description: String { "RouterError.\(code): \(message)" }
}
