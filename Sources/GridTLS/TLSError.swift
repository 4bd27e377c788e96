/// Why a certificate, a key, a fingerprint or a TLS peer was refused; each message names the
/// file or the peer and what to do.
package struct TLSError: Error, CustomStringConvertible, Sendable {
    package let description: String

    package init(_ description: String) { self.description = description }
}
