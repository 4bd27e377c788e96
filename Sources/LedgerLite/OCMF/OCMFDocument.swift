import Crypto
import Foundation

/// A signed OCMF document (Open Charge Metering Format, SAFE e.V.):
/// `OCMF|{payload}|{signature}`, where the signature is ECDSA over the payload section's
/// exact bytes (SHA-256, secp256r1, DER, hex). `text` is kept verbatim: a payload is never
/// re-encoded before verifying.
///
/// GridLedger's meter agent signs these as the meter's signing component. It is not a
/// certified measuring instrument: the documents are not conformant with calibration law
/// (eichrechtskonform), whatever a viewer makes of their format.
public struct OCMFDocument: Hashable, Sendable {
    /// The longest OCMF string accepted, in bytes of UTF-8.
    public static let maxTextBytes = 4096
    /// The signature algorithm GridLedger writes and accepts (`SA`).
    public static let signatureAlgorithm = "ECDSA-secp256r1-SHA256"
    /// Most readings one document may carry.
    public static let maxReadings = 16

    /// The whole OCMF string, exactly as signed and sent.
    public let text: String
    /// The payload section: the exact bytes the signature covers.
    public let payloadText: Substring
    /// The payload's fields.
    public let payload: OCMFPayload
    /// The ECDSA signature, DER (`SD`, hex in the text).
    public let signature: [UInt8]

    /// Signs `payload` with `key` (a random ECDSA nonce, so two signatures of one payload differ).
    public static func sign(_ payload: OCMFPayload, with key: P256.Signing.PrivateKey) throws -> OCMFDocument {
        let json = payload.json()
        let der = Array(try key.signature(for: Array(json.utf8)).derRepresentation)
        let text =
            "OCMF|\(json)|{\"SA\":\"\(signatureAlgorithm)\",\"SE\":\"hex\",\"SM\":\"application/x-der\",\"SD\":\"\(encodeHex(der).uppercased())\"}"
        return try OCMFDocument(parsing: text)
    }

    /// Parses an OCMF string, keeping it verbatim.
    /// - Throws: `OCMFError` when it is longer than `maxTextBytes`, is not three sections
    ///   `OCMF|…|…`, a section is not the JSON OCMF defines, the pagination is not a
    ///   transaction counter `T1`, `T2`, …, a time or a value is out of range, or the
    ///   signature is not ECDSA-secp256r1-SHA256 in hex DER. The signature itself is not
    ///   checked: use `isSignatureValid(by:)`.
    public init(parsing text: String) throws(OCMFError) {
        guard text.utf8.count <= Self.maxTextBytes else {
            throw .tooLong(bytes: text.utf8.count, limit: Self.maxTextBytes)
        }
        let sections = text.split(separator: "|", omittingEmptySubsequences: false)
        guard sections.count == 3, sections[0] == "OCMF" else {
            throw .malformed("an OCMF string is three sections OCMF|{payload}|{signature}")
        }
        let decoder = JSONDecoder()
        let rawPayload: RawPayload
        let rawSignature: RawSignature
        do {
            rawPayload = try decoder.decode(RawPayload.self, from: Data(sections[1].utf8))
        } catch {
            throw .malformed("the payload section is not OCMF's JSON: \(error)")
        }
        do {
            rawSignature = try decoder.decode(RawSignature.self, from: Data(sections[2].utf8))
        } catch {
            throw .malformed("the signature section is not OCMF's JSON: \(error)")
        }
        guard rawSignature.SA == nil || rawSignature.SA == Self.signatureAlgorithm else {
            throw .unsupported("signature algorithm \(rawSignature.SA ?? "")")
        }
        guard rawSignature.SE == nil || rawSignature.SE == "hex" else {
            throw .unsupported("signature encoding \(rawSignature.SE ?? "")")
        }
        guard rawSignature.SM == nil || rawSignature.SM == "application/x-der" else {
            throw .unsupported("signature mime type \(rawSignature.SM ?? "")")
        }
        guard rawSignature.SD.count <= 160, let der = decodeHex(rawSignature.SD.lowercased()),
            (try? P256.Signing.ECDSASignature(derRepresentation: der)) != nil
        else { throw .malformed("SD is not a hex DER ECDSA signature") }
        self.text = text
        self.payloadText = sections[1]
        self.payload = try OCMFPayload(rawPayload)
        self.signature = der
    }

    /// True when the signature verifies over the payload section's exact bytes with `key`.
    public func isSignatureValid(by key: P256.Signing.PublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: Array(payloadText.utf8))
    }

    /// SHA-256 of the string's UTF-8 bytes: what an `OCMFCommitment` commits to.
    public var hash: Hash256 { Hash256.sha256(Array(text.utf8)) }

    /// Why this document does not match `commitment`, or nil when it does: its hash, the
    /// meter (`MS`, the meter id in hex), the pagination, readings that begin (`B`) no
    /// earlier than a day before the period and end (`E`) within it, no later than it ends,
    /// and the ECDSA signature under the committed key.
    public func mismatch(with commitment: OCMFCommitment) -> String? {
        guard hash == commitment.ocmfHash else {
            return "the OCMF string's SHA-256 is \(hash.hex), the commitment names \(commitment.ocmfHash.hex)"
        }
        guard payload.meterSerial == commitment.meter.hex else {
            return
                "the document names meter serial '\(payload.meterSerial)', the commitment meter \(commitment.meter.hex)"
        }
        guard payload.pagination == commitment.pagination else {
            return "the document's pagination is T\(payload.pagination), the commitment's T\(commitment.pagination)"
        }
        let begins = payload.readings.filter { $0.transaction == "B" }
        let ends = payload.readings.filter { $0.transaction == "E" }
        guard !begins.isEmpty, !ends.isEmpty else {
            return "the document needs a begin (TX B) and an end (TX E) reading"
        }
        // periodStart ≥ 0 (the commitment checks it), so this cannot overflow.
        let earliest = commitment.periodStart - OCMFCommitment.maxPeriodMilliseconds
        for b in begins where b.time < earliest || b.time >= commitment.periodEnd {
            return
                "a begin reading at \(b.time) ms lies outside the period \(commitment.periodStart)…\(commitment.periodEnd)"
        }
        for e in ends where e.time < commitment.periodStart || e.time >= commitment.periodEnd {
            return
                "an end reading at \(e.time) ms lies outside the period \(commitment.periodStart)…\(commitment.periodEnd)"
        }
        guard isSignatureValid(by: commitment.signingKey) else {
            return "the OCMF signature does not verify with the committed P-256 key (altered or forged)"
        }
        return nil
    }

    fileprivate struct RawPayload: Decodable {
        var FV: String?
        var GI: String?
        var GS: String?
        var GV: String?
        var PG: String
        var MS: String
        var RD: [RawReading]
    }

    fileprivate struct RawReading: Decodable {
        var TM: String
        var TX: String?
        var RV: Double?
        var RI: String?
        var RU: String?
        var ST: String?
    }

    fileprivate struct RawSignature: Decodable {
        var SA: String?
        var SE: String?
        var SM: String?
        var SD: String
    }
}

extension OCMFPayload {
    fileprivate init(_ raw: OCMFDocument.RawPayload) throws(OCMFError) {
        guard raw.PG.first == "T", raw.PG.count >= 2, raw.PG.count <= 20, raw.PG.dropFirst().first != "0",
            raw.PG.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(raw.PG.dropFirst())
        else { throw .malformed("PG '\(raw.PG)' is not a transaction pagination T1, T2, …") }
        guard !raw.RD.isEmpty, raw.RD.count <= OCMFDocument.maxReadings else {
            throw .malformed("RD holds \(raw.RD.count) readings; 1…\(OCMFDocument.maxReadings) are accepted")
        }
        var readings: [OCMFReading] = []
        var register: String?
        var unit: String?
        var status: String?
        for r in raw.RD {
            // OCMF omits a field that repeats the previous reading's value.
            register = r.RI ?? register
            unit = r.RU ?? unit
            status = r.ST ?? status
            guard let (time, timeStatus) = OCMFTime.parse(r.TM) else {
                throw .malformed("TM '\(r.TM)' is not OCMF's time notation (2026-06-21T11:15:00,000+0000 I)")
            }
            guard let value = r.RV, let register, let unit, let status, let state = status.first, status.count == 1
            else {
                throw .malformed("a reading needs RV, RI, RU and ST")
            }
            let scale: Double
            switch unit {
            case "kWh": scale = 1000
            case "Wh": scale = 1
            default: throw .unsupported("reading unit \(unit)")
            }
            let wh = (value * scale).rounded()
            guard wh.isFinite, wh.magnitude <= Double(OCMFReading.maxValueWh) else {
                throw .malformed("RV \(value) \(unit) is out of range")
            }
            let transaction = r.TX.flatMap { $0.count == 1 ? $0.first : nil } ?? "C"
            readings.append(
                OCMFReading(
                    time: time,
                    timeStatus: timeStatus,
                    transaction: transaction,
                    valueWh: Int64(wh),
                    register: register,
                    status: state
                )
            )
        }
        self.init(
            gatewayIdentification: raw.GI ?? "",
            gatewayVersion: raw.GV,
            pagination: number,
            meterSerial: raw.MS,
            readings: readings
        )
        formatVersion = raw.FV ?? ""
    }
}

/// Why an OCMF string was refused.
public enum OCMFError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Longer than `OCMFDocument.maxTextBytes`.
    case tooLong(bytes: Int, limit: Int)
    /// Not OCMF's structure or JSON, or a field out of range.
    case malformed(String)
    /// A valid OCMF choice GridLedger does not take (another curve, encoding or unit).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .tooLong(bytes, limit): return "the OCMF string is \(bytes) bytes, more than the limit of \(limit)"
        case let .malformed(detail): return "malformed OCMF: \(detail)"
        case let .unsupported(detail): return "unsupported OCMF: \(detail)"
        }
    }
}
