import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// An ECDSA P-256 key and a certificate it signs for itself, naming the hosts clients reach
/// the server by (DNS names and IP addresses as subject alternative names), so that curl and
/// browsers accept it once the certificate is trusted. It is its own issuer (a CA limited to
/// itself, path length 0), so the certificate file is also the CA file clients are given.
package struct SelfSignedCertificate: Sendable {
    /// The certificate, PEM.
    package let certificatePEM: String
    /// The private key, PEM (PKCS#8).
    package let privateKeyPEM: String
    /// The certificate's SHA-256 fingerprint.
    package let fingerprint: CertificateFingerprint

    /// Makes a fresh key and certificate.
    /// - Parameters:
    ///   - hostnames: the names and addresses the certificate is for (at least one); the
    ///     first is also its common name.
    ///   - validity: how long it is valid from now.
    ///   - subject: the organisation the subject names ("GridLedger edge gateway").
    package init(hostnames: [String], validity: Duration = .seconds(825 * 86_400), subject: String) throws {
        guard let first = hostnames.first else {
            throw TLSError("a certificate needs at least one --hostname (the name or address clients connect to)")
        }
        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        // The key's digest in the name keeps two such certificates apart in one CA file:
        // a verifier finds an issuer by its name, and every gateway's would otherwise be alike.
        let keyDigest = SHA256.hash(data: key.publicKey.x963Representation).prefix(8)
        let names = try DistinguishedName {
            CommonName(first)
            OrganizationName(subject)
            OrganizationalUnitName("key " + keyDigest.map { String(format: "%02x", $0) }.joined())
        }
        let now = Date()
        let alternativeNames = try hostnames.map(Self.generalName)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(alternativeNames)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: certificateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(TimeInterval(validity.components.seconds)),
            issuer: names,
            subject: names,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: certificateKey
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        privateKeyPEM = key.pemRepresentation + "\n"
        fingerprint = CertificateFingerprint(der: serializer.serializedBytes)
    }

    /// An IPv4 or IPv6 address becomes an IP address name; anything else a DNS name.
    package static func generalName(_ host: String) throws -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "*" })
        else {
            throw TLSError(
                "--hostname '\(host)' is neither an IP address nor a DNS name (letters, digits, '-' and '.')"
            )
        }
        return .dnsName(host)
    }
}
