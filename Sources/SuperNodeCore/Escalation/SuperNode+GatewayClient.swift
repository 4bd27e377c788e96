import Foundation
import GridAPI

extension SuperNode {
    /// The typed client for the gateway at `base`, trusting its certificate as
    /// `serve --gateway-ca` says (the system's CAs without it).
    func gatewayClient(_ base: URL) -> GatewayClient {
        GatewayClient(base: base, tls: gatewayTLS)
    }
}
