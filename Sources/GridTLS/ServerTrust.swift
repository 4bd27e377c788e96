/// How a client decides it reached the right server over HTTPS.
package enum ServerTrust: Sendable, Hashable {
    /// The system's trust store and the URL's host name (a certificate from a public CA).
    case system
    /// The CA certificates in this PEM file (or the server's own self-signed certificate),
    /// and the URL's host name, which must be among the certificate's names.
    case caFile(String)
    /// Exactly the certificate with this SHA-256 fingerprint, whatever names it carries.
    /// The certificate must be self-signed (as `init` makes it); for one a CA issued, give
    /// the CA file instead.
    case fingerprint(CertificateFingerprint)
}
