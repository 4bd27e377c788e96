import AgentCore
import ArgumentParser
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import MeterEmulator
import OperatorKit

/// The flags `offer` and `request` share: who signs, where it goes, how much, which number.
struct TradeOptions: ParsableArguments {
    @OptionGroup var meter: MeterGatewayOptions

    @Option(
        name: .customLong("energy-wh"),
        help: "Energy in watt-hours, a whole number of at least 1.",
        transform: TradeOptions.energy
    )
    var energyWh: UInt64

    @Option(
        name: .long,
        help: """
            The meter's offer/request number; each must be higher than the meter's previous one \
            (gaps are fine). Default: the current Unix time in milliseconds, which keeps rising \
            from run to run as long as the clock does not go back.
            """
    )
    var sequence: UInt64?

    @Flag(name: .long, help: "Print the gateway's answer as one JSON object instead of text.")
    var json = false

    static func energy(_ text: String) throws -> UInt64 {
        guard let value = UInt64(text), value >= 1 else {
            throw ValidationError("--energy-wh must be a whole number of watt-hours, at least 1, not '\(text)'")
        }
        return value
    }

    func validate() throws {
        if sequence == 0 { throw ValidationError("--sequence must be at least 1") }
    }

    var gatewayURL: URL { meter.gatewayURL }

    /// The meter's key, or one line saying what is wrong with the file.
    func identity() throws -> SigningIdentity { try meter.identity() }

    /// Sends a signed record with `send`, prints the report of the answer (or of the
    /// failure) and exits with its status.
    func submit<Response: Sendable>(
        _ send: (TradeClient) async throws(TradeError) -> Response,
        report: (Response, _ json: Bool) throws -> TradeReport
    ) async throws {
        let tls = try meter.gatewayTrust.clientTLS()
        let outcome: Result<Response, TradeError> = try await GatewayClient.withClient(base: gatewayURL, tls: tls) {
            http in
            do throws(TradeError) {
                let client = TradeClient(http: http)
                return .success(
                    try await RetryAfterPatience().run(
                        { () async throws(TradeError) -> Response in try await send(client) },
                        retryAfter: \.retryAfter
                    )
                )
            } catch {
                return .failure(error)
            }
        }
        let result =
            switch outcome {
            case .success(let response): try report(response, json)
            case .failure(let error): TradeReport.failed(error)
            }
        if let output = result.output { print(output) }
        if let error = result.error { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
        if result.exit != .success { throw ExitCode(result.exit.rawValue) }
    }
}

private let exitStatusHelp = """
    Exit status: 0 accepted/served (also when the gateway already had this very record), \
    3 unserved (request only), 4 try again later (gateway unreachable or busy), \
    1 rejected or another error (the message says why and what to do), 64 a bad flag.
    """

/// `meter-agent offer`: a producer's signed offer of energy.
struct OfferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offer",
        abstract: "Offer a producer meter's energy to the gateway's market, signed with the meter's key.",
        discussion: """
            Signs an Offer (producer = the key's meter, --energy-wh, valid from now for \
            --valid-for) and posts it to the gateway (POST /v1/offers). The gateway credits \
            at most what it has metered from this meter; it says what it credited, what it \
            cut, what the producer now has available and the block the offer goes into. \
            The meter must be enrolled as a producer.

            \(exitStatusHelp)

              meter-agent offer --key pv.key --gateway http://127.0.0.1:8080 --energy-wh 500
            """
    )

    @OptionGroup var trade: TradeOptions

    @Option(name: .customLong("valid-for"), help: "How long the offer stands, from now (e.g. 15m, 1h; 1s to 7d).")
    var validFor = DurationArgument(.seconds(15 * 60), text: "15m")

    func validate() throws {
        guard validFor.duration >= .seconds(1), validFor.duration <= .seconds(7 * 86_400) else {
            throw ValidationError("--valid-for must be between 1s and 7d, not \(validFor)")
        }
    }

    func run() async throws {
        let identity = try trade.identity()
        let now = TradeSequence.nowMilliseconds()
        let offer: Offer
        do {
            offer = try Offer(
                producer: identity.id,
                sequence: trade.sequence ?? TradeSequence.next(after: nil),
                energyWh: trade.energyWh,
                validFrom: now,
                validUntil: now + Int64(validFor.duration.milliseconds)
            )
        } catch {
            throw OperatorError("cannot make the offer: \(error)")
        }
        let signed = try SignedRecord.sign(.offer(offer), with: identity)
        try await trade.submit(
            { client throws(TradeError) in try await client.offer(signed) },
            report: TradeReport.offer
        )
    }
}

/// `meter-agent request`: a consumer's signed request for energy.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Ask the gateway for energy for a consumer meter, signed with the meter's key.",
        discussion: """
            Signs an EnergyRequest (consumer = the key's meter, --energy-wh, now) and posts it \
            to the gateway (POST /v1/requests). The gateway decides by the TNT rule: the \
            producer with the fewest served requests among those with enough energy. It \
            prints the producer(s), the amount, each producer's TNT before → after and the \
            block; or that the request went unserved, and why. The meter must be enrolled as \
            a consumer.

            \(exitStatusHelp)

              meter-agent request --key house.key --gateway http://127.0.0.1:8080 --energy-wh 300
            """
    )

    @OptionGroup var trade: TradeOptions

    func run() async throws {
        let identity = try trade.identity()
        let request: EnergyRequest
        do {
            request = try EnergyRequest(
                consumer: identity.id,
                sequence: trade.sequence ?? TradeSequence.next(after: nil),
                energyWh: trade.energyWh,
                timestamp: TradeSequence.nowMilliseconds()
            )
        } catch {
            throw OperatorError("cannot make the request: \(error)")
        }
        let signed = try SignedRecord.sign(.request(request), with: identity)
        try await trade.submit(
            { client throws(TradeError) in try await client.request(signed) },
            report: TradeReport.request
        )
    }
}
