import AgentCore
import ArgumentParser
import Foundation
import GridAPI
import OperatorKit

private let householdReadHelp = """
    A gateway that listens beyond loopback serves a meter's readings and receipts only to the \
    operator or to the meter itself: this command signs its request with the meter's key \
    (a GridLedger-Signature request stamp over the route, with the time and a fresh nonce; \
    docs/GATEWAY.md, "Household data"). Exit status: 0 the answer was printed or written; \
    4 try again later (gateway unreachable, busy or throttling); 1 refused (the message says \
    why), 64 a bad flag.
    """

/// `meter-agent readings`: the meter's own readings, as the gateway holds them.
struct ReadingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readings",
        abstract: "Print a meter's readings as the gateway holds them, asking as the meter (signed with its key).",
        discussion: """
            GET /v1/meters/{id}/readings for the key's meter; prints the gateway's JSON.

            \(householdReadHelp)

              meter-agent readings --key house.key --gateway https://gw.example:8443 --from 2026-12-01T00:00:00Z
            """
    )

    @OptionGroup var meter: MeterGatewayOptions

    @Option(help: "The first time: ms since the Unix epoch, or ISO 8601 (2026-01-01T00:00:00Z). Default: the first.")
    var from: String?

    @Option(help: "The last time, in the same form as --from. Default: the latest.")
    var until: String?

    @Option(help: "At most this many readings (1 to 10000; the gateway's default is 1000).")
    var limit: Int?

    func validate() throws {
        if let limit, !(1...10_000).contains(limit) { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        let identity = try meter.identity()
        let signer = RequestSigner(key: identity, clock: { TradeSequence.nowMilliseconds() })
        let body = try await HouseholdRead.fetch(meter) { client throws(GridAPIError) in
            try await client.meterReadings(
                ofMeter: identity.id.hex,
                from: from,
                until: until,
                limit: limit,
                credential: .meter(signer),
                timeout: .seconds(30)
            )
        }
        FileHandle.standardOutput.write(body + Data("\n".utf8))
    }
}

/// `meter-agent receipt`: the proof that one of the meter's readings is on the chain.
struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Fetch the receipt of one of a meter's readings, asking as the meter (signed with its key).",
        discussion: """
            GET /v1/readings/{meter}/{seq}/receipt for the key's meter: the reading, its \
            Merkle proof, the block header and the super node's checkpoint. Check it offline \
            with `edge-gateway verify-receipt FILE --root-key root.key.pub`.

            \(householdReadHelp)

              meter-agent receipt --key house.key --gateway https://gw.example:8443 --seq 42 --out receipt.json
            """
    )

    @OptionGroup var meter: MeterGatewayOptions

    @Option(name: .customLong("seq"), help: "The reading's sequence number.")
    var sequence: UInt64

    @Option(help: "Write the receipt to this file instead of standard output.")
    var out: String?

    func run() async throws {
        let identity = try meter.identity()
        let signer = RequestSigner(key: identity, clock: { TradeSequence.nowMilliseconds() })
        let body = try await HouseholdRead.fetch(meter) { client throws(GridAPIError) in
            try await client.receipt(
                ofMeter: identity.id.hex,
                sequence: sequence,
                credential: .meter(signer),
                timeout: .seconds(30)
            )
        }
        guard let out else {
            FileHandle.standardOutput.write(body + Data("\n".utf8))
            return
        }
        do { try body.write(to: URL(fileURLWithPath: out)) } catch {
            throw OperatorError("cannot write \(out): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("receipt of reading \(sequence) written to \(out)\n".utf8))
    }
}

/// One signed read through a client of its own, with failures as one line and exit 4 for
/// "try later".
enum HouseholdRead {
    static func fetch(
        _ options: MeterGatewayOptions,
        _ call: @escaping @Sendable (GatewayClient) async throws(GridAPIError) -> Data
    ) async throws -> Data {
        let tls = try options.gatewayTrust.clientTLS()
        let outcome: Result<Data, GridAPIError> = try await GatewayClient.withClient(
            base: options.gatewayURL,
            tls: tls
        ) { client in
            do throws(GridAPIError) {
                return .success(
                    try await RetryAfterPatience().run(
                        { () async throws(GridAPIError) -> Data in try await call(client) },
                        retryAfter: \.retryAfter
                    )
                )
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let body):
            return body
        case .failure(let error):
            FileHandle.standardError.write(Data("Error: \(Self.describe(error))\n".utf8))
            let later = error.status == nil || error.status == 429 || error.status == 503
            throw ExitCode(later ? 4 : 1)
        }
    }

    private static func describe(_ error: GridAPIError) -> String {
        switch error {
        case .transport(let url, let error):
            return "cannot reach the gateway at \(url) (\(TradeError.describe(error))); check --gateway"
        case .status(let status, let url, _, let detail, let body, _):
            let said = detail ?? TradeError.gist(of: body)
            return "\(url) answered HTTP \(status): \(said)"
        case .undecodable:
            return "\(error); check that meter-agent and edge-gateway are of the same version"
        }
    }
}
