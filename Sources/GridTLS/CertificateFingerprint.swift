import Crypto
import Foundation

/// The SHA-256 of a certificate's DER bytes: what `openssl x509 -noout -fingerprint -sha256`
/// and browsers show. Clients pin a server by it; it changes whenever the certificate is
/// replaced, even for the same key.
package struct CertificateFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    package let bytes: [UInt8]

    /// The fingerprint of a certificate's DER encoding.
    package init(der: some DataProtocol) {
        bytes = Array(SHA256.hash(data: Array(der)))
    }

    /// Parses 64 hex digits, with or without colons (openssl's form), optionally prefixed
    /// `sha256:` or `SHA256 Fingerprint=`; nil for anything else.
    package init?(text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        for prefix in ["sha256 fingerprint=", "sha256:"] where rest.lowercased().hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
        }
        let digits = rest.filter { $0 != ":" }
        guard digits.count == 64 else { return nil }
        var out: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        bytes = out
    }

    /// Upper-case hex pairs joined by colons, as openssl prints it.
    package var description: String {
        bytes.map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}
