import Foundation

/// A super node's statement that an Ed25519 key is a certified edge gateway (ENIV).
/// Layout: docs/FORMATS.md, "Gateway certificate". Not X.509: the same keys and canonical
/// byte rules as the rest of the chain (docs/SUPERNODE.md explains the choice).
public struct GatewayCertificate: Hashable, Sendable {
    static let recordType: UInt8 = 0x30
    static let version: UInt8 = 1
    /// Longest name, in UTF-8 bytes.
    public static let maxNameBytes = 128

    /// Id of the super node root key that signs the certificate.
    public var issuer: KeyID
    /// The certified gateway's public key.
    public var gatewayKey: PublicIdentity
    /// Serial number, unique per issuer (≥ 1).
    public var serial: UInt64
    /// When it was issued, ms since the Unix epoch, UTC.
    public var issuedAt: Int64
    /// The operator's name for the gateway: 1 … 128 bytes of UTF-8, no control characters.
    public var name: String

    /// The gateway's id.
    public var gateway: GatewayID { gatewayKey.id }

    /// Creates a certificate body.
    /// - Throws: `RecordDecodingError.invalidField` / `.oversizeField` for a bad serial or name.
    public init(
        issuer: KeyID,
        gatewayKey: PublicIdentity,
        serial: UInt64,
        issuedAt: Int64,
        name: String
    ) throws(RecordDecodingError) {
        guard serial >= 1 else { throw .invalidField(field: "serial", reason: "must be at least 1") }
        try Self.checkName(Array(name.utf8))
        self.issuer = issuer
        self.gatewayKey = gatewayKey
        self.serial = serial
        self.issuedAt = issuedAt
        self.name = name
    }

    /// Checks a name: 1 … 128 bytes of UTF-8 without control characters.
    public static func checkName(_ bytes: [UInt8]) throws(RecordDecodingError) {
        guard !bytes.isEmpty else { throw .invalidField(field: "name", reason: "must not be empty") }
        guard bytes.count <= maxNameBytes else {
            throw .oversizeField(field: "name", length: bytes.count, limit: maxNameBytes)
        }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            throw .invalidField(field: "name", reason: "control characters are not allowed")
        }
    }

    /// The canonical bytes (68 + name length).
    public func canonicalBytes() -> [UInt8] {
        let nameBytes = Array(name.utf8)
        var w = ByteWriter(capacity: 68 + nameBytes.count)
        w.u8(Self.recordType)
        w.u8(Self.version)
        w.keyID(issuer)
        w.raw(gatewayKey.rawBytes)
        w.u64(serial)
        w.i64(issuedAt)
        w.u16(UInt16(nameBytes.count))
        w.raw(nameBytes)
        return w.bytes
    }

    /// Decodes canonical bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType, versions: 1...1)
        let issuer = try r.keyID("issuer")
        let rawKey = try r.raw(32, "gateway_key")
        let key: PublicIdentity
        do { key = try PublicIdentity(rawBytes: rawKey) } catch {
            throw .invalidField(field: "gateway_key", reason: error.description)
        }
        let serial = try r.u64("serial")
        let issuedAt = try r.i64("issued_at")
        let length = Int(try r.u16("name_length"))
        guard length <= Self.maxNameBytes else {
            throw .oversizeField(field: "name", length: length, limit: Self.maxNameBytes)
        }
        let nameBytes = Array(try r.raw(length, "name"))
        try r.finish()
        guard let name = String(validating: nameBytes, as: UTF8.self) else { throw .invalidUTF8(field: "name") }
        try self.init(issuer: issuer, gatewayKey: key, serial: serial, issuedAt: issuedAt, name: name)
    }
}

/// A certificate with the root key's signature: `certificate bytes ‖ Ed25519 signature (64)`,
/// kept verbatim.
public struct SignedGatewayCertificate: Hashable, Sendable {
    /// Certificate bytes followed by the signature.
    public let bytes: [UInt8]
    /// The decoded certificate.
    public let certificate: GatewayCertificate
    private let bodyLength: Int

    /// The signed certificate bytes.
    public var body: ArraySlice<UInt8> { bytes[0..<bodyLength] }
    /// The root key's signature over `body`.
    public var signature: ArraySlice<UInt8> { bytes[bodyLength...] }

    /// Parses signed certificate bytes (does not check the signature).
    public init(bytes: [UInt8]) throws(RecordDecodingError) {
        guard bytes.count > 64 + 68 else {
            throw .truncated(field: "signed gateway certificate", needed: 64 + 69, remaining: bytes.count)
        }
        bodyLength = bytes.count - 64
        certificate = try GatewayCertificate(canonicalBytes: bytes[0..<bodyLength])
        self.bytes = bytes
    }

    /// Signs `certificate` with the root key (whose id must be the certificate's issuer).
    public static func sign(
        _ certificate: GatewayCertificate,
        with root: SigningIdentity
    ) throws(IdentityError) -> SignedGatewayCertificate {
        let body = certificate.canonicalBytes()
        let signature = try root.sign(body)
        return SignedGatewayCertificate(certificate: certificate, bytes: body + signature, bodyLength: body.count)
    }

    private init(certificate: GatewayCertificate, bytes: [UInt8], bodyLength: Int) {
        self.certificate = certificate
        self.bytes = bytes
        self.bodyLength = bodyLength
    }

    /// True when `root` is the issuer and its signature verifies.
    public func isSignatureValid(by root: PublicIdentity) -> Bool {
        root.id == certificate.issuer && root.isValidSignature(signature, for: body)
    }

    /// The certificate file: a PEM-style armour around the base64 bytes.
    public var fileText: String {
        Self.pemHeader + "\n"
            + Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n"
            + Self.pemFooter + "\n"
    }

    static let pemHeader = "-----BEGIN GRIDLEDGER GATEWAY CERTIFICATE-----"
    static let pemFooter = "-----END GRIDLEDGER GATEWAY CERTIFICATE-----"

    /// Parses a certificate file (`fileText`), or a bare base64 string.
    public init(fileText text: String) throws(RecordDecodingError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        let body: String
        if let start = lines.firstIndex(of: Self.pemHeader) {
            guard let end = lines.firstIndex(of: Self.pemFooter), start < end else {
                throw .invalidField(field: "certificate file", reason: "no '\(Self.pemFooter)' line")
            }
            body = lines[(start + 1)..<end].joined()
        } else {
            body = lines.joined()
        }
        guard let raw = Data(base64Encoded: body) else {
            throw .invalidField(field: "certificate file", reason: "not base64")
        }
        try self.init(bytes: Array(raw))
    }
}
