import LedgerLite
import LedgerStore

/// Why the super node refused an operator's certificate or suspension change, or could not
/// open its data directory. Each description says what to do.
package enum AuthorityError: Error, CustomStringConvertible {
    /// The gateway already holds a live certificate.
    case alreadyCertified(gateway: GatewayID, serial: UInt64, name: String)
    /// The certificate name is not acceptable.
    case badName(String, underlying: String)
    /// No certificate with this serial was issued here.
    case unknownSerial(UInt64)
    /// The certificate is revoked already (`at`: ms since the epoch).
    case serialAlreadyRevoked(serial: UInt64, gateway: GatewayID, at: Int64)
    /// The gateway holds no certificate from this super node (`listedBy`: where ids are listed).
    case uncertifiedGateway(GatewayID, listedBy: String)
    /// Every certificate of the gateway is revoked already.
    case gatewayAlreadyRevoked(GatewayID)
    /// The gateway is not suspended.
    case notSuspended(gateway: GatewayID, name: String, flaggedBlocks: Int)
    /// A reinstatement note is too long or has control characters.
    case badNote
    /// A key file could not be written or read.
    case keyFile(KeyFileError)
    /// The authority store could not be created or opened.
    case storeUnavailable(path: String, creating: Bool, underlying: String)
    /// The store was created under another root key than the data directory's (a replica
    /// initialised with `init` instead of a copy of the first one's key).
    case foreignRoot(store: String, stored: KeyID, directory: KeyID)

    package var description: String {
        switch self {
        case let .alreadyCertified(gateway, serial, name):
            return
                "gateway \(gateway.hex) already holds certificate serial \(serial) (\"\(name)\"), not revoked; use it, or revoke it first with `super-node revoke --serial \(serial)`"
        case let .badName(name, underlying):
            return
                "--name '\(name)' is not acceptable: \(underlying) (use 1 to \(GatewayCertificate.maxNameBytes) bytes of UTF-8 without control characters)"
        case let .unknownSerial(serial):
            return
                "no certificate with serial \(serial) was issued by this super node; list them with GET /v1/gateways"
        case let .serialAlreadyRevoked(serial, gateway, at):
            return
                "certificate serial \(serial) (gateway \(gateway.hex)) is already revoked (at \(Timestamps.iso(at)))"
        case let .uncertifiedGateway(gateway, listedBy):
            return
                "gateway \(gateway.hex) holds no certificate from this super node; check the id (32 hex digits, \(listedBy))"
        case let .gatewayAlreadyRevoked(gateway):
            return "every certificate of gateway \(gateway.hex) is already revoked"
        case let .notSuspended(gateway, name, flaggedBlocks):
            return
                "gateway \(gateway.hex) (\"\(name)\") is not suspended (\(flaggedBlocks) value-flagged blocks since its last reinstatement); nothing to reinstate"
        case .badNote:
            return
                "--note is not acceptable: use at most \(Authority.maxNoteBytes) bytes of UTF-8 without control characters (one line)"
        case let .keyFile(error):
            return error.description
        case let .storeUnavailable(path, creating, underlying):
            return "cannot \(creating ? "create" : "open") the authority store \(path): \(underlying)"
        case let .foreignRoot(store, stored, directory):
            return
                "the authority store \(store) belongs to root key \(stored.hex), but this data directory's root key is \(directory.hex): a replica's directory holds a copy of the first replica's root.key and root.key.pub (docs/SCALING.md), not a key of its own from `init`"
        }
    }
}
