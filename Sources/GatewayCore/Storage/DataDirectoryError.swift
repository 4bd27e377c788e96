import LedgerStore

/// Why a gateway data directory (or a store in it) could not be created or read. Each
/// description names the file and what to do.
package enum DataDirectoryError: Error, CustomStringConvertible {
    /// A key file could not be written or read.
    case keyFile(KeyFileError)
    /// A SQLite store could not be created or opened (`what`: "chain store", "checkpoint store").
    case storeUnavailable(what: String, path: String, creating: Bool, underlying: String)
    /// The chain store is missing from an initialised directory (a read-only view).
    case chainMissing(path: String)
    /// The chain store is missing where the gateway is to serve: its history is gone.
    case historyMissing(path: String)
    /// The admin token cannot be read.
    case tokenUnreadable(path: String)
    /// The admin token file can be read by group or others.
    case tokenExposed(path: String)
    /// A secret file could not be created or written (`reason`: the system's error text).
    case secretNotWritten(path: String, creating: Bool, reason: String)

    package var description: String {
        switch self {
        case let .keyFile(error):
            return error.description
        case let .storeUnavailable(what, path, creating, underlying):
            return "cannot \(creating ? "create" : "open") the \(what) \(path): \(underlying)"
        case let .chainMissing(path):
            return
                "\(path) is missing; the data directory is incomplete (restore it, or `edge-gateway init` a new one)"
        case let .historyMissing(path):
            return
                "\(path) is missing, so the chain's history is gone; restore it from a copy (a new, empty chain needs a new `edge-gateway init` directory)"
        case let .tokenUnreadable(path):
            return "cannot read the admin token \(path); it is created by `edge-gateway init` (check its permissions)"
        case let .tokenExposed(path):
            return "admin token file \(path) is accessible by group or others; run `chmod 600 \(path)`"
        case let .secretNotWritten(path, creating, reason):
            return "cannot \(creating ? "create" : "write") \(path): \(reason)"
        }
    }
}
