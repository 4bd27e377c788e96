import ArgumentParser
import GridTLS

extension ServerTrust {
    /// The trust a client's flags ask for: a pinned fingerprint, a CA file, or (neither) the
    /// system's trust store.
    /// - Parameters:
    ///   - fingerprint: the pinned SHA-256 certificate fingerprint, as given.
    ///   - caFile: the CA file, as given.
    ///   - flags: the two flags' names, for messages ("--gateway-fingerprint", "--gateway-ca").
    package static func from(fingerprint: String?, caFile: String?, flags: (String, String)) throws -> ServerTrust {
        switch (fingerprint, caFile) {
        case (_?, _?):
            throw ValidationError("give one of \(flags.0) and \(flags.1), not both")
        case (let text?, nil):
            guard let pin = CertificateFingerprint(text: text) else {
                throw ValidationError(
                    "\(flags.0) '\(text)' is not a SHA-256 fingerprint (64 hex digits, colons allowed, as `init` printed it)"
                )
            }
            return .fingerprint(pin)
        case (nil, let path?):
            return .caFile(path)
        case (nil, nil):
            return .system
        }
    }
}
