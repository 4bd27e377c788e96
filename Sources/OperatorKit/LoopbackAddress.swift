/// Which addresses only this machine reaches: 127.0.0.0/8, ::1 (and its IPv4-mapped and
/// spelled-out forms) and the name localhost.
public enum LoopbackAddress {
    /// True when `address` (a host name or IP address, without brackets) is loopback.
    public static func contains(_ address: String?) -> Bool {
        guard let lower = address?.lowercased() else { return false }
        return lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" || lower.hasPrefix("127.")
            || lower.hasPrefix("::ffff:127.")
    }
}
