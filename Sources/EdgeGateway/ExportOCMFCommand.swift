import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import LedgerStore
import OperatorKit

/// `edge-gateway export ocmf`: the OCMF documents a meter signed, as OCMF tools read them.
struct ExportOCMFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocmf",
        abstract:
            "Write the signed OCMF documents of a meter for a time window, with the chain entries that prove them.",
        discussion: """
            One OCMF string (OCMF|{payload}|{signature}) per line, exactly as the meter agent \
            signed it, for every settlement period of --meter that lies within --from … --until. \
            Lines starting with # say which P-256 public key verifies the lines after them \
            (ECDSA-secp256r1-SHA256; hex of its DER SubjectPublicKeyInfo, the form OCMF tools \
            such as the S.A.F.E. transparency software take) and, for each document, its \
            pagination, period and the chain entry (index and block height) of the commitment \
            the meter signed with its enrolled key: `edge-gateway verify` and a receipt of that \
            entry prove the gateway received exactly this string.

            The meter agent signs as the meter's signing component; it is not a certified \
            measuring instrument, and the documents are not conformant with calibration law.

              edge-gateway export ocmf --data DIR --meter ID --from 2026-06-01 --until 2026-07-01 --out june.ocmf
            """
    )

    @OptionGroup var data: DataOption

    @Option(name: .long, help: ArgumentHelp("The meter's id (32 hex digits).", valueName: "id"))
    var meter: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Start of the window: a date (UTC midnight) or an ISO 8601 time with a zone.",
            valueName: "time"
        )
    )
    var from: Time

    @Option(name: .long, help: ArgumentHelp("End of the window (exclusive), as --from.", valueName: "time"))
    var until: Time

    @Option(name: .long, help: ArgumentHelp("Write to FILE instead of standard output.", valueName: "file"))
    var out: String?

    /// `--from` and `--until`: a date (`2026-06-01`, midnight UTC) or an ISO 8601 time with a zone.
    struct Time: ExpressibleByArgument {
        var milliseconds: Int64
        init?(argument: String) {
            guard let ms = ReadingVersionPolicy.parseCutoff(argument) else { return nil }
            milliseconds = ms
        }
    }

    func validate() throws {
        guard MeterID(hex: meter) != nil else {
            throw ValidationError("--meter '\(meter)' is not a meter id: 32 hex digits (edge-gateway enroll prints it)")
        }
        guard from.milliseconds < until.milliseconds else { throw ValidationError("--from must be before --until") }
    }

    func run() throws {
        let meterID = MeterID(hex: meter)!
        let chain = try ReadOnlyChain(data.directory)
        let export = try OCMFExport(chain: chain, meter: meterID, from: from.milliseconds, until: until.milliseconds)
        let window =
            "\(ReadingVersionPolicy.format(from.milliseconds)) … \(ReadingVersionPolicy.format(until.milliseconds))"
        guard !export.rows.isEmpty else {
            throw OperatorError(
                "no OCMF documents of meter \(meter) with a period within \(window) in \(data.directory.path); its agent signs them only with an OCMF key (meter-agent keygen --ocmf)"
            )
        }
        var lines = [
            "# OCMF documents of meter \(meterID.hex), periods within \(window), gateway \(chain.gatewayKey.id.hex)",
            "# signed by the GridLedger meter agent as the meter's signing component: not a certified measuring instrument, not conformant with calibration law",
        ]
        var key: String?
        for row in export.rows {
            let rowKey = OCMFKeyFile.publicKeyHex(row.commitment.signingKey)
            if rowKey != key {
                lines.append("# public key ECDSA-secp256r1 (hex of DER SubjectPublicKeyInfo): \(rowKey)")
                key = rowKey
            }
            let place =
                row.height.map { "chain entry \(row.document.index) in block \($0)" }
                ?? "chain entry \(row.document.index), acknowledged, waiting for the next block"
            lines.append(
                "# T\(row.commitment.pagination) period \(ReadingVersionPolicy.format(row.commitment.periodStart)) … \(ReadingVersionPolicy.format(row.commitment.periodEnd)): \(place)"
            )
            lines.append(row.document.text)
        }
        let text = lines.joined(separator: "\n") + "\n"
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else {
                throw OperatorError("cannot write \(out); check that its directory exists and is writable")
            }
        } else {
            print(text, terminator: "")
        }
        var stderr = StandardError()
        print(
            "exported \(export.rows.count) OCMF documents of meter \(meterID.hex)"
                + (out.map { " to \($0)" } ?? "")
                + (export.orphans > 0
                    ? "; \(export.orphans) archived strings whose commitment is not on the chain were left out" : ""),
            to: &stderr
        )
    }
}
