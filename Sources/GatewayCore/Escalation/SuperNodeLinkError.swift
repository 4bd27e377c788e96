import LedgerLite
import LedgerStore

/// Why the link to the super node (certificate and root key) cannot be set up. Each
/// description says which file is wrong and what to pass instead.
package enum SuperNodeLinkError: Error, CustomStringConvertible {
    /// The certificate file cannot be read.
    case certificateUnreadable(file: String)
    /// The file is not a gateway certificate.
    case notACertificate(file: String, underlying: String)
    /// The certificate names another gateway key.
    case certificateForAnotherGateway(
        file: String,
        certified: GatewayID,
        name: String,
        gateway: GatewayID,
        publicKeyPath: String
    )
    /// `--super-node-key` cannot be read.
    case pinnedKeyUnreadable(KeyFileError)
    /// `--super-node-key` is not the certificate's issuer.
    case pinnedKeyRejected(file: String, problem: String)
    /// The root key kept from an earlier run cannot be read.
    case keptKeyUnreadable(path: String, underlying: String)
    /// The root key kept from an earlier run is not the certificate's issuer.
    case keptKeyRejected(path: String, problem: String)
    /// A root key offered (by the super node or a file) is not the certificate's issuer.
    case untrustedRootKey(problem: String)
    /// The root key could not be kept in the data directory.
    case rootKeyNotWritten(path: String, underlying: String)

    package var description: String {
        switch self {
        case let .certificateUnreadable(file):
            return
                "cannot read the certificate file \(file); pass the file `super-node certify` wrote for this gateway with --certificate"
        case let .notACertificate(file, underlying):
            return
                "\(file) is not a gateway certificate (\(underlying)); pass the file `super-node certify` wrote with --certificate"
        case let .certificateForAnotherGateway(file, certified, name, gateway, publicKeyPath):
            return
                "the certificate \(file) is for gateway \(certified.hex) (\"\(name)\"), but this gateway is \(gateway.hex); have the super node certify \(publicKeyPath) (`super-node certify --gateway-key …`) and pass that certificate"
        case let .pinnedKeyUnreadable(error):
            return "--super-node-key: \(error)"
        case let .pinnedKeyRejected(file, problem):
            return "--super-node-key \(file): \(problem)"
        case let .keptKeyUnreadable(path, underlying):
            return "\(path): \(underlying); remove it and the gateway fetches the root key again from the super node"
        case let .keptKeyRejected(path, problem):
            return
                "\(path) (the super node root key kept from an earlier run): \(problem). If this gateway moved to another super node, remove that file (or pin the new key with --super-node-key)"
        case let .untrustedRootKey(problem):
            return problem
        case let .rootKeyNotWritten(path, underlying):
            return "cannot write \(path): \(underlying)"
        }
    }
}
