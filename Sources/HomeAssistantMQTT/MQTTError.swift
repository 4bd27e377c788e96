/// What went wrong with the MQTT broker or client, in one line for the operator.
public enum MQTTError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The `--mqtt` URL (or the agent file's `mqtt.url`) is not one the agent can use.
    case badURL(String)
    /// libmosquitto refused a call: the call, its error number and its text.
    case library(call: String, code: Int32, message: String)
    /// A setting libmosquitto cannot use, e.g. a CA file that is not there.
    case setting(String)

    public var description: String {
        switch self {
        case .badURL(let line), .setting(let line): line
        case .library(let call, let code, let message): "\(call) failed: \(message) (libmosquitto error \(code))"
        }
    }
}
