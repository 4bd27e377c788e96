import ArgumentParser
import Foundation
import LedgerLite
import LedgerStore
import OperatorKit

/// The flags of a command that speaks to the gateway as one meter: the meter's key, the
/// gateway's URL and how to trust it (`offer`, `request`, `readings`, `receipt`).
struct MeterGatewayOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The meter's private key (from `meter-agent keygen`); requests are signed as this meter."
    )
    var key: String

    @Option(name: .long, help: "Gateway base URL, e.g. http://127.0.0.1:8080.")
    var gateway: String

    @OptionGroup(title: "Gateway TLS") var gatewayTrust: GatewayTrustOptions

    func validate() throws {
        guard let url = URL(string: gateway), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false
        else {
            throw ValidationError(
                "--gateway '\(gateway)' is not an http:// or https:// URL, e.g. http://127.0.0.1:8080"
            )
        }
    }

    var gatewayURL: URL { URL(string: gateway)! }  // checked by validate()

    /// The meter's key, or one line saying what is wrong with the file.
    func identity() throws -> SigningIdentity {
        do {
            return try KeyFile.readPrivateKey(from: key)
        } catch {
            throw OperatorError("cannot use --key: \(error) (make a meter key with `meter-agent keygen --out FILE`)")
        }
    }
}
