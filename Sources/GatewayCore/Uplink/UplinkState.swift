/// Where the uplink stands: `connected` (the last exchange worked), `retrying` (the super
/// node cannot be reached; backing off), `refused` (it answered with a refusal).
package enum UplinkState: String, Codable, Sendable {
    case starting, connected, retrying, refused
}
